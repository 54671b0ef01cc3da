"""Movie sets (TMDB collections) in Kodi's "Movie set information folder": their art and a ``set.nfo``.

Kodi reads set artwork only from ``videolibrary.moviesetsfolder``: ``<folder>/<set title made legal>/`` holding
files named after the art type (``poster.jpg``, ``fanart.jpg``...), and Kodi 22 also reads a ``set.nfo`` there
(``CSetTagLoaderNFO``; ``CSetInfoTag::ParseNative`` takes ``<title>`` and ``<overview>`` of a ``<set>`` root, so
that is what we write, plus TMDB's id as a ``<uniqueid>`` Kodi ignores). The folder name is
``CUtil::MakeLegalFileName(title, LEGAL_WIN32_COMPAT)``: ``/ \\ ? : * " < > |`` become ``_`` and trailing dots
and spaces are trimmed; Kodi only looks into a folder that exists.

What is written, per set that has at least one movie in the library: the collection's poster and backdrop as
TMDB names them (``poster_path`` and ``backdrop_path`` of the cached ``/collection/{id}`` answer; downloaded
through the blob store, so from an allowlisted host, within the size cap, and verified as complete images), and
``set.nfo`` with the title and overview. A manifest (``.metarr-set.json``) in each set folder records what we
wrote and its SHA-256, so only our own files are ever replaced or removed: a user's own ``poster.jpg`` is kept
and reported, and the folder of a set whose movies all left the library loses only our files (and itself when
empty). Off unless ``[publish] movie_sets_folder`` is set.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lxml import etree

from metarr_pipeline.art_types import kodi_set_folder_name  # the rule; the Kodi notifier reads the folders too
from metarr_pipeline.blobs import BlobStore, download_blob
from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.providers.fetch import tmdb_key
from metarr_pipeline.providers.images import TMDB_IMAGE_BASE
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.publish.nfo import XML_DECLARATION, clean_xml_text
from metarr_pipeline.publish.writer import sha256_file, write_atomic
from metarr_pipeline.store import Store

log = logging.getLogger(__name__)
MANIFEST = ".metarr-set.json"


@dataclass(frozen=True)
class MovieSet:
    collection_id: int
    title: str
    overview: str
    art: dict[str, str]  # Kodi art type → canonical image URL


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


def sets_folder(settings: Settings) -> Path | None:
    raw = settings.publish.movie_sets_folder.strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (settings.config_path.parent / path).resolve()


def wanted_sets(settings: Settings, store: Store, image_base: str) -> list[MovieSet]:
    """Every set with at least one movie still in the library, from the merged metadata and the cached answers."""
    present = {m.id for m in store.movies(include_gone=False) if m.status == "identified"}
    found: dict[int, MovieSet] = {}
    for movie_id, row in store.movie_metadata().items():
        fields = row.fields()
        cid, title = fields.get("collection_id"), str(fields.get("set_name") or "").strip()
        if movie_id in present and isinstance(cid, int) and title and cid not in found:
            found[cid] = MovieSet(cid, title, str(fields.get("set_overview") or ""), {})
    language = settings.languages.preferred
    answers = store.provider_responses([("tmdb_collection", tmdb_key(c, language)) for c in found])
    for cid, movie_set in found.items():
        answer = answers.get(("tmdb_collection", tmdb_key(cid, language)))
        body = json.loads(answer.body) if answer and answer.body else {}
        for art, key in (("poster", "poster_path"), ("fanart", "backdrop_path")):
            path = body.get(key) if isinstance(body, dict) else None
            if image_base and isinstance(path, str) and path.startswith("/") and ".." not in path:
                movie_set.art[art] = f"{image_base}/original{path}"
    return sorted(found.values(), key=lambda s: s.collection_id)


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
    settings, session, blobs, now = ctx
    name = kodi_set_folder_name(movie_set.title)
    folder = _SetFolder(root, name, report)
    keep = {"set.nfo"}
    folder.put("set.nfo", set_nfo(movie_set))
    for art, url in movie_set.art.items():
        known = next((f for f, e in folder.manifest.items() if f.rpartition(".")[0] == art and e.get("url") == url),
                     None)
        if known and folder.ours(known):
            keep.add(known)  # the same image as before, still as we wrote it: no download
            continue
        if session is None:
            continue
        try:
            row = download_blob(session, settings, blobs, url, "original", now)
        except MetarrError as exc:  # a provider failure, a disallowed host, bytes that are not a whole image
            report.problems.append(f"{name}: {art} {url} could not be downloaded ({exc}); kept what was there")
            keep.update(f for f in folder.manifest if f.rpartition(".")[0] == art)
            continue
        data = blobs.read_verified(row["sha256"], row["ext"])
        if data is not None:
            file_name = f"{art}.{row['ext']}"
            folder.put(file_name, data, url)
            keep.add(file_name)
    folder.prune(keep)
    return name


def publish_movie_sets(settings: Settings, store: Store, session: ProviderSession | None,
                       now: datetime) -> MovieSetsReport | None:
    """Bring the movie-set folder up to date with the library's sets; None when the feature is off."""
    root = sets_folder(settings)
    if root is None:
        return None
    report = MovieSetsReport(folder=str(root))
    if not root.is_dir():
        report.problems.append(f"movie_sets_folder '{root}' does not exist: create it (Kodi needs it to exist too)")
        return report
    sets = wanted_sets(settings, store, TMDB_IMAGE_BASE)  # canonical names: the session maps them per request
    report.sets = len(sets)
    done: set[str] = set()
    ctx = (settings, session, BlobStore(settings.cache_dir), now)
    for movie_set in sets:
        try:
            done.add(_publish_set(root, movie_set, ctx, report))
        except OSError as exc:
            report.problems.append(f"{movie_set.title}: {exc.strerror or exc}")
    for manifest in sorted(root.glob(f"*/{MANIFEST}")):
        if manifest.parent.name not in done:  # a set whose movies all left the library
            _SetFolder(root, manifest.parent.name, report).prune(set())
    log.info("movie sets: %s", report.summary())
    return report
