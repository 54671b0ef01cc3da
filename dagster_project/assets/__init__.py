"""Assets by pipeline stage, each a thin wrapper over one domain function.

Modules in flow order: :mod:`.scan` (library scan, per-movie view), :mod:`.enrich` (provider metadata),
:mod:`.artwork` (scored candidates, cached artwork, actor thumbnails), :mod:`.publish` (the library files),
:mod:`.sets` (movie sets' art and set folders, one partition per set), :mod:`.notify` (player notifications),
with :mod:`.delivery` (delivering them from a step, shared by the notify step and a publish run that has none).
"""
