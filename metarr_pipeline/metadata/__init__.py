"""Movie metadata: provider responses mapped to our fields, and the merge rules.

Shared by the provider fetch (which merges each answer into the stored movie) and publish (which writes the
merged fields). Modules: :mod:`.fields` (the fields we manage and how a TMDB response maps onto them),
:mod:`.merge` ("fill gaps, don't erase", locks respected), :mod:`.xml` (NFO element
editing the reader and the writer share).
"""
