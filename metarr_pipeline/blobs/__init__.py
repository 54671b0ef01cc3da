"""Blobs: the content-addressed image cache, and the one way an image gets into it.

Where it sits: enrichment (``artwork.enrich``) fetches the winners' originals and the actors' headshots into
it; publish reads them to copy into the library, fetches the originals an offline re-score deferred, and
reclaims blobs no row refers to. It reads image hosts (through the providers' session, so the allowlist, the
per-host limits and the size cap apply) and writes files under ``<cache>/blobs/``; which blobs are needed
is the state store's business, never this package's.

Modules, in reading order:
    blobstore  ``BlobStore``: one file per distinct content, named by its SHA-256, written atomically
    verify     what an image is, read from its bytes (sniffed, size-limited), and ``verify_original``
    download   ``download_blob`` (allowlist → fetch → verify → store), ``fetch_blob`` and ``download_workers``
    faults     which failures are facts about the image (cached for good) and which a retry could change

It imports nothing from the stages (artwork, publish), so both can use it without a cycle.
"""

from metarr_pipeline.blobs.blobstore import Blob, BlobStore
from metarr_pipeline.blobs.download import download_blob, download_workers, fetch_blob, fetch_blob_with_image
from metarr_pipeline.blobs.faults import is_fact, is_transient, reads_transient
from metarr_pipeline.blobs.verify import ImageError, ImageFacts, verify_original

__all__ = ["Blob", "BlobStore", "ImageError", "ImageFacts", "download_blob", "download_workers", "fetch_blob",
           "fetch_blob_with_image",
           "is_fact", "is_transient", "reads_transient", "verify_original"]
