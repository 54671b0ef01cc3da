"""IMDb's ratings dataset (``title.ratings.tsv.gz``): the whole file, loaded at most once per refresh period.

IMDb publishes it daily for non-commercial use; it holds every title's ``averageRating`` and ``numVotes``
(about 1.5 million rows). Loading it whole costs one download and a second of polars parsing, and replaces a
request per movie with one join in the state file, so a library of any size costs the same. A failed download
or a file that is not IMDb's format keeps the previously loaded dataset (and says so): ratings a day old beat
none.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import ProviderError
from metarr_pipeline.providers.http import HttpFetcher
from metarr_pipeline.providers.ratings.source import RatingQuery, SourceAnswer, rating
from metarr_pipeline.redaction import redact
from metarr_pipeline.store import Store

DATASET = "imdb_ratings"
_COLUMNS = {"tconst": pl.String, "averageRating": pl.Float64, "numVotes": pl.Int64}
_IMDB_ID = re.compile(r"tt\d{7,9}")


class DatasetError(ProviderError):
    """The dataset could not be read or is not in IMDb's format."""


def parse_dataset(data: bytes, origin: str, max_bytes: int) -> pl.DataFrame:
    """``imdb_id, rating, votes`` from the gzip'd (or plain) TSV bytes; rows that are not ratings dropped."""
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(max_bytes * 8 + 1)  # a ratings file compresses about 3:1
        except (OSError, EOFError) as exc:
            raise DatasetError(f"{origin}: not a readable gzip file ({exc})") from None
        if len(data) > max_bytes * 8:
            raise DatasetError(f"{origin}: more than {max_bytes * 8} bytes once uncompressed")
    try:
        frame = pl.read_csv(io.BytesIO(data), separator="\t", quote_char=None, null_values=["\\N"],
                            schema_overrides=_COLUMNS, columns=list(_COLUMNS))
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise DatasetError(f"{origin}: not IMDb's title.ratings format "
                           f"(columns {', '.join(_COLUMNS)}): {str(exc).splitlines()[0]}") from None
    frame = (frame.rename({"tconst": "imdb_id", "averageRating": "rating", "numVotes": "votes"})
             .drop_nulls()
             .filter(pl.col("imdb_id").str.contains(r"^tt\d{7,9}$") & pl.col("rating").is_between(0, 10)
                     & (pl.col("votes") >= 0))
             .unique(subset="imdb_id", keep="first"))
    if frame.height == 0:
        raise DatasetError(f"{origin}: no ratings in it")
    return frame


class ImdbDataset:
    name = "imdb_dataset"

    def __init__(self, settings: Settings, store: Store, fetcher: HttpFetcher, now: datetime,
                 url_override: str = "") -> None:
        self.settings = settings.ratings
        self.base = settings.config_path.parent
        self.store = store
        self.fetcher = fetcher
        self.now = now
        self.origin = url_override or self.settings.imdb_dataset

    def _read(self) -> bytes:
        max_bytes = self.settings.imdb_max_megabytes * 1024 * 1024
        if "://" in self.origin:
            return self.fetcher.get(self.origin, kind="imdb_dataset", max_bytes=max_bytes,
                                    provider="IMDb dataset").content
        path = Path(self.origin).expanduser()
        path = path if path.is_absolute() else self.base / path
        try:
            if path.stat().st_size > max_bytes:
                raise DatasetError(f"{path}: larger than imdb_max_megabytes ({self.settings.imdb_max_megabytes})")
            return path.read_bytes()
        except OSError as exc:
            raise DatasetError(f"cannot read the IMDb dataset '{path}': {exc.strerror or exc}") from None

    def refresh(self, answer: SourceAnswer) -> None:
        """Load the file when the stored one is missing or older than the refresh period."""
        loaded = self.store.dataset_loaded_at(DATASET)
        if loaded is not None and self.now - loaded < timedelta(hours=self.settings.imdb_refresh_hours):
            return
        shown = redact(self.origin)
        try:
            frame = parse_dataset(self._read(), shown, self.settings.imdb_max_megabytes * 1024 * 1024)
        except ProviderError as exc:
            kept = f"keeping the one loaded {loaded:%Y-%m-%d %H:%M}" if loaded else "no IMDb ratings yet"
            answer.notes.append(f"IMDb dataset: {redact(str(exc))}; {kept}")
            return
        rows = self.store.replace_imdb_ratings(frame, shown, self.now)
        answer.requests += 1 if "://" in self.origin else 0
        answer.notes.append(f"IMDb dataset: {rows} ratings loaded from {shown}")

    def ratings(self, movies: Sequence[RatingQuery]) -> SourceAnswer:
        answer = SourceAnswer()
        self.refresh(answer)
        ids = {m.imdb_id for m in movies if _IMDB_ID.fullmatch(m.imdb_id or "")}
        found = self.store.imdb_ratings(sorted(ids))
        for movie in movies:
            if movie.imdb_id in found:
                value, votes = found[movie.imdb_id]
                answer.ratings[movie.movie_id] = {"imdb": rating("imdb", value, votes)}
        return answer
