"""The library page's model: one page of movies with their state, the counts behind the filters, the pager.

All of it comes from two queries (``Store.review_page``), whatever the size of the library.
"""

from __future__ import annotations

from dataclasses import dataclass

from metarr_pipeline.config import Settings
from metarr_pipeline.fingerprints import config_fingerprint, publish_fingerprint
from metarr_pipeline.store import Store
from metarr_pipeline.store.review import STATES, ReviewRow

PAGE_SIZE = 60

LABELS = {
    "all": "All", "needs_review": "Needs review", "new": "Not enriched yet", "outdated": "Outdated",
    "published": "Published", "failed": "Failed", "stale": "Stale after config change",
    "unidentified": "Unidentified", "manual": "Manual",
}
"""The words people see for each state (and the two filters that are not states)."""

FILTERS = ("all", "needs_review", "outdated", "published", "new", "failed", "stale", "unidentified", "manual")

HINTS = {
    "needs_review": "enriched and not published yet, or its artwork selection changed since the last publish",
    "outdated": "published, then its metadata changed: publish again to write it",
    "stale": "enriched or published under another config: 'metarr backfill' re-runs it",
    "new": "identified, not enriched yet: the schedule or 'metarr enrich' fetches its data",
    "unidentified": "the scan could not name this film: identify it by hand",
    "failed": "the last attempt failed (the reason is shown)",
    "published": "published and up to date",
}


@dataclass(frozen=True)
class LibraryPage:
    rows: list[ReviewRow]
    counts: dict[str, int]
    matching: int
    state: str
    search: str
    page: int
    pages: int


def library_page(settings: Settings, store: Store, *, state: str = "all", search: str = "",
                 page: int = 1) -> LibraryPage:
    state = state if state in (*STATES, "all", "manual") else "all"
    page = max(1, page)
    counts, matching, rows = store.review_page(
        enrich_fp=config_fingerprint(settings), publish_fp=publish_fingerprint(settings), state=state,
        search=search[:200], offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, -(-matching // PAGE_SIZE))
    return LibraryPage(rows, counts, matching, state, search, page, pages)


def keys_needing_review(settings: Settings, store: Store) -> list[str]:
    return store.review_keys(enrich_fp=config_fingerprint(settings), publish_fp=publish_fingerprint(settings),
                             state="needs_review")
