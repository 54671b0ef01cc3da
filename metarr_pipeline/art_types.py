"""The artwork types, one row each: every per-type fact lives here so the stages cannot drift apart.

A type's facts used to sit wherever a stage needed them (scoring's ideal sizes, the candidates' provider
mapping, config's default counts, publish's Kodi names), so adding or retuning a type meant finding them all.
Each stage now reads its columns of ``ART_TYPES`` (DOMAIN §4, KODI.md):

- candidates: ``sources``, the provider lists that feed the type (and fanart.tv's nominal sizes);
- scoring: ``ideal_width`` × ``ideal_height`` (resolution and aspect parts), ``textless_first`` (language ladder);
- selection: ``ideal_width`` (the too-small gate);
- config: ``default_count`` (``[artwork.counts]``; the user may change it, 0 disables the type);
- publish and scan: ``kodi_name`` (``Movie-<kodi_name>.jpg``, rank n + 1 → ``<kodi_name>n``), ``extra_folder``.

There is no extension column on purpose: an image is published under the extension of its sniffed format (a
PNG poster stays ``.png``). The table's order is the order types are shown to the user (config errors,
``metarr art``). This module imports nothing of the pipeline, so every stage may read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Source:
    """One provider list that feeds a type."""

    provider: str  # "tmdb" | "fanart", as in the candidates' provider column
    key: str  # TMDB ``images.<key>``; fanart.tv's top-level key
    textless_only: bool = False  # only images without a language (keyart: a poster without its text)
    nominal: tuple[int, int] | None = None  # fanart.tv states no size: assumed until the rendition is measured


@dataclass(frozen=True)
class ArtType:
    name: str  # our name: config keys, the candidates' type column, the CLI
    ideal_width: int
    ideal_height: int
    default_count: int
    sources: tuple[Source, ...]
    kodi_name: str  # the file-name stem Kodi looks for
    textless_first: bool = False  # art behind or without a title reads best without text
    extra_folder: str = ""  # Kodi's legacy folder of extra copies (``extrafanart/``), "" for none

    @property
    def aspect(self) -> float:
        return self.ideal_width / self.ideal_height

    def file_stem(self, rank: int) -> str:
        return _numbered(self.kodi_name, rank)


def _numbered(stem: str, rank: int) -> str:
    """Rank 1 has no number, rank n + 1 is ``<stem>n`` (Kodi's ``fanart``, ``fanart1``...)."""
    return stem if rank <= 1 else f"{stem}{rank - 1}"


def _tmdb(key: str, textless_only: bool = False) -> Source:
    return Source("tmdb", key, textless_only)


def _fanart(key: str, width: int, height: int, textless_only: bool = False) -> Source:
    return Source("fanart", key, textless_only, (width, height))


ART_TYPES: tuple[ArtType, ...] = (
    ArtType("poster", 2000, 3000, 3, (_tmdb("posters"), _fanart("movieposter", 1000, 1426)), "poster"),
    ArtType("fanart", 1920, 1080, 5, (_tmdb("backdrops"), _fanart("moviebackground", 1920, 1080)), "fanart",
            textless_first=True, extra_folder="extrafanart"),
    ArtType("clearlogo", 800, 310, 1,
            (_tmdb("logos"), _fanart("hdmovielogo", 800, 310), _fanart("movielogo", 400, 155)), "clearlogo"),
    ArtType("clearart", 1000, 562, 1,
            (_fanart("hdmovieclearart", 1000, 562), _fanart("movieclearart", 500, 281),
             _fanart("movieart", 1000, 562)), "clearart"),
    ArtType("discart", 1000, 1000, 1, (_fanart("moviedisc", 1000, 1000),), "discart"),
    ArtType("banner", 1000, 185, 1, (_fanart("moviebanner", 1000, 185),), "banner"),
    ArtType("landscape", 1920, 1080, 1, (_tmdb("backdrops"), _fanart("moviethumb", 1000, 562)), "landscape"),
    ArtType("keyart", 2000, 3000, 1,
            (_tmdb("posters", textless_only=True), _fanart("movieposter", 1000, 1426, textless_only=True)), "keyart",
            textless_first=True),
)
ART_TYPE_NAMES: tuple[str, ...] = tuple(t.name for t in ART_TYPES)
# The longest stem publish writes: scan warns when a basename leaves no room for it.
LONGEST_KODI_NAME = max((t.kodi_name for t in ART_TYPES), key=len)

# The order candidates reads each provider's lists in. It fixes the candidate frame's row order (and so the
# order previews are fetched in); every key a source names must be listed (a test checks).
_READ_ORDER: Mapping[str, tuple[str, ...]] = {
    "tmdb": ("posters", "backdrops", "logos"),
    "fanart": ("hdmovielogo", "movielogo", "hdmovieclearart", "movieclearart", "movieart", "movieposter",
               "moviebackground", "moviebanner", "moviethumb", "moviedisc"),
}

_BY_NAME: Mapping[str, ArtType] = MappingProxyType({t.name: t for t in ART_TYPES})
_FEEDS: Mapping[str, tuple[tuple[str, tuple[tuple[str, Source], ...]], ...]] = MappingProxyType({
    provider: tuple(
        (key, tuple((t.name, s) for t in ART_TYPES for s in t.sources if s.provider == provider and s.key == key))
        for key in keys)
    for provider, keys in _READ_ORDER.items()
})


def art_type(name: str) -> ArtType:
    """The row called ``name``; ``KeyError`` for a name the table does not know."""
    return _BY_NAME[name]


def default_counts() -> dict[str, int]:
    """A fresh ``{type: count}`` in table order (config copies it, then merges the user's file over it)."""
    return {t.name: t.default_count for t in ART_TYPES}


def provider_feeds(provider: str) -> tuple[tuple[str, tuple[tuple[str, Source], ...]], ...]:
    """``(key, ((type name, source), ...))`` per list of ``provider``, lists in read order, types in table order."""
    return _FEEDS.get(provider, ())


def file_stem(name: str, rank: int) -> str:
    """The file-name stem for rank ``rank`` of type ``name`` (a name outside the table keeps itself as stem)."""
    row = _BY_NAME.get(name)
    return _numbered(row.kodi_name if row else name, rank)


_KODI_ILLEGAL = str.maketrans({c: "_" for c in '/\\?:*"<>|'})


def kodi_set_folder_name(title: str) -> str:
    """The folder Kodi looks in for a movie set's art, inside its "Movie set information folder":
    ``CUtil::MakeLegalFileName(title, LEGAL_WIN32_COMPAT)`` (``/ \\ ? : * " < > |`` → ``_``, trailing dots and
    spaces trimmed). Here because publish writes that folder and the Kodi notifier reads it back."""
    return title.translate(_KODI_ILLEGAL).rstrip(". ")
