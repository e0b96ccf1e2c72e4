"""The door: raw ASGI middlewares that decide which requests may reach a route at all.

One job: refuse, before any route runs, what must not get in. ``_hosts`` answers 403 to a
foreign ``Host`` (DNS rebinding) and says which addresses are loopback; ``_control_guard``
locks ``/_emulator/...`` to loopback clients with the instance's token; ``_body_limit``
answers 413 to bodies over 1 MB; ``_auth`` answers 401 without a valid key and applies the
key's rate limit (429) to every ``/v1`` request. ``_asgi`` holds the small raw-ASGI helpers
(path tests, headers, sending JSON) these and the layers above send with.

It imports only the domain; the names below are what the layers above use.
"""

from __future__ import annotations

from ._asgi import API_PREFIX, is_control_path, json_bytes, send_bytes, send_json
from ._auth import AuthMiddleware, Caller
from ._body_limit import MAX_BODY_BYTES, BodyLimit
from ._control_guard import TOKEN_HEADER, ControlGuard, new_token
from ._hosts import HostGuard, HostPolicy, is_loopback_bind, reachable_addresses

__all__ = [
    "API_PREFIX",
    "MAX_BODY_BYTES",
    "TOKEN_HEADER",
    "AuthMiddleware",
    "BodyLimit",
    "Caller",
    "ControlGuard",
    "HostGuard",
    "HostPolicy",
    "is_control_path",
    "is_loopback_bind",
    "json_bytes",
    "new_token",
    "reachable_addresses",
    "send_bytes",
    "send_json",
]
