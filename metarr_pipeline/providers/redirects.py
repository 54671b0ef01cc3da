"""Following redirects ourselves: every hop checked, and credentials kept to the origin they were meant for.

httpx could follow redirects, but it would carry our ``Authorization`` header and ``api_key`` query parameter
to wherever an answer points, and it knows nothing of our image-host allowlist. So the fetcher never lets
httpx follow (``follow_redirects=False``), and for every hop:

- the target is parsed by httpx's own URL parser, the one that sends the request, so a ``user@host`` or
  backslash trick cannot be read one way here and another way on the wire;
- a URL with user info (``http://image.tmdb.org@elsewhere/``), a scheme other than http(s), or a host not in
  the allowlist of the request's purpose (the provider's API host, or ``providers.image_hosts``) is refused;
- credentials (our headers and key query parameters, and any ``Authorization``/``api_key`` a ``Location``
  carries) are sent only while the origin (scheme, host, port) is the first request's: once a hop leaves
  it they are dropped, for every later hop too;
- after ``max_redirects`` hops the request fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from metarr_pipeline.errors import DisallowedHostError
from metarr_pipeline.providers.keys import redact

REDIRECTS = (301, 302, 303, 307, 308)
# Never sent to another origin, whoever put them in the request (ours, or a Location header).
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
SENSITIVE_PARAMS = frozenset({"api_key", "client_key"})

Origin = tuple[str, str, int]


@dataclass(frozen=True)
class Credentials:
    """What proves who we are to one provider: sent only to the origin of the request's first URL."""

    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never the values, even in a traceback
        return f"Credentials(headers={sorted(self.headers)}, params={sorted(self.params)})"


def parse_url(url: str | httpx.URL) -> httpx.URL:
    try:
        return url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise DisallowedHostError(f"refusing a malformed URL: {redact(str(url))} ({exc})") from None


def origin_of(url: httpx.URL) -> Origin:
    """(scheme, host, port), the default port filled in: http://h and http://h:80 are one origin."""
    return url.scheme, url.host.lower(), url.port or {"http": 80, "https": 443}.get(url.scheme, 0)


def check_allowed(url: str | httpx.URL, allowed_hosts: tuple[str, ...]) -> httpx.URL:
    """The parsed URL if it may be requested: http(s), no user info, host (any port) or host:port allowlisted."""
    parsed = parse_url(url)
    if parsed.scheme not in ("http", "https"):
        raise DisallowedHostError(
            f"refusing to download from a {parsed.scheme or 'schemeless'} URL: {redact(str(url))}")
    if parsed.userinfo:
        raise DisallowedHostError(f"refusing a URL with user info (user@host): {_without_userinfo(parsed)}")
    host = parsed.host.lower()
    netloc = parsed.netloc.decode("ascii").lower()
    allowed = {h.lower() for h in allowed_hosts}
    if not host or (netloc not in allowed and host not in allowed):
        raise DisallowedHostError(
            f"refusing to download from {netloc or 'no host'}: not an allowed host for this request "
            f"({', '.join(sorted(allowed))}; artwork hosts are providers.image_hosts)")
    return parsed


def next_hop(current: httpx.URL, location: str, allowed_hosts: tuple[str, ...]) -> tuple[httpx.URL, dict[str, str]]:
    """The checked target of a redirect (without its query) and its query parameters, less any key parameter
    the ``Location`` carried (ours are added back by :func:`outgoing` while the origin is unchanged)."""
    try:
        target = current.join(location)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise DisallowedHostError(f"refusing a malformed redirect target ({exc})") from None
    target = check_allowed(target, allowed_hosts)
    params = {k: v for k, v in target.params.multi_items() if k.lower() not in SENSITIVE_PARAMS}
    return target.copy_with(query=None), params


def outgoing(url: httpx.URL, home: Origin | None, params: Mapping[str, str], headers: Mapping[str, str] | None,
             credentials: Credentials | None) -> tuple[dict[str, str], dict[str, str]]:
    """The params and headers for one hop: with our credentials at the home origin (``None`` once a hop has
    left it: they are never sent again), and without any sensitive header or key parameter elsewhere."""
    if home is not None and origin_of(url) == home:
        creds = credentials or Credentials()
        return {**params, **creds.params}, {**(headers or {}), **creds.headers}
    return ({k: v for k, v in params.items() if k.lower() not in SENSITIVE_PARAMS},
            {k: v for k, v in (headers or {}).items() if k.lower() not in SENSITIVE_HEADERS})


def _without_userinfo(url: httpx.URL) -> str:
    return redact(str(url.copy_with(userinfo=b"")))
