"""The ``ratings`` host: the OMDb API (``GET /omdb/?i=<imdb id>&apikey=...``) and a small IMDb ratings dataset
(``GET /datasets/title.ratings.tsv.gz``), both from the same generated numbers, so the two sources agree.

OMDb quirks kept on purpose: every number is a string (``"8.7"``, ``"1,234,567"``, ``"N/A"``), a rating
source without a value is simply absent from ``Ratings``, an unknown id is a 200 with ``"Response": "False"``,
and both a bad key and a spent daily quota are 401s (``"Invalid API key!"``, ``"Request limit reached!"``).
The dataset has IMDb's exact columns (``tconst averageRating numVotes``), tab-separated and gzip-compressed,
with the hand-written films and a block of generated ones.
"""

from __future__ import annotations

import gzip
import hashlib
import threading

from metarr_pipeline.simulator.catalog import Catalog
from metarr_pipeline.simulator.generate import IMDB_BASE
from metarr_pipeline.simulator.known import KNOWN_MOVIES
from metarr_pipeline.simulator.replies import Reply, Request, json_reply
from metarr_pipeline.simulator.settings import SimulatorConfig

DATASET_PATH = "/datasets/title.ratings.tsv.gz"
DATASET_GENERATED = range(1, 3001)  # generated movie ids whose IMDb ids the dataset lists
# Films with an IMDb rating but neither a Rotten Tomatoes nor a Metacritic score (OMDb leaves them out).
_CRITICS_UNRATED = frozenset({"tt0091183"})


def _draw(imdb_id: str, what: str, low: int, high: int) -> int:
    digest = hashlib.blake2b(f"{imdb_id}:{what}".encode(), digest_size=4).digest()
    return low + int.from_bytes(digest, "big") % (high - low + 1)


def imdb_numbers(imdb_id: str) -> tuple[float, int]:
    """(averageRating, numVotes) of a film, the same in the dataset and in OMDb."""
    return _draw(imdb_id, "rating", 45, 92) / 10, _draw(imdb_id, "votes", 120, 2_900_000)


def critics(imdb_id: str) -> tuple[int, int] | None:
    """(Tomatometer %, Metascore) or None for a film the critics' sites do not rate."""
    if imdb_id in _CRITICS_UNRATED:
        return None
    return _draw(imdb_id, "tomatometer", 12, 99), _draw(imdb_id, "metascore", 25, 96)


def dataset_bytes() -> bytes:
    lines = ["tconst\taverageRating\tnumVotes"]
    ids = [spec.imdb_id for spec in KNOWN_MOVIES] + [f"tt{IMDB_BASE + i}" for i in DATASET_GENERATED]
    for imdb_id in ids:
        rating, votes = imdb_numbers(imdb_id)
        lines.append(f"{imdb_id}\t{rating:.1f}\t{votes}")
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def kind_of(path: str) -> str:
    if path.rstrip("/") == "/omdb":
        return "omdb"
    return "dataset" if path == DATASET_PATH else "other"


class RatingsApi:
    """OMDb and the dataset file. ``omdb_daily_limit`` (SimulatorConfig) counts every OMDb request."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._dataset = dataset_bytes()
        self._lock = threading.Lock()
        self.omdb_requests = 0

    @staticmethod
    def kind_of(path: str) -> str:
        return kind_of(path)

    def handle(self, request: Request, config: SimulatorConfig) -> Reply:
        if request.path == DATASET_PATH:
            return Reply(200, self._dataset, "application/gzip")
        if request.path.rstrip("/") != "/omdb":
            return json_reply(404, {"Response": "False", "Error": "Not found"})
        key = request.query.get("apikey", "")
        if not key or (config.api_key is not None and key != config.api_key):
            return json_reply(401, {"Response": "False", "Error": "Invalid API key!"})
        with self._lock:
            self.omdb_requests += 1
            spent = config.omdb_daily_limit is not None and self.omdb_requests > config.omdb_daily_limit
        if spent:
            return json_reply(401, {"Response": "False", "Error": "Request limit reached!"})
        return json_reply(200, self._omdb(request.query.get("i", "")))

    def _omdb(self, imdb_id: str) -> dict[str, object]:
        movie_id = self.catalog.find_imdb(imdb_id)
        movie = self.catalog.movie(movie_id) if movie_id is not None else None
        if movie is None:
            return {"Response": "False", "Error": "Incorrect IMDb ID."}
        rating, votes = imdb_numbers(imdb_id)
        scores = critics(imdb_id)
        ratings = [{"Source": "Internet Movie Database", "Value": f"{rating:.1f}/10"}]
        if scores:
            ratings += [{"Source": "Rotten Tomatoes", "Value": f"{scores[0]}%"},
                        {"Source": "Metacritic", "Value": f"{scores[1]}/100"}]
        return {
            "Title": movie.title, "Year": movie.release_date[:4], "imdbID": imdb_id, "Type": "movie",
            "Ratings": ratings, "Metascore": str(scores[1]) if scores else "N/A",
            "imdbRating": f"{rating:.1f}", "imdbVotes": f"{votes:,}", "Response": "True",
        }
