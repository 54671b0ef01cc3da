"""Starting the review app: settings, the bind address rule, uvicorn.

The app binds to loopback by default. Another address (a NAS reached from the living room) exposes the
library's controls to the network, so it is allowed only with a password from the environment
(``METARR_REVIEW_PASSWORD``), checked with HTTP basic auth on every request.
"""

from __future__ import annotations

import os

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import ConfigError
from metarr_pipeline.review.addresses import is_loopback

PASSWORD_ENV = "METARR_REVIEW_PASSWORD"
DAGSTER_URL_ENV = "METARR_DAGSTER_URL"
DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"


def review_password(host: str, environ: dict[str, str] | None = None) -> str | None:
    """The password the app requires, or None on loopback without one; refuses a non-loopback host without."""
    env = os.environ if environ is None else environ
    password = env.get(PASSWORD_ENV) or None
    if not is_loopback(host) and not password:
        raise ConfigError(f"--host {host} is not a loopback address: set {PASSWORD_ENV} in the environment so "
                          "the review page asks for a password (HTTP basic auth)")
    return password


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8300, dagster_url: str | None = None) -> None:
    import uvicorn

    from metarr_pipeline.review.app import ReviewApp

    password = review_password(host)
    url = dagster_url or os.environ.get(DAGSTER_URL_ENV) or DEFAULT_DAGSTER_URL
    app = ReviewApp(settings, url, password, bind_host=host).asgi()
    print(f"metarr review: http://{host}:{port}/ (Dagster at {url}); Ctrl-C stops it", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
