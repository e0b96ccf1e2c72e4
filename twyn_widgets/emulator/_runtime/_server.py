"""Run the emulator on a real socket in a background thread, and talk to its control API.

:func:`start` binds a listening socket in the caller's thread (so "address in use" is raised
right there and port 0 resolves to a real free port at once), then runs uvicorn on that
socket in a daemon thread with its own event loop, and returns once the server accepts
connections. :class:`Emulator` is the handle: URLs, the default key, helpers for the
``/_emulator`` control API (plain ``requests`` calls that send the instance's control token)
and :meth:`Emulator.stop`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import requests
import uvicorn

from .._domain import Clock
from .._guard import TOKEN_HEADER, is_loopback_bind, reachable_addresses
from .._http import EmulatorContext, ListItems
from ._app import create_app
from ._connections import tracking_protocol

if TYPE_CHECKING:
    from fastapi import FastAPI

    from twyn_widgets.client import TwynClient

THREAD_NAME = "twyn-emulator"
STARTUP_TIMEOUT = 15.0
CONTROL_TIMEOUT = 10.0


class EmulatorError(RuntimeError):
    """The emulator could not start, or a control call failed."""


class Emulator:
    """A running emulator.

    Use it as a context manager, or call :meth:`stop` when done::

        with start(speed=60) as emu:
            client = emu.client()

    Attributes
    ----------
    host, port
        Where the server listens.
    root_url
        ``http://HOST:PORT`` (for ``/docs``, ``/openapi.json`` and ``/_emulator``).
    base_url
        ``http://HOST:PORT/v1``, the API base URL to give a client.
    api_key
        The default tenant's key (``twyn_test_...``).
    tenant_id
        The default tenant.
    speed
        The speed factor.
    seed
        The seed of ids, keys and durations (drawn at random unless given to :func:`start`):
        pass it to :func:`start` to get the same ids and keys again.
    app
        The FastAPI application being served.

    Notes
    -----
    The control API's token is held by the handle (:attr:`control_token`) and sent by every
    helper method; it never appears in the handle's ``repr``.
    """

    def __init__(
        self,
        *,
        app: FastAPI,
        server: uvicorn.Server,
        thread: threading.Thread,
        host: str,
        port: int,
    ) -> None:
        ctx: EmulatorContext = app.state.emulator
        self.app = app
        self.host = host
        self.port = port
        self.root_url = f"http://{_url_host(host)}:{port}"
        self.base_url = f"{self.root_url}/v1"
        self.api_key = ctx.key.secret
        self.tenant_id = ctx.tenant.id
        self.speed = ctx.speed
        self.seed = ctx.seed
        self._context = ctx
        self._server = server
        self._thread = thread
        self._stopped = False
        self._stop_lock = threading.Lock()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<Emulator {self.base_url} speed={self.speed:g} {state}>"

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def control_token(self) -> str:
        """The token the control API requires (header ``X-Emulator-Token``)."""
        return self._context.control_token

    @property
    def running(self) -> bool:
        """Whether the server thread is still serving."""
        return self._thread.is_alive() and not self._stopped

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server and join its thread (idempotent).

        Parameters
        ----------
        timeout
            Seconds to wait for a graceful shutdown before in-flight requests are cut.
        """
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        # Let slow and endless fault answers finish first, then ask uvicorn to exit: its main
        # loop checks this flag every 0.1 s, and setting it from another thread is how
        # uvicorn's own signal handlers stop it.
        self._context.faults.closing.set()
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)

    def wait(self) -> None:
        """Block until the server stops (KeyboardInterrupt in the caller ends the wait)."""
        # Join in short slices: a join without timeout can hold off Ctrl-C in the main thread.
        while self._thread.is_alive():
            self._thread.join(0.5)

    def client(self, **kwargs: Any) -> TwynClient:
        """Return a ``TwynClient`` for this emulator with the default key.

        Parameters
        ----------
        **kwargs
            Passed to ``TwynClient``; they override ``api_key``, ``base_url`` and
            ``time_scale`` (which defaults to ``1 / speed``).
        """
        # Imported here: the emulator never depends on the client at import time.
        from twyn_widgets.client import TwynClient

        options: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "time_scale": 1.0 / self.speed,
        }
        options.update(kwargs)
        return TwynClient(**options)

    # Control API helpers ------------------------------------------------------------------

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.root_url}/_emulator/{path}"
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = {}  # the control API accepts JSON only, even when there is nothing to say
        response = requests.request(
            method,
            url,
            json=body,
            headers={TOKEN_HEADER: self.control_token},
            timeout=CONTROL_TIMEOUT,
        )
        if response.status_code >= 400:
            raise EmulatorError(
                f"{method} /_emulator/{path} answered {response.status_code}: {response.text}"
            )
        return response.json() if response.content else None

    def set_list_items(self, mode: ListItems) -> None:
        """Serve list items whole (``"full"``) or as summaries (``"summary"``) from now on."""
        self._control("PUT", "list-items", {"mode": mode})

    def health(self) -> dict[str, Any]:
        """Return ``{"ok": True, "speed": ...}``."""
        result: dict[str, Any] = self._control("GET", "health")
        return result

    def inject(
        self,
        kind: str,
        *,
        count: int | None = None,
        fraction: float | None = None,
        path: str | None = None,
        method: str | None = None,
        delay: float | None = None,
    ) -> str:
        """Add a fault rule (see ``POST /_emulator/faults``) and return its id.

        Parameters
        ----------
        kind
            ``status_500``, ``status_502``, ``status_503``, ``status_504``, ``html_error``,
            ``slow``, ``drop``, ``reset_mid_body``, ``malformed_json``, ``truncated_json``,
            ``rate_limited_body``, ``rate_limited_header``, ``huge_body`` or ``endless_body``.
        count
            Fire for the next ``count`` matching requests (1 when neither this nor
            ``fraction`` is given).
        fraction
            Fire on each matching request with this probability, until cleared.
        path
            Regular expression searched in the request path, e.g. ``^/v1/simulations/[^/]+$``.
        method
            HTTP method to match.
        delay
            Seconds: the sleep of ``slow`` (default 5), the wait announced by
            ``rate_limited_*`` (default 2).
        """
        body = {
            "kind": kind,
            "count": count,
            "fraction": fraction,
            "path": path,
            "method": method,
            "delay": delay,
        }
        return str(self._control("POST", "faults", body)["id"])

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._control("DELETE", "faults")

    def counters(self) -> dict[str, Any]:
        """Return the traffic counters (see ``GET /_emulator/counters``)."""
        result: dict[str, Any] = self._control("GET", "counters")
        return result

    def reset_counters(self) -> None:
        """Zero the traffic counters."""
        self._control("POST", "counters/reset")

    def set_rate_limit(self, api_key: str, limit: int, window: float | None = None) -> None:
        """Give a key ``limit`` requests per window, starting a fresh window now.

        Parameters
        ----------
        api_key
            The key (its secret).
        limit
            Requests allowed per window.
        window
            Window length in real seconds; by default one emulated hour (``3600 / speed``).
        """
        self._control("POST", "rate-limit", {"api_key": api_key, "limit": limit, "window": window})

    def enable_key(self, api_key: str) -> None:
        """Make a disabled key active again (``PATCH /v1/keys/{id}`` can only disable it)."""
        self._control("POST", "keys/enable", {"api_key": api_key})

    def new_tenant(self, name: str | None = None) -> tuple[str, str]:
        """Create a tenant with one key; return ``(tenant_id, api_key)``."""
        result = self._control("POST", "tenants", {"name": name})
        return str(result["tenant_id"]), str(result["api_key"])

    def fail(self, sim_id: str, error_log: str | None = None, phase: str | None = None) -> None:
        """Make a simulation fail now, or when it reaches ``phase``."""
        self._control(
            "POST", f"simulations/{sim_id}/fail", {"error_log": error_log, "phase": phase}
        )

    def force_status(self, sim_id: str, status: str, duration: float | None = None) -> None:
        """Report ``status`` for a simulation for ``duration`` seconds (forever if None)."""
        self._control(
            "POST", f"simulations/{sim_id}/status", {"status": status, "duration": duration}
        )

    def delete_simulation(self, sim_id: str) -> None:
        """Remove a simulation (later requests for it answer 404)."""
        self._control("DELETE", f"simulations/{sim_id}")


def _url_host(host: str) -> str:
    """The host to put in URLs: wildcard binds are reached through loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP so that asyncio sets TCP_NODELAY on accepted sockets (see
    # connections._no_delay, which makes sure of it anyway).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def start(
    *,
    speed: float = 1.0,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int | None = None,
    rate_limit: int = 1000,
    log_level: str = "warning",
    clock: Clock | None = None,
    allow_remote: bool = False,
    allowed_hosts: Sequence[str] = (),
    list_items: ListItems = "full",
) -> Emulator:
    """Start an emulator in a background thread and return once it accepts connections.

    Parameters
    ----------
    speed
        Speed factor: a simulation that takes 5 minutes at speed 1 takes 5 seconds at 60.
    host
        Interface to listen on. Anything but a loopback address needs ``allow_remote``.
    port
        Port to listen on; 0 picks a free one.
    seed
        Seed of ids, keys, phase durations and probabilistic faults. ``None`` (the default)
        draws a fresh random seed, so two instances never share ids or keys; a number gives
        the same ones on every run.
    rate_limit
        Requests per window for keys that do not set their own. The window is the
        documented hour, sped up like everything else: ``3600 / speed`` real seconds.
    log_level
        Level of uvicorn's loggers. The emulator installs no log handler and writes no
        access log.
    clock
        Source of the current time in epoch seconds (default :func:`time.time`); tests
        pass a controllable clock to step through lifecycles and rate-limit windows
        without waiting.
    allow_remote
        Allow ``host`` to be an address other machines can reach. The server then draws its
        key from the OS's random source even when ``seed`` is given. Anyone who can reach
        it and learns the key can read every simulation.
    allowed_hosts
        More ``Host`` header values to answer besides ``localhost``, loopback addresses and
        ``host`` itself (for a proxy or a name in ``/etc/hosts``); ``"*"`` answers any
        ``Host`` and so gives up the DNS-rebinding protection.
    list_items
        ``"summary"``: ``GET /v1/simulations`` serves summary items (``id``, ``title``,
        ``status``, ``created_at``) instead of whole simulations; see also
        :meth:`Emulator.set_list_items`.

    Returns
    -------
    Emulator
        The running emulator.

    Raises
    ------
    OSError
        When the address cannot be bound.
    EmulatorError
        When ``host`` is not a loopback address and ``allow_remote`` is false, or when the
        server does not come up.
    """
    remote = not is_loopback_bind(host)
    if remote and not allow_remote:
        where = ", ".join(reachable_addresses(host))
        raise EmulatorError(
            f"refusing to listen on {host or '0.0.0.0'} (reachable from other machines at "
            f"{where}): pass allow_remote=True (--allow-remote) if that is what you want"
        )
    app = create_app(
        speed=speed,
        seed=seed,
        rate_limit=rate_limit,
        clock=clock,
        bound_host=host,
        allowed_hosts=allowed_hosts,
        random_secrets=remote,
        list_items=list_items,
    )
    ctx: EmulatorContext = app.state.emulator
    sock = _bind(host, port)
    bound_port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        # Our h11 subclass, so connections can be counted and faults can cut them.
        http=tracking_protocol(ctx.counters),
        # Plain asyncio: predictable transports (abort() semantics) whatever is installed.
        loop="asyncio",
        lifespan="off",
        # No dictConfig of the host process's logging (this may run inside a notebook
        # kernel), and no access log.
        log_config=None,
        log_level=log_level,
        access_log=False,
        # The client address must stay the socket's peer: connections are found by it.
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=75,
        # Endless or slow fault responses must not hold a shutdown for long.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    # Daemon: a forgotten emulator must never keep the interpreter (or a kernel) alive.
    # uvicorn installs no signal handlers outside the main thread, which is what we want.
    thread = threading.Thread(target=serve, name=THREAD_NAME, daemon=True)
    thread.start()
    # uvicorn offers no "started" callback, only the ``started`` flag set on its own loop;
    # polling it briefly from here is the simple, thread-safe way to wait for it.
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise EmulatorError("the emulator server thread exited during startup")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise EmulatorError("the emulator did not start in time")
        time.sleep(0.005)
    return Emulator(app=app, server=server, thread=thread, host=host, port=bound_port)
