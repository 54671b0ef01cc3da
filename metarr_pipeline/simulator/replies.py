"""The values passed between the HTTP plumbing and the routes, and the providers' error bodies.

Routes are plain functions of a :class:`Request` returning a :class:`Reply`, so they are testable without
sockets and the server alone decides about limits, faults and bytes on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from metarr_pipeline.simulator.settings import SimulatorConfig

JSON_TYPE = "application/json;charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]  # first value of each parameter
    headers: Mapping[str, str]  # lower-case names
    raw_query: str = ""  # as sent, for redirects that must keep it byte for byte


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


class Route(Protocol):
    """What one host serves: its request kinds (for the log, decided before any work) and its answers."""

    def kind_of(self, path: str) -> str: ...

    def handle(self, request: Request, config: SimulatorConfig) -> Reply: ...


def encode_json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_reply(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, encode_json(payload), JSON_TYPE, headers)


def html_reply(status: int, title: str) -> Reply:
    page = f"<html><head><title>{status} {title}</title></head><body><h1>{title}</h1></body></html>\n"
    return Reply(status, page.encode(), HTML_TYPE)


# TMDB's error bodies, word for word.
def tmdb_error(status: int, code: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return json_reply(status, {"status_code": code, "status_message": message, "success": False}, headers)


def tmdb_unauthorized() -> Reply:
    return tmdb_error(401, 7, "Invalid API key: You must be granted a valid key.")


def tmdb_not_found() -> Reply:
    return tmdb_error(404, 34, "The resource you requested could not be found.")


def tmdb_rate_limited(limit: float) -> Reply:
    message = f"Your request count (#) is over the allowed limit of ({limit:g})."
    return json_reply(429, {"status_code": 25, "status_message": message}, (("Retry-After", "1"),))


# fanart.tv's
def fanart_error(status: int, message: str) -> Reply:
    return json_reply(status, {"status": "error", "error message": message})
