"""A provider's JSON answer, asked again when it arrives malformed.

The HTTP layer retries what it can see on the wire (5xx, 429, timeouts, cut connections). A 200 whose body
is not JSON (cut short behind a proxy, an HTML error page labelled ``application/json``, junk under the
wrong content type) only shows when it is parsed, so the clients parse here and ask again, with the same
bounded, jittered backoff, before giving up with a :class:`~metarr_pipeline.errors.ProviderResponseError`.
That error fails the one movie that asked (it keeps its last good data), never the run.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from metarr_pipeline.errors import ProviderResponseError
from metarr_pipeline.providers.http import HttpFetcher, Response

log = logging.getLogger(__name__)


def json_answer(fetcher: HttpFetcher, ask: Callable[[], Response | None],
                sleep: Callable[[float], None] = time.sleep) -> tuple[Response | None, Any]:
    """``ask()`` (a request; ``None`` for an accepted 404) and its parsed JSON, asked again while malformed
    (up to the fetcher's ``max_attempts``)."""
    attempt = 0
    while True:
        attempt += 1
        response = ask()
        if response is None or response.status == 404:
            return response, None
        try:
            return response, response.json()
        except ProviderResponseError as exc:
            if attempt >= fetcher.max_attempts:
                fetcher.stats.add(failures=1)
                raise ProviderResponseError(f"{exc} (still malformed after {attempt} attempts)") from None
            fetcher.stats.add(retries=1)
            delay = random.uniform(0, min(8.0, fetcher.backoff_seconds * 2 ** (attempt - 1)))
            log.debug("malformed JSON (%s): asking again in %.2fs", exc, delay)
            sleep(delay)
