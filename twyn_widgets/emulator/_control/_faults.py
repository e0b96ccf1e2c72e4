"""Fault injection: rules added through the control API, applied by a raw ASGI middleware.

A rule matches requests by method and by a regular expression searched in the path, and
fires either for the next ``count`` matching requests or, with ``fraction``, for each one
with that probability (from a seeded generator, so runs repeat). The control API
(``/_emulator/...``) is never faulted.

The middleware sits inside authentication and rate limiting, so a faulted answer still
carries the ``X-RateLimit-*`` headers and counts against the key like any request that
reached the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal, get_args

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._domain import Clock, rate_limit_body
from .._guard import is_control_path, json_bytes, send_bytes, send_json
from ._counters import CONNECTION_SCOPE_KEY, Connection

FaultKind = Literal[
    "status_500",
    "status_502",
    "status_503",
    "status_504",
    "html_error",
    "slow",
    "drop",
    "reset_mid_body",
    "malformed_json",
    "truncated_json",
    "rate_limited_body",
    "rate_limited_header",
    "huge_body",
    "endless_body",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
"""Every fault kind the control API accepts."""

DEFAULT_SLOW_SECONDS = 5.0
DEFAULT_RETRY_SECONDS = 2.0
HUGE_BODY_BYTES = 50 * 1024 * 1024
CHUNK_BYTES = 64 * 1024

_STATUS_DETAIL = {
    500: "Internal server error: emulated fault",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

NGINX_502 = b"""<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""

MALFORMED_JSON = b'{"id": "5f1c2e9a", "status": PROCESSING_SIMULATION, "lifecycle": {"states": [,]}'


@dataclass
class FaultRule:
    """One fault rule.

    Attributes
    ----------
    id
        Identifier returned to the caller.
    kind
        One of :data:`FAULT_KINDS`.
    remaining
        How many more times it fires (``None``: until cleared).
    fraction
        Probability of firing on each matching request (``None``: always).
    path
        Regular expression searched in the request path (``None``: any path).
    method
        HTTP method, upper case (``None``: any method).
    delay
        Seconds for ``slow`` and the wait announced by the ``rate_limited_*`` kinds.
    """

    id: str
    kind: str
    remaining: int | None
    fraction: float | None
    path: re.Pattern[str] | None
    method: str | None
    delay: float | None
    fired: int = 0

    def view(self) -> dict[str, Any]:
        """Describe the rule as JSON."""
        return {
            "id": self.id,
            "kind": self.kind,
            "remaining": self.remaining,
            "fraction": self.fraction,
            "path": None if self.path is None else self.path.pattern,
            "method": self.method,
            "delay": self.delay,
            "fired": self.fired,
        }


class FaultRegistry:
    """The active fault rules, first added first matched.

    Parameters
    ----------
    seed
        Seed of the generator behind ``fraction`` rules.
    """

    def __init__(self, seed: int) -> None:
        self.closing = threading.Event()
        """Set when the server is stopping: slow and endless answers then finish at once."""
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._rng = random.Random(f"twyn-emulator:{seed}:faults")

    def add(
        self,
        kind: str,
        *,
        count: int | None = None,
        fraction: float | None = None,
        path: str | None = None,
        method: str | None = None,
        delay: float | None = None,
    ) -> FaultRule:
        """Add a rule; with neither ``count`` nor ``fraction`` it fires once.

        Raises
        ------
        ValueError
            For an unknown kind; ``re.error`` for an invalid path expression.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        rule = FaultRule(
            id=f"fault_{next(self._ids)}",
            kind=kind,
            remaining=1 if count is None and fraction is None else count,
            fraction=fraction,
            path=None if path is None else re.compile(path),
            method=None if method is None else method.upper(),
            delay=delay,
        )
        self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule."""
        self._rules.clear()

    def rules(self) -> list[FaultRule]:
        """Return the active rules."""
        return list(self._rules)

    def take(self, method: str, path: str) -> FaultRule | None:
        """Return the rule that fires for this request, if any, and use it up once."""
        for rule in self._rules:
            if rule.method is not None and rule.method != method.upper():
                continue
            if rule.path is not None and rule.path.search(path) is None:
                continue
            if rule.fraction is not None and self._rng.random() >= rule.fraction:
                continue
            rule.fired += 1
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
            return rule
        return None


class FaultMiddleware:
    """Apply the first matching fault rule to each request.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    registry
        The rules.
    clock
        Source of the current time, for the reset time announced by emulated 429s.
    """

    def __init__(self, app: ASGIApp, *, registry: FaultRegistry, clock: Clock) -> None:
        self.app = app
        self.registry = registry
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        rule = self.registry.take(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        await self._apply(rule, scope, receive, send)

    async def _apply(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        kind = rule.kind
        connection = scope.get(CONNECTION_SCOPE_KEY)
        if kind.startswith("status_"):
            status = int(kind.removeprefix("status_"))
            await send_json(send, status, {"detail": _STATUS_DETAIL[status]})
        elif kind == "html_error":
            await send_bytes(send, 502, NGINX_502, content_type=b"text/html")
        elif kind == "slow":
            await self._sleep(DEFAULT_SLOW_SECONDS if rule.delay is None else rule.delay)
            await self.app(scope, receive, send)
        elif kind == "drop":
            await _drop(connection)
        elif kind == "reset_mid_body":
            await _reset_mid_body(connection, send)
        elif kind == "malformed_json":
            await send_bytes(send, 200, MALFORMED_JSON)
        elif kind == "truncated_json":
            await self._truncated(scope, receive, send)
        elif kind == "rate_limited_body":
            wait = math.ceil(DEFAULT_RETRY_SECONDS if rule.delay is None else rule.delay)
            await send_json(send, 429, rate_limit_body(wait), headers=self._exhausted(wait))
        elif kind == "rate_limited_header":
            wait = math.ceil(DEFAULT_RETRY_SECONDS if rule.delay is None else rule.delay)
            body = {
                "error": "RATE_LIMIT_EXCEEDED",
                "message": "Rate limit exceeded. Try again later.",
            }
            headers = [(b"retry-after", str(wait).encode()), *self._exhausted(wait)]
            await send_json(send, 429, body, headers=headers)
        elif kind == "huge_body":
            await _huge_body(send)
        elif kind == "endless_body":
            await _endless_body(receive, send, self.registry.closing)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up early when the server is stopping.

        Why slices: the stop request comes from another thread, and a threading.Event cannot
        be awaited; without this, shutdown would cancel the task and log a traceback.
        """
        deadline = time.monotonic() + seconds
        while not self.registry.closing.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.05))

    def _exhausted(self, wait: int) -> list[tuple[bytes, bytes]]:
        """Rate-limit headers consistent with an emulated 429: none left until the wait ends."""
        return [
            (b"x-ratelimit-remaining", b"0"),
            (b"x-ratelimit-reset", str(math.ceil(self.clock() + wait)).encode()),
        ]

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the app answer, then send only the first half of its body."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        cut = body[: len(body) // 2]
        status = 200 if start is None else int(start["status"])
        headers = [] if start is None else list(start.get("headers", []))
        headers = [(name, value) for name, value in headers if name.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": cut, "more_body": False})


async def _wait_closed(connection: Connection) -> None:
    """Wait (briefly) until the server has seen the connection go.

    Why: the ASGI app must not return before uvicorn's ``connection_lost`` callback has
    marked the request as disconnected, or uvicorn would log "ASGI callable returned without
    starting response" and try to write a 500 on the dead socket.
    """
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(connection.closed.wait(), timeout=2.0)


async def _drop(connection: Connection | None) -> None:
    """Close the connection without sending a single byte."""
    if connection is None:
        # Served without the emulator's protocol (e.g. an in-process test client):
        # the closest thing to a vanished connection is an error escaping the app.
        raise ConnectionAbortedError("emulated dropped connection")
    connection.abort()
    await _wait_closed(connection)


async def _reset_mid_body(connection: Connection | None, send: Send) -> None:
    """Send the status line, headers and part of a JSON body, then abort the connection."""
    body = json_bytes(
        {"items": [{"id": f"sim-{index}", "status": "PENDING"} for index in range(200)]}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body[: len(body) // 3], "more_body": True})
    if connection is None:
        raise ConnectionResetError("emulated connection reset mid-body")
    # Why: abort() discards whatever is still buffered, so let the partial body reach the
    # socket first; otherwise the client could see a bare drop instead of a cut body.
    transport = connection.transport
    for _ in range(100):
        if (
            not isinstance(transport, asyncio.WriteTransport)
            or not transport.get_write_buffer_size()
        ):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    connection.abort()
    await _wait_closed(connection)


async def _huge_body(send: Send) -> None:
    """Send a valid JSON document of about 50 MB, in chunks."""
    item = json_bytes(
        {
            "id": "00000000-0000-4000-8000-000000000000",
            "status": "COMPLETED_ANALYSIS",
            "title": "Huge Response Padding Analysis",
            "prompt": "x" * 300,
            "tags": ["huge"],
        }
    )
    count = HUGE_BODY_BYTES // (len(item) + 1)
    head = b'{"items":['
    tail = b'],"total":%d,"limit":%d,"offset":0}' % (count, count)
    body = head + b",".join([item] * count) + tail
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    view = memoryview(body)
    step = 1024 * 1024
    for offset in range(0, len(body), step):
        chunk = bytes(view[offset : offset + step])
        await send(
            {"type": "http.response.body", "body": chunk, "more_body": offset + step < len(body)}
        )


async def _endless_body(receive: Receive, send: Send, closing: threading.Event) -> None:
    """Stream a JSON-looking body forever, until the client goes away or the server stops."""
    gone = asyncio.Event()

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                return

    # Why a separate task: uvicorn's send() returns silently once the client has gone, so
    # only receive() tells us to stop; it has to be awaited alongside the sending loop.
    watcher = asyncio.ensure_future(watch())
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"items":[', "more_body": True})
        chunk = (b'{"status":"PROCESSING_SIMULATION"},' * (CHUNK_BYTES // 35 + 1))[:CHUNK_BYTES]
        while not gone.is_set() and not closing.is_set():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            # Yield to the loop so the disconnect (and everything else) gets a turn.
            await asyncio.sleep(0.001)
        # End the response properly, so that a stopping server has nothing left to cancel.
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        watcher.cancel()
