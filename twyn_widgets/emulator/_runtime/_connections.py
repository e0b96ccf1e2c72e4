"""A uvicorn HTTP protocol that reports its connections to the emulator.

uvicorn creates one protocol object per accepted TCP connection. This subclass of its h11
protocol registers each connection with :class:`~twyn_widgets.emulator._control.Counters`
when the socket is accepted and unregisters it when it is lost. The registry lets the
counters count TCP connections, and lets fault injection reach the request's transport to
close it without an answer (``drop``) or half-way through the body (``reset_mid_body``);
plain ASGI offers no way to do either.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

from .._control import Connection, Counters


def _no_delay(transport: asyncio.BaseTransport) -> None:
    """Disable Nagle's algorithm on an accepted socket.

    Why: asyncio only sets TCP_NODELAY when the socket's ``proto`` is IPPROTO_TCP, which is
    not the case for sockets accepted from a listener created with proto 0. Without it, the
    status line and the body (two writes) meet the client's delayed ACK and every request
    on a kept-alive connection takes about 40 ms.
    """
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def tracking_protocol(counters: Counters) -> type[H11Protocol]:
    """Build an h11 protocol class bound to ``counters``.

    Parameters
    ----------
    counters
        Registry that receives every connection made and lost.

    Returns
    -------
    type
        A subclass of uvicorn's ``H11Protocol``, to pass as ``uvicorn.Config(http=...)``.
    """

    class TrackingH11Protocol(H11Protocol):
        """uvicorn's h11 protocol, reporting connections to the emulator's counters."""

        _tracked: Connection | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            _no_delay(transport)
            super().connection_made(transport)
            # ``self.client`` is the same (host, port) uvicorn puts in ``scope["client"]``,
            # which is how a request finds its connection again.
            self._tracked = counters.connection_made(self.client, transport)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._tracked is not None:
                counters.connection_lost(self._tracked)
                self._tracked = None
            super().connection_lost(exc)

    return TrackingH11Protocol
