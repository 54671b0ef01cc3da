"""Redirects are followed by our own code: each hop checked against the allowlist of the request's purpose,
credentials kept to the origin they were meant for, and a bounded number of hops (issue 16, points 1 and 2).

Everything runs against real loopback servers (tests/helpers/redirect_server.py): 127.0.0.1, 127.0.0.2 and
localhost are three different hosts, and every port is its own origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from metarr_pipeline.blobs import BlobStore, download_blob
from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.errors import DisallowedHostError, ProviderError, ProviderResponseError
from metarr_pipeline.providers.http import Credentials, HostPolicy, HttpFetcher, Route
from metarr_pipeline.providers.keys import ProviderKeys
from metarr_pipeline.providers.session import open_providers
from tests.helpers.redirect_server import RedirectServer, png_bytes

TOKEN = "tmdb-R3adT0ken-SECRET-0451"
API_KEY = "tmdb-ApiKey-SECRET-0452"
FANART_KEY = "fanart-Key-SECRET-0453"
SECRETS = (TOKEN, API_KEY, FANART_KEY)
KINDS = (301, 302, 307, 308)


@pytest.fixture
def home() -> Iterator[RedirectServer]:
    server = RedirectServer("127.0.0.1")
    yield server
    server.close()


@pytest.fixture
def other_ip() -> Iterator[RedirectServer]:
    server = RedirectServer("127.0.0.2")
    yield server
    server.close()


@pytest.fixture
def other_port() -> Iterator[RedirectServer]:
    server = RedirectServer("127.0.0.1")
    yield server
    server.close()


def leaked(server: RedirectServer) -> list[str]:
    """Every request that reached ``server`` carrying one of our secrets, anywhere (header or query)."""
    return [f"{s.path} {s.headers}" for s in server.seen if any(x in f"{s.path} {s.headers}" for x in SECRETS)]


def settings_for(tmp_path: Path, api: RedirectServer, images: RedirectServer, assets: RedirectServer) -> Settings:
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f"""
[data]
dir = "{tmp_path / 'state'}"
[library]
roots = ["{tmp_path}"]
[providers]
mode = "network"
image_hosts = ["{images.netloc}", "{assets.netloc}"]
max_attempts = 1
[providers.tmdb]
api_url = "{api.url('/3')}"
image_url = "{images.url('/t/p')}"
timeout_seconds = 3.0
[providers.fanart]
api_url = "{api.url('/v3')}"
timeout_seconds = 3.0
""", encoding="utf-8")
    return load_settings(cfg)


def elsewhere(kind: str, home: RedirectServer, other_ip: RedirectServer, other_port: RedirectServer,
              path: str) -> tuple[str, RedirectServer]:
    """A redirect target at another origin, and the server that would receive it."""
    return {
        "another-ip": (other_ip.url(path), other_ip),
        "localhost": (home.url(path, host="localhost"), home),
        "another-port": (other_port.url(path), other_port),
    }[kind]


@pytest.mark.parametrize("status", KINDS)
@pytest.mark.parametrize("target", ["another-ip", "localhost", "another-port"])
@pytest.mark.parametrize("keys", [ProviderKeys(tmdb_read_token=TOKEN), ProviderKeys(tmdb_api_key=API_KEY)],
                         ids=["bearer", "api_key"])
def test_a_tmdb_redirect_to_another_origin_is_refused_and_no_credential_leaves(
        tmp_path: Path, home: RedirectServer, other_ip: RedirectServer, other_port: RedirectServer,
        status: int, target: str, keys: ProviderKeys) -> None:
    url, receiver = elsewhere(target, home, other_ip, other_port, "/3/movie/603")
    home.redirects["/3/movie/603"] = (status, url)
    with open_providers(settings_for(tmp_path, home, other_port, other_port), keys) as session, \
            pytest.raises(DisallowedHostError, match="redirect from") as raised:
        session.tmdb.movie(603)
    assert len(home.seen) == 1  # only the first request: the refused hop is never made
    assert receiver is home or receiver.seen == []
    assert leaked(other_ip) == [] and leaked(other_port) == []
    assert all(s not in str(raised.value) for s in SECRETS)


@pytest.mark.parametrize("status", KINDS)
@pytest.mark.parametrize("target", ["another-ip", "localhost", "another-port"])
def test_a_fanart_redirect_to_another_origin_is_refused_and_the_key_never_leaves(
        tmp_path: Path, home: RedirectServer, other_ip: RedirectServer, other_port: RedirectServer,
        status: int, target: str) -> None:
    url, receiver = elsewhere(target, home, other_ip, other_port, "/v3/movies/603")
    home.redirects["/v3/movies/603"] = (status, url)
    keys = ProviderKeys(tmdb_api_key=API_KEY, fanart_api_key=FANART_KEY)
    with open_providers(settings_for(tmp_path, home, other_port, other_port), keys) as session, \
            pytest.raises(DisallowedHostError):
        assert session.fanart is not None
        session.fanart.movie(603)
    assert receiver is home or receiver.seen == []
    assert len(home.seen) == 1 and leaked(other_ip) == [] and leaked(other_port) == []


@pytest.mark.parametrize("status", KINDS)
def test_a_same_origin_redirect_is_followed_with_our_credentials_only(
        tmp_path: Path, home: RedirectServer, other_port: RedirectServer, status: int) -> None:
    """TMDB redirects a merged id on its own host: followed, our key sent again, never one the Location carried."""
    home.redirects["/3/movie/1"] = (status, "/3/movie/603?api_key=PLANTED&append_to_response=images")
    with open_providers(settings_for(tmp_path, home, other_port, other_port),
                        ProviderKeys(tmdb_api_key=API_KEY)) as session:
        answer = session.tmdb.movie(1)
    assert answer.tmdb_id == 603
    second = home.seen[1].path
    assert second.startswith("/3/movie/603?") and f"api_key={API_KEY}" in second and "PLANTED" not in second


@pytest.mark.parametrize("status", KINDS)
@pytest.mark.parametrize("provider", ["tmdb-bearer", "tmdb-api_key", "fanart"])
def test_a_provider_redirect_to_another_scheme_carries_no_credential(
        tmp_path: Path, home: RedirectServer, other_port: RedirectServer, status: int, provider: str) -> None:
    """https on the API's own host and port is allowed by the allowlist, but it is another origin: the hop
    (which fails here: the loopback server speaks no TLS) carries neither the header nor the key."""
    path = "/v3/movies/603" if provider == "fanart" else "/3/movie/603"
    home.redirects[path] = (status, home.url(path).replace("http://", "https://"))
    # A TMDB key is always there (providers need one); the fanart.tv hop must not carry it either.
    keys = ProviderKeys(tmdb_read_token=TOKEN if provider == "tmdb-bearer" else "",
                        tmdb_api_key=API_KEY if provider != "tmdb-bearer" else "", fanart_api_key=FANART_KEY)
    transport = Recording()
    with open_providers(settings_for(tmp_path, home, other_port, other_port), keys) as session:
        session.fetcher._transport = transport  # the real transport, recording what each hop carried
        with pytest.raises(ProviderError) as raised:
            if provider == "fanart":
                assert session.fanart is not None
                session.fanart.movie(603)
            else:
                session.tmdb.movie(603)
    assert [r.url.scheme for r in transport.sent] == ["http", "https"]
    first, hop = (f"{dict(r.headers)} {r.url}" for r in transport.sent)
    assert any(s in first for s in SECRETS) and not any(s in hop for s in SECRETS)
    assert all(s not in str(raised.value) for s in SECRETS)


def fetcher() -> HttpFetcher:
    return HttpFetcher(max_attempts=1, secrets=SECRETS)


@pytest.mark.parametrize("status", KINDS)
@pytest.mark.parametrize("target", ["another-ip", "localhost", "another-port"])
def test_an_allowed_hop_to_another_origin_drops_the_credentials_for_good(
        home: RedirectServer, other_ip: RedirectServer, other_port: RedirectServer, status: int,
        target: str) -> None:
    """Where a redirect to another origin is allowed (an allowlist entry without a port matches every port),
    the header and the key parameter are not sent there, nor to any later hop, even back home."""
    url, receiver = elsewhere(target, home, other_ip, other_port, "/away")
    home.redirects["/start"] = (status, f"{url}?api_key={API_KEY}&keep=1")
    receiver.redirects["/away"] = (status, home.url("/back"))
    creds = Credentials(headers={"Authorization": f"Bearer {TOKEN}"}, params={"api_key": API_KEY})
    with fetcher() as http:
        response = http.get(home.url("/start"), credentials=creds, headers={"Accept": "application/json"},
                            allowed_hosts=("127.0.0.1", "127.0.0.2", "localhost"))
    assert response.status == 200
    first, rest = home.seen[0], [s for s in (home.seen[1:] + other_ip.seen + other_port.seen)]
    assert first.headers["authorization"] == f"Bearer {TOKEN}" and f"api_key={API_KEY}" in first.path
    assert len(rest) == 2, rest  # the hop away and the hop back
    assert all(TOKEN not in str(s.headers) and API_KEY not in s.path for s in rest)
    assert any("keep=1" in s.path for s in rest)  # the Location's other parameters are kept
    assert all(s.headers.get("accept") == "application/json" for s in rest)


class Recording(httpx.HTTPTransport):
    """The real transport, recording what each request carried before it goes on the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return super().handle_request(request)


def test_a_scheme_change_drops_the_credentials(home: RedirectServer) -> None:
    """http → https on the same host and port is another origin: the https attempt carries nothing of ours."""
    home.redirects["/start"] = (307, home.url("/s").replace("http://", "https://"))
    transport = Recording()
    creds = Credentials(headers={"Authorization": f"Bearer {TOKEN}"}, params={"api_key": API_KEY})
    with HttpFetcher(max_attempts=1, secrets=SECRETS, transport=transport) as http, \
            pytest.raises(ProviderError) as raised:  # the plain server cannot speak TLS
        http.get(home.url("/start"), credentials=creds, allowed_hosts=("127.0.0.1",))
    assert [r.url.scheme for r in transport.sent] == ["http", "https"]
    assert "authorization" in transport.sent[0].headers and API_KEY in str(transport.sent[0].url)
    assert "authorization" not in transport.sent[1].headers and API_KEY not in str(transport.sent[1].url)
    assert all(s not in str(raised.value) for s in SECRETS)


@pytest.mark.parametrize("location", [
    "http://127.0.0.1:{port}@127.0.0.2:{other}/x",  # looks like home, goes to 127.0.0.2
    "http://user:pw@127.0.0.1:{port}/x",  # home, with credentials of its own
    "http://127.0.0.1:{port}\\@127.0.0.2:{other}/x",  # the backslash parsers disagree on
    "http://{secret}@127.0.0.2:{other}/x",  # would put our key in a Basic header
], ids=["lookalike", "userinfo-home", "backslash", "key-as-user"])
def test_user_at_host_tricks_are_refused(home: RedirectServer, other_ip: RedirectServer, location: str) -> None:
    home.redirects["/start"] = (302, location.format(port=home.port, other=other_ip.port, secret=API_KEY))
    with fetcher() as http, pytest.raises(DisallowedHostError) as raised:
        http.get(home.url("/start"), allowed_hosts=("127.0.0.1", "127.0.0.2"),
                 credentials=Credentials(params={"api_key": API_KEY}))
    assert other_ip.seen == [] and len(home.seen) == 1
    assert API_KEY not in str(raised.value)


def test_a_first_url_with_user_info_is_refused(home: RedirectServer) -> None:
    with fetcher() as http, pytest.raises(DisallowedHostError, match="user info"):
        http.get(f"http://x@{home.netloc}/a", allowed_hosts=("127.0.0.1",))
    assert home.seen == []


def test_the_hop_count_is_bounded(home: RedirectServer) -> None:
    for i in range(20):
        home.redirects[f"/r{i}"] = (302, f"/r{i + 1}")
    with fetcher() as http, pytest.raises(ProviderResponseError, match="more than 5 redirects"):
        http.get(home.url("/r0"))
    assert len(home.seen) == 6


def test_a_request_without_a_route_may_be_redirected_only_within_its_own_host(
        home: RedirectServer, other_port: RedirectServer) -> None:
    home.redirects["/a"] = (301, other_port.url("/b"))
    with fetcher() as http, pytest.raises(DisallowedHostError):
        http.get(home.url("/a"))
    assert other_port.seen == []


# --- images: the allowlist holds for every hop ---------------------------------------------------------


@pytest.mark.parametrize("status", KINDS)
@pytest.mark.parametrize("provider", ["tmdb_images", "fanart_assets"])
def test_an_image_host_redirecting_off_the_allowlist_downloads_nothing(
        tmp_path: Path, home: RedirectServer, other_port: RedirectServer, other_ip: RedirectServer,
        status: int, provider: str) -> None:
    """Before: the fetcher followed an allowlisted host's redirect anywhere (574 downloads in the stress test)."""
    images, assets = RedirectServer(body=png_bytes(), content_type="image/png"), other_port
    try:
        origin = images if provider == "tmdb_images" else assets
        path = "/t/p/original/abc.png" if provider == "tmdb_images" else "/fanart/movies/603/poster.png"
        origin.redirects[path] = (status, other_ip.url("/evil.png"))
        other_ip.body = png_bytes()
        settings = settings_for(tmp_path, home, images, assets)
        with open_providers(settings, ProviderKeys(tmdb_api_key=API_KEY)) as session, \
                pytest.raises(DisallowedHostError):
            download_blob(session, settings, BlobStore(tmp_path / "cache"), origin.url(path), "original",
                          datetime.now())
        assert other_ip.seen == [] and len(origin.seen) == 1
        assert not (tmp_path / "cache" / "blobs").exists() or not any((tmp_path / "cache" / "blobs").rglob("*.png"))
    finally:
        images.close()


@pytest.mark.parametrize("status", KINDS)
def test_an_image_redirect_to_another_allowlisted_image_host_is_followed(
        tmp_path: Path, home: RedirectServer, other_port: RedirectServer, status: int) -> None:
    images = RedirectServer(body=png_bytes(), content_type="image/png")
    try:
        other_port.body, other_port.content_type = png_bytes((10, 200, 10)), "image/png"
        images.redirects["/t/p/original/abc.png"] = (status, other_port.url("/moved.png"))
        settings = settings_for(tmp_path, home, images, other_port)
        with open_providers(settings, ProviderKeys(tmdb_api_key=API_KEY)) as session:
            row = download_blob(session, settings, BlobStore(tmp_path / "cache"),
                                images.url("/t/p/original/abc.png"), "original", datetime.now())
        assert row["format"] == "png" and len(other_port.seen) == 1
        assert leaked(other_port) == [] and leaked(images) == []
    finally:
        images.close()


# --- politeness keyed by provider -----------------------------------------------------------------------


def test_two_providers_behind_one_host_keep_their_own_limits(home: RedirectServer) -> None:
    """A proxy serving TMDB and fanart.tv on one host: each keeps its own limit (keyed by provider, the base
    URL telling them apart), where keying by host made them share whichever policy was registered last."""
    slow = Route("tmdb_api", home.url("/3"), HostPolicy(1.0, 1, 5.0))
    # 1e6/s: a spacing (1 µs) no loopback request is faster than, so any wait here is TMDB's
    fast = Route("fanart_api", home.url("/v3"), HostPolicy(1_000_000.0, 4, 5.0))
    waits: list[float] = []
    with HttpFetcher([slow, fast], sleep=waits.append) as http:
        assert http.route_for(home.url("/3/movie/1")).name == "tmdb_api"
        assert http.route_for(home.url("/v3/movies/1")).name == "fanart_api"
        assert http.route_for(home.url("/30/x")).name.startswith("host:")  # a prefix is a path, not a string
        http.get(home.url("/3/movie/1"))
        for i in range(5):
            http.get(home.url(f"/v3/movies/{i}"))
        assert waits == [], "fanart.tv waited for TMDB's limit"
        http.get(home.url("/3/movie/2"))
        assert waits and sum(waits) > 0.5  # TMDB's own 1/s still holds
    assert len(home.seen) == 7


def test_the_session_keys_politeness_by_provider(tmp_path: Path, home: RedirectServer,
                                                 other_port: RedirectServer) -> None:
    settings = settings_for(tmp_path, home, other_port, other_port)
    with open_providers(settings, ProviderKeys(tmdb_api_key=API_KEY, fanart_api_key=FANART_KEY)) as session:
        http = session.fetcher
        tmdb, fanart = http.route_for(home.url("/3/movie/1")), http.route_for(home.url("/v3/movies/1"))
        assert (tmdb.name, fanart.name) == ("tmdb_api", "fanart_api")
        assert tmdb.policy.requests_per_second == settings.providers.tmdb.requests_per_second
        assert fanart.policy.requests_per_second == settings.providers.fanart.requests_per_second
        assert http.route_for(other_port.url("/t/p/w500/a.jpg")).name == "tmdb_images"
