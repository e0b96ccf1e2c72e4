"""Small raw-ASGI helpers shared by the emulator's middlewares."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.types import Scope, Send

CONTROL_PREFIX = "/_emulator/"
API_PREFIX = "/v1"

Headers = Sequence[tuple[bytes, bytes]]


def is_control_path(path: str) -> bool:
    """Tell whether a path belongs to the emulator's own control API."""
    return path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/")


def is_api_path(path: str) -> bool:
    """Tell whether a path belongs to the public v1 API."""
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def header(scope: Scope, name: bytes) -> str | None:
    """Return the first value of a request header (``name`` in lower case), if present."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def json_bytes(body: Any) -> bytes:
    """Encode a JSON body the way FastAPI's JSONResponse does."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: bytes = b"application/json",
    headers: Headers = (),
) -> None:
    """Send a complete response with a ``content-length``."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_json(send: Send, status: int, body: Any, *, headers: Headers = ()) -> None:
    """Send a complete JSON response."""
    await send_bytes(send, status, json_bytes(body), headers=headers)
