"""A tiny, real, deterministic movie library so the pipeline can be tried and tested without a NAS.

``make demo`` and many tests build it: :mod:`.media` encodes tiny real video files with PyAV's bundled
FFmpeg, :mod:`.library` lays out thirteen folders that exercise every branch of the scan.
"""
