"""Which addresses count as this machine: the bind rule of ``metarr review`` and the ``Host`` names it answers."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
"""``Host`` header names (port removed) a loopback-bound review page answers."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
