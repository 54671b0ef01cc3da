"""Movie sets (TMDB collections) in Kodi's "Movie set information folder": their art and a ``set.nfo``.

Kodi reads set artwork only from ``videolibrary.moviesetsfolder``: ``<folder>/<set title made legal>/`` holding
files named after the art type (``poster.jpg``, ``fanart.jpg``, ``clearlogo.png``...: ``GetMovieSetInfoFolder``
and the art-type lookup in ``VideoInfoScanner.cpp``), and Kodi 22 also reads a ``set.nfo`` there
(``CSetTagLoaderNFO``; ``CSetInfoTag::ParseNative`` takes ``<title>`` and ``<overview>`` of a ``<set>`` root, so
that is what we write, plus TMDB's id as a ``<uniqueid>`` Kodi ignores). The folder name is
``CUtil::MakeLegalFileName(title, LEGAL_WIN32_COMPAT)``: ``/ \\ ? : * " < > |`` become ``_`` and trailing dots
and spaces are trimmed; Kodi only looks into a folder that exists.

What is written, per set that has at least one movie in the library: the set's selected image of every type the
sets' stage chose (``artwork.sets``: poster, fanart, clearlogo, clearart, banner, landscape, discart, one each),
named ``<type>.<ext>`` with the extension of its sniffed format, copied from the blob store after verification
(a missing or damaged blob is downloaded again through the providers' session and verified), and ``set.nfo``
with the title and overview. A set the stage has not chosen art for yet gets TMDB's main poster and backdrop
(``poster_path``/``backdrop_path`` of the cached ``/collection`` answer, downloaded and verified). A manifest
(``.metarr-set.json``) in each set folder records what we wrote and its SHA-256, so only our own files are ever
replaced or removed: a user's own ``poster.jpg`` is kept and reported, and the folder of a set whose movies all
left the library loses only our files (and itself when empty). Off unless ``[publish] movie_sets_folder`` is set.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lxml import etree

from metarr_pipeline.art_types import file_stem, kodi_set_folder_name  # the Kodi notifier reads the folders too
from metarr_pipeline.blobs import BlobStore, download_blob
from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.providers.fetch import tmdb_key
from metarr_pipeline.providers.images import TMDB_IMAGE_BASE
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.publish.nfo import XML_DECLARATION, clean_xml_text
from metarr_pipeline.publish.writer import sha256_file, write_atomic
from metarr_pipeline.store import CollectionArt, Store, collection_id_of_key

log = logging.getLogger(__name__)
MANIFEST = ".metarr-set.json"


@dataclass(frozen=True)
class MovieSet:
    collection_id: int
    title: str
    overview: str
    art: tuple[CollectionArt, ...]  # the selected image of each type (none before the sets' stage ran)


@dataclass
class MovieSetsReport:
    folder: str = ""
    sets: int = 0
    written: list[str] = field(default_factory=list)  # paths below the folder
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {"sets": self.sets, "written": len(self.written), "removed": len(self.removed),
                "problems": list(self.problems)}


def wanted_sets(settings: Settings, store: Store) -> list[MovieSet]:
    """Every set with at least one movie still in the library, with the art the sets' stage selected (before
    it ran for a set: TMDB's main poster and backdrop from the cached ``/collection`` answer)."""
    library = store.library_sets()
    selection = store.collection_selection(list(library)) if library else {}
    fallback = _tmdb_main_art(settings, store, [c for c in library if c not in selection])
    return [MovieSet(c, s.title, s.overview, tuple(selection.get(c) or fallback.get(c, ())))
            for c, s in library.items()]


def _tmdb_main_art(settings: Settings, store: Store, ids: list[int]) -> dict[int, list[CollectionArt]]:
    """``poster_path`` and ``backdrop_path`` of the sets' cached TMDB answers, as not yet cached selections."""
    language = settings.languages.preferred
    answers = store.provider_responses([("tmdb_collection", tmdb_key(c, language)) for c in ids])
    out: dict[int, list[CollectionArt]] = {}
    for cid in ids:
        answer = answers.get(("tmdb_collection", tmdb_key(cid, language)))
        body = json.loads(answer.body) if answer and answer.body else {}
        for art, key in (("poster", "poster_path"), ("fanart", "backdrop_path")):
            path = body.get(key) if isinstance(body, dict) else None
            if isinstance(path, str) and path.startswith("/") and ".." not in path:
                url = f"{TMDB_IMAGE_BASE}/original{path}"  # canonical: the session maps it per request
                out.setdefault(cid, []).append(CollectionArt(cid, art, "", "tmdb", url, "", None, None, None, None, ""))
    return out


def set_nfo(movie_set: MovieSet) -> bytes:
    root = etree.Element("set")
    for tag, text in (("title", movie_set.title), ("overview", movie_set.overview)):
        if clean_xml_text(text).strip():
            etree.SubElement(root, tag).text = clean_xml_text(text).strip()
    etree.SubElement(root, "uniqueid", {"type": "tmdb", "default": "true"}).text = str(movie_set.collection_id)
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)


class _SetFolder:
    """One set's folder: its manifest of our files, and writes that never replace a file of the user's."""

    def __init__(self, root: Path, name: str, report: MovieSetsReport) -> None:
        self.folder, self.name, self.report = root / name, name, report
        try:
            self.manifest: dict[str, dict[str, str]] = json.loads((self.folder / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            self.manifest = {}

    def ours(self, file_name: str) -> bool:
        target = self.folder / file_name
        entry = self.manifest.get(file_name)
        return entry is not None and target.is_file() and sha256_file(target) == entry.get("sha256")

    def put(self, file_name: str, data: bytes, url: str = "") -> None:
        target = self.folder / file_name
        sha = hashlib.sha256(data).hexdigest()
        if target.exists() and not self.ours(file_name):
            self.report.problems.append(f"{self.name}/{file_name}: not written by metarr, kept as it is")
            return
        if not (target.is_file() and self.manifest.get(file_name, {}).get("sha256") == sha):
            write_atomic(target, data)
            self.report.written.append(f"{self.name}/{file_name}")
        self.manifest[file_name] = {"sha256": sha, "url": url}

    def prune(self, keep: set[str]) -> None:
        """Remove our files that are no longer planned (unchanged since we wrote them), then save the manifest."""
        for file_name in sorted(set(self.manifest) - keep):
            if self.ours(file_name):
                (self.folder / file_name).unlink()
                self.report.removed.append(f"{self.name}/{file_name}")
            del self.manifest[file_name]
        if self.manifest:
            data = json.dumps(self.manifest, sort_keys=True, indent=1).encode()
            path = self.folder / MANIFEST
            if not (path.is_file() and path.read_bytes() == data):  # unchanged: not rewritten (mtimes kept)
                write_atomic(path, data)
        else:
            (self.folder / MANIFEST).unlink(missing_ok=True)
            if self.folder.is_dir() and not any(self.folder.iterdir()):
                self.folder.rmdir()


def _publish_set(root: Path, movie_set: MovieSet, ctx: tuple[Settings, ProviderSession | None, BlobStore, datetime],
                 report: MovieSetsReport) -> str:
    name = kodi_set_folder_name(movie_set.title)
    folder = _SetFolder(root, name, report)
    keep = {"set.nfo"}
    folder.put("set.nfo", set_nfo(movie_set))
    for art in movie_set.art:
        stem = file_stem(art.type, 1)
        known = next((f for f, e in folder.manifest.items()
                      if f.rpartition(".")[0] == stem and e.get("url") == art.url), None)
        if known and folder.ours(known):
            keep.add(known)  # the same image as before, still as we wrote it: not read again
            continue
        data, ext = _image_bytes(art, ctx, report, name)
        if data is None:
            keep.update(f for f in folder.manifest if f.rpartition(".")[0] == stem)  # kept what was there
            continue
        folder.put(f"{stem}.{ext}", data, art.url)
        keep.add(f"{stem}.{ext}")
    folder.prune(keep)
    return name


def _image_bytes(art: CollectionArt, ctx: tuple[Settings, ProviderSession | None, BlobStore, datetime],
                 report: MovieSetsReport, name: str) -> tuple[bytes | None, str]:
    """The selected image's verified bytes and extension: from the blob store, else downloaded again."""
    settings, session, blobs, now = ctx
    if art.blob_sha and art.ext:
        data = blobs.read_verified(art.blob_sha, art.ext)
        if data is not None:
            return data, art.ext
    if session is None:
        report.problems.append(f"{name}: {art.type} is not cached and no provider session is open; kept what was there")
        return None, ""
    try:
        row = download_blob(session, settings, blobs, art.url, "original", now)
    except MetarrError as exc:  # a provider failure, a disallowed host, bytes that are not a whole image
        report.problems.append(f"{name}: {art.type} {art.url} could not be downloaded ({exc}); kept what was there")
        return None, ""
    return blobs.read_verified(row["sha256"], row["ext"]), row["ext"]


def publish_movie_sets(settings: Settings, store: Store, session: ProviderSession | None, now: datetime,
                       partition_keys: Sequence[str] | None = None) -> MovieSetsReport | None:
    """Bring the movie-set folder up to date with the library's sets (those ``partition_keys`` name, when given;
    the folders of sets gone from the library are cleaned either way); None when the feature is off."""
    root = settings.movie_sets_path
    if root is None:
        return None
    report = MovieSetsReport(folder=str(root))
    if not root.is_dir():
        report.problems.append(f"movie_sets_folder '{root}' does not exist: create it (Kodi needs it to exist too)")
        return report
    sets = wanted_sets(settings, store)
    done = {kodi_set_folder_name(s.title) for s in sets}  # every set still in the library keeps its folder
    if partition_keys is not None:
        named = {collection_id_of_key(k) for k in partition_keys}
        sets = [s for s in sets if s.collection_id in named]
    report.sets = len(sets)
    ctx = (settings, session, BlobStore(settings.cache_dir), now)
    for movie_set in sets:
        try:
            _publish_set(root, movie_set, ctx, report)
        except OSError as exc:
            report.problems.append(f"{movie_set.title}: {exc.strerror or exc}")
    for manifest in sorted(root.glob(f"*/{MANIFEST}")):
        if manifest.parent.name not in done:  # a set whose movies all left the library
            _SetFolder(root, manifest.parent.name, report).prune(set())
    log.info("movie sets: %s", report.summary())
    return report
