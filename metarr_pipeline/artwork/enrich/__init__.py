"""Enrichment: a batch of movies' artwork and actors chosen, cached and recorded, without touching their folders.

Where it sits: after the provider fetch (reads ``provider_responses``, the user's artwork choices and what
earlier runs stored), before publish (which reads the candidate rows, the chosen blobs and the people).
``enrich_movies`` opens one :class:`~metarr_pipeline.artwork.enrich.batch.Batch` and runs these stages on
it, in order; each reads what the stages before it filled in:

  1. ``collect_candidates``  (collect)    reads cached TMDB + fanart.tv responses and TMDB's image base;
                                          writes ``candidates`` (one polars frame), ``cast``, ``failed_movies``
  2. ``analyse_renditions``  (analyse)    reads ``candidates`` and the ``image_analysis`` cache, fetches the
                                          uncached small renditions concurrently; writes ``fresh_analysis`` and
                                          joins size, format and pHash into ``candidates``
  3. ``score_and_select``    (rank)       reads ``candidates``, the user's choices and the previous candidate
                                          rows; writes ``ranked``, ``choices``, ``previous_blobs``, ``selected``
  4. ``fetch_originals``     (originals)  reads ``selected``; downloads and verifies the winners' originals
                                          into the blob store (reused when present, deferred on an offline
                                          re-score), re-selecting when one fails; writes ``winner_blobs``,
                                          ``original_blobs`` and ``selected.blob_sha``
  5. ``cache_headshots``     (headshots)  reads ``cast`` and stored ``people``; downloads each new headshot
                                          once per person; writes ``people``, ``headshot_blobs``. Runs in the
                                          background from stage 2 to 4 (both keep the image hosts busy)
  6. ``persist_changes``     (persist)    reads everything above and the stored results; writes ``results``
                                          and, in one store write, only the movies whose result changed

Stages 2, 4 and 5 make their image requests through ``batch.images`` (:mod:`.images`): on threads, or for a
large batch on worker processes that share the image hosts' limits, so decoding and HTTP handling use every core.

Stage 2 usually finds most previews cached already: :mod:`.prefetch` (``fetch_with_previews``, what the
``provider_metadata`` asset and ``metarr enrich`` call) analyses the previews of each new provider answer while the
fetch is still waiting on the API hosts, with the same functions, and stores the same rows. When a large batch
finds some movies' previews all cached and others not, the runner splits it in two parts (``Batch.part``): the
first part's stages 3–4 run while the second's stage 2 does, then the second's 3–4, and the parts' results are
taken back (``Batch.absorb``) before stage 6, which runs once for the whole batch.

Idempotent by construction: with the same provider data, config and user choices, the analysis comes from
the cache, the ranking is deterministic, the winners' blobs exist, and each movie's state hash matches the
stored one, so a second run downloads nothing and writes nothing. The state hash covers what was chosen, not
whether its bytes are cached yet: fetching an already chosen original later (next enrichment, or publish)
only attaches the blob to the candidate row and is not a new result.

Modules, in reading order: ``run`` (the runner), ``batch`` (the batch object and shared helpers), then one
module per stage as named above, ``report`` (what a run returns) and ``prefetch``.
"""

from metarr_pipeline.artwork.enrich.report import ChosenArt, EnrichReport, MovieEnrichment
from metarr_pipeline.artwork.enrich.run import enrich_movies

__all__ = ["ChosenArt", "EnrichReport", "MovieEnrichment", "enrich_movies"]
