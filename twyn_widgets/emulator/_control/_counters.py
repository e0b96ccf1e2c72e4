"""Traffic counters: requests by route template, and TCP connections.

Connections are registered by the server's protocol class (see
:mod:`~twyn_widgets.emulator._runtime._connections`) when the socket is accepted, and looked
up by the request's ``scope["client"]`` address, which is unique among open connections.
Connections used only for the emulator's own control API (``/_emulator/...``) are left out,
so that reading the counters does not change them: such a connection is counted when
accepted and uncounted as soon as its first request turns out to be a control request.

Everything here runs on the server's event loop thread, so no lock is needed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from .._guard import is_control_path

CONNECTION_SCOPE_KEY = "twyn_emulator.connection"
"""Scope key under which the request's :class:`Connection` (if known) is made available."""

Peer = tuple[str, int]


@dataclass(eq=False)
class Connection:
    """One accepted TCP connection.

    Attributes
    ----------
    peer
        The client's (host, port).
    transport
        The asyncio transport, used by faults that drop or cut the connection.
    closed
        Set when the connection is lost.
    kind
        ``"new"`` before its first request, then ``"api"`` or ``"control"``.
    """

    peer: Peer | None
    transport: asyncio.BaseTransport
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    kind: str = "new"
    generation: int | None = None

    def abort(self) -> None:
        """Close the socket at once, discarding anything not yet sent."""
        if isinstance(self.transport, asyncio.WriteTransport):
            self.transport.abort()
        else:
            self.transport.close()


class Counters:
    """Requests and connections seen since start or the last reset."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.connections_total = 0
        self.connections_open = 0
        self._generation = 0
        self._by_peer: dict[Peer, Connection] = {}

    # Connections (called by the protocol) -----------------------------------------------------

    def connection_made(self, peer: Peer | None, transport: asyncio.BaseTransport) -> Connection:
        """Register an accepted connection; it counts until shown to be a control one."""
        connection = Connection(peer, transport)
        if peer is not None:
            self._by_peer[peer] = connection
        self._count(connection)
        return connection

    def connection_lost(self, connection: Connection) -> None:
        """Unregister a closed connection."""
        connection.closed.set()
        if connection.peer is not None and self._by_peer.get(connection.peer) is connection:
            del self._by_peer[connection.peer]
        if connection.kind != "control":
            self.connections_open -= 1

    def lookup(self, client: Any) -> Connection | None:
        """Find the open connection of a request from its ``scope["client"]``."""
        if not client:
            return None
        return self._by_peer.get((str(client[0]), int(client[1])))

    def _count(self, connection: Connection) -> None:
        self.connections_total += 1
        self.connections_open += 1
        connection.generation = self._generation

    def classify(self, connection: Connection, *, control: bool) -> None:
        """Record what a request on ``connection`` was for (see the module docstring)."""
        if control and connection.kind == "new":
            connection.kind = "control"
            self.connections_open -= 1
            if connection.generation == self._generation:
                self.connections_total -= 1
        elif not control and connection.kind == "control":
            connection.kind = "api"
            self._count(connection)
        elif not control:
            connection.kind = "api"

    # Requests -----------------------------------------------------------------------------

    def count_request(self, name: str) -> None:
        """Count one request under ``"METHOD /route/{template}"``."""
        self.requests[name] += 1

    def reset(self) -> None:
        """Zero every counter (open connections stay open and are still tracked)."""
        self.requests.clear()
        self.connections_total = 0
        self._generation += 1

    def snapshot(self) -> dict[str, Any]:
        """Return the counters as the control API reports them."""
        return {
            "requests_total": sum(self.requests.values()),
            "requests": dict(sorted(self.requests.items())),
            "connections_total": self.connections_total,
            "connections_open": self.connections_open,
        }


def route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """Return the path template of the route a request is for (its raw path if none)."""
    partial: str | None = None
    for route in routes:
        match, _ = route.matches(scope)
        path = getattr(route, "path", None)
        if match is Match.FULL and isinstance(path, str):
            return path
        if match is Match.PARTIAL and partial is None and isinstance(path, str):
            partial = path
    return partial if partial is not None else str(scope["path"])


class CountersMiddleware:
    """Count every non-control request and classify its connection.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    counters
        Where to count.
    routes
        The app's routes, for route templates.
    """

    def __init__(self, app: ASGIApp, *, counters: Counters, routes: list[BaseRoute]) -> None:
        self.app = app
        self.counters = counters
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            control = is_control_path(scope["path"])
            connection = self.counters.lookup(scope.get("client"))
            if connection is not None:
                self.counters.classify(connection, control=control)
                scope[CONNECTION_SCOPE_KEY] = connection
            if not control:
                template = route_template(self.routes, scope)
                self.counters.count_request(f"{scope['method']} {template}")
        await self.app(scope, receive, send)
