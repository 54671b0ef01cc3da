"""Providers: what TMDB and fanart.tv say about each movie, asked politely and remembered.

Where it sits: after the scan has identified movies (it also lends the scan TMDB search for
identification), before artwork enrichment. It reads identified movies and the response cache from the
store, talks HTTP to TMDB and fanart.tv (or the loopback simulator: only ever through URLs), and writes raw
responses (``provider_responses``, a TTL cache) and merged ``movie_metadata`` rows.

Layers, bottom up (each imports only the ones before it):

1. :mod:`.keys`: credentials from the environment, and :func:`~.keys.redact` so no key is ever printed;
2. :mod:`.http`: the polite HTTP layer (rate and connection limits per provider route, :mod:`.politeness`;
   ``Retry-After``, bounded retries, size caps; redirects followed hop by hop, each on the request's allowlist,
   credentials never leaving their origin, :mod:`.redirects`), shared by every thread of a process;
3. :mod:`.answers` (a malformed JSON answer asked again), then :mod:`.tmdb`, :mod:`.fanart`: one small client
   per provider, returning raw JSON; :mod:`.images`: the canonical names images are stored under;
4. :mod:`.session`: opens the clients for one process: which endpoints (network or the built-in simulator),
   which keys, which limits, and the canonical ↔ live URL mapping;
5. :mod:`.fetch`: a batch's metadata as named stages, plan → fetch → merge → persist, on top of the cache
   (the store's ``provider_responses``: answers younger than their TTL are reused without a request).
"""
