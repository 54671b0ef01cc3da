"""The sets page: every movie set of the library with the art chosen for its set folder, one image per type.

Read-only: the sets' art is chosen by the sets' stage (``metarr enrich``, Dagster's ``collection_artwork``);
this page shows what it chose (thumbnails from the blob store), which types it found nothing for, and each set's
Dagster partition key. Two queries: the library's sets and their winners.
"""

from __future__ import annotations

from dataclasses import dataclass

from metarr_pipeline.publish.movie_sets import kodi_set_folder_name
from metarr_pipeline.store import CollectionArt, Store

SET_TYPES = ("poster", "fanart", "clearlogo", "clearart", "banner", "landscape", "discart")


@dataclass(frozen=True)
class SetView:
    collection_id: int
    title: str
    overview: str
    movies: int
    partition_key: str
    folder: str  # the set folder's name in movie_sets_folder (Kodi's legal file name)
    art: tuple[CollectionArt, ...]
    chosen: bool  # the sets' stage has run for it

    @property
    def missing(self) -> list[str]:
        """The types no provider offered a usable image for."""
        have = {a.type for a in self.art}
        return [t for t in SET_TYPES if t not in have]


def sets_page(store: Store) -> list[SetView]:
    library = store.library_sets()
    selection = store.collection_selection(list(library)) if library else {}
    chosen = store.collection_rows(list(library)) if library else {}
    order = {t: i for i, t in enumerate(SET_TYPES)}
    return [SetView(cid, s.title, s.overview, s.movies, s.partition_key, kodi_set_folder_name(s.title),
                    tuple(sorted(selection.get(cid, ()), key=lambda a: order.get(a.type, 99))), cid in chosen)
            for cid, s in sorted(library.items(), key=lambda item: item[1].title.casefold())]
