"""Language tags as Kodi writes them: ISO 639-2/B three-letter codes.

Files and file names carry languages in every form (``en``, ``eng``, ``fra``, ``pt-BR``, ``English``),
but Kodi's ``<streamdetails>`` and its subtitle matching speak the bibliographic 639-2 codes (``fre``,
``ger``, ``chi``). Normalising once, here, keeps the probe, the sidecar parser and the NFO writer in
agreement, and lets the scan compare what a file says with what Kodi will show.
"""

from __future__ import annotations

import re

# (ISO 639-1, ISO 639-2/B, English name). Not every language: the ones movie files and subtitle
# names really use. An unknown two-letter code maps to "" rather than a guess.
_LANGUAGES: tuple[tuple[str, str, str], ...] = (
    ("af", "afr", "afrikaans"), ("am", "amh", "amharic"), ("ar", "ara", "arabic"),
    ("az", "aze", "azerbaijani"), ("be", "bel", "belarusian"), ("bg", "bul", "bulgarian"),
    ("bn", "ben", "bengali"), ("bo", "tib", "tibetan"), ("br", "bre", "breton"),
    ("bs", "bos", "bosnian"), ("ca", "cat", "catalan"), ("cs", "cze", "czech"),
    ("cy", "wel", "welsh"), ("da", "dan", "danish"), ("de", "ger", "german"),
    ("el", "gre", "greek"), ("en", "eng", "english"), ("eo", "epo", "esperanto"),
    ("es", "spa", "spanish"), ("et", "est", "estonian"), ("eu", "baq", "basque"),
    ("fa", "per", "persian"), ("fi", "fin", "finnish"), ("fo", "fao", "faroese"),
    ("fr", "fre", "french"), ("ga", "gle", "irish"), ("gd", "gla", "gaelic"),
    ("gl", "glg", "galician"), ("gu", "guj", "gujarati"), ("he", "heb", "hebrew"),
    ("hi", "hin", "hindi"), ("hr", "hrv", "croatian"), ("hu", "hun", "hungarian"),
    ("hy", "arm", "armenian"), ("id", "ind", "indonesian"), ("is", "ice", "icelandic"),
    ("it", "ita", "italian"), ("ja", "jpn", "japanese"), ("ka", "geo", "georgian"),
    ("kk", "kaz", "kazakh"), ("km", "khm", "khmer"), ("kn", "kan", "kannada"),
    ("ko", "kor", "korean"), ("ku", "kur", "kurdish"), ("la", "lat", "latin"),
    ("lb", "ltz", "luxembourgish"), ("lo", "lao", "lao"), ("lt", "lit", "lithuanian"),
    ("lv", "lav", "latvian"), ("mi", "mao", "maori"), ("mk", "mac", "macedonian"),
    ("ml", "mal", "malayalam"), ("mn", "mon", "mongolian"), ("mr", "mar", "marathi"),
    ("ms", "may", "malay"), ("mt", "mlt", "maltese"), ("my", "bur", "burmese"),
    ("nb", "nob", "norwegian bokmal"), ("ne", "nep", "nepali"), ("nl", "dut", "dutch"),
    ("nn", "nno", "norwegian nynorsk"), ("no", "nor", "norwegian"), ("pa", "pan", "punjabi"),
    ("pl", "pol", "polish"), ("ps", "pus", "pashto"), ("pt", "por", "portuguese"),
    ("ro", "rum", "romanian"), ("ru", "rus", "russian"), ("si", "sin", "sinhala"),
    ("sk", "slo", "slovak"), ("sl", "slv", "slovenian"), ("so", "som", "somali"),
    ("sq", "alb", "albanian"), ("sr", "srp", "serbian"), ("sv", "swe", "swedish"),
    ("sw", "swa", "swahili"), ("ta", "tam", "tamil"), ("te", "tel", "telugu"),
    ("th", "tha", "thai"), ("tl", "tgl", "tagalog"), ("tr", "tur", "turkish"),
    ("uk", "ukr", "ukrainian"), ("ur", "urd", "urdu"), ("uz", "uzb", "uzbek"),
    ("vi", "vie", "vietnamese"), ("yi", "yid", "yiddish"), ("zh", "chi", "chinese"),
    ("zu", "zul", "zulu"),
)

# The twenty languages whose terminology (T) code differs from the bibliographic (B) one Kodi uses.
_T_TO_B = {
    "sqi": "alb", "hye": "arm", "eus": "baq", "mya": "bur", "zho": "chi", "ces": "cze", "nld": "dut",
    "fra": "fre", "kat": "geo", "deu": "ger", "ell": "gre", "isl": "ice", "mkd": "mac", "mri": "mao",
    "msa": "may", "fas": "per", "ron": "rum", "slk": "slo", "bod": "tib", "cym": "wel",
}
# Codes that say "no particular language": Kodi shows nothing for them, so neither do we.
_NO_LANGUAGE = frozenset({"und", "unk", "zxx", "mis", "qaa"})
# Three-letter codes outside the table that still turn up in releases and file names.
_EXTRA_CODES = frozenset({"fil", "yue", "cmn", "nan", "hak", "wuu", "gsw", "haw", "mul", "sgn"})

_FROM_639_1 = {two: b for two, b, _ in _LANGUAGES}
_FROM_NAME = {name: b for _, b, name in _LANGUAGES} | {
    "farsi": "per", "mandarin": "chi", "cantonese": "chi", "brazilian": "por", "flemish": "dut",
    "castilian": "spa", "norwegian bokmål": "nob", "bokmal": "nob", "bokmål": "nob",
}
_KNOWN_639_2 = frozenset(_FROM_639_1.values()) | frozenset(_T_TO_B) | _EXTRA_CODES
_SUBTAG = re.compile(r"[-_]")


def to_iso639_2(code: str) -> str:
    """Return the ISO 639-2/B code for ``code``, or "" when it names no known language.

    Three-letter codes are trusted as given (a file may carry any of the ~480), apart from T→B. A
    regional or script subtag (``pt-BR``, ``zh_Hans``) is dropped because Kodi's codes have none.
    """
    text = code.strip().lower()
    if not text:
        return ""
    if text in _FROM_NAME:
        return _FROM_NAME[text]
    primary = _SUBTAG.split(text, maxsplit=1)[0]
    if primary in _NO_LANGUAGE:
        return ""
    if len(primary) == 2:
        return _FROM_639_1.get(primary, "")
    if len(primary) == 3 and primary.isascii() and primary.isalpha():
        return _T_TO_B.get(primary, primary)
    return _FROM_NAME.get(primary, "")


def is_language_token(token: str) -> bool:
    """Whether a dot-separated piece of a sidecar name (``en``, ``fre``, ``pt-BR``) names a language.

    Stricter than :func:`to_iso639_2`: a file name is full of three-letter words (``sdh``, ``dts``,
    ``eng``), so only codes from the table count, never an arbitrary three-letter token.
    """
    text = token.strip().lower()
    if text in _FROM_NAME:
        return True
    primary = _SUBTAG.split(text, maxsplit=1)[0]
    if primary != text and not _valid_subtags(text):
        return False
    return primary in _FROM_639_1 or primary in _KNOWN_639_2


def _valid_subtags(text: str) -> bool:
    """BCP 47 region (``BR``, ``419``) and script (``Hans``) subtags only, so a release word glued
    to a code (``en-cut``) is not mistaken for a language."""
    for part in _SUBTAG.split(text)[1:]:
        region = (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit())
        script = len(part) == 4 and part.isalpha()
        if not (part.isascii() and (region or script)):
            return False
    return True
