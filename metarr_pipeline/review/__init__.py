"""The review page: a small local web app to see every artwork candidate, choose with a click, and publish.

Where it sits: beside the Dagster UI, for what that UI cannot do (choosing among images). It reads the state
store, steers the selection through the same domain functions as ``metarr art`` (then re-selects offline),
identifies movies by hand, and launches publishing as Dagster runs of ``publish_job`` over Dagster's GraphQL
API (plain HTTP: this package never imports Dagster), so every publish shows in the Dagster UI. Server-rendered
HTML (Starlette, Jinja2 templates, uvicorn), plain forms, no JavaScript build.

Modules, in reading order: :mod:`.library` (the library page: states, filters, paging, two queries),
:mod:`.movie` (one movie: candidates with score parts, file names, duplicates, actors, NFO diff), :mod:`.steer`
(pick/reject/lock/unlock, then re-select), :mod:`.sets` (the movie sets with their chosen art),
:mod:`.identify` (the form over ``scan.manual``: search candidates, an id typed in), :mod:`.dagster_api`
(publish runs over GraphQL), :mod:`.images` (thumbnails from the caches),
:mod:`.app` (routes, same-origin, token and Host checks, basic auth), :mod:`.addresses` (what is loopback) and
:mod:`.server` (``metarr review``: bind rules, uvicorn).
"""
