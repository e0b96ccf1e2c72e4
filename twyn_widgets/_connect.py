"""``connect()``: a client for the real API when a key is set, else for an embedded emulator."""

from __future__ import annotations

import importlib
import os
import threading
from typing import Any

from .client import TwynClient
from .errors import ConfigurationError
from .models import Simulation

__all__ = ["connect", "default_client", "resolve_client", "set_default_client"]

_lock = threading.Lock()
_embedded: Any = None  # the process's embedded emulator, started once on first need
_clients: dict[tuple[Any, ...], TwynClient] = {}
_default: TwynClient | None = None

DEFAULT_EMULATOR_SPEED = 30.0
"""A 4-8 minute simulation takes 8-16 s on the embedded emulator: long enough to watch."""


def connect(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    speed: float | None = None,
    quiet: bool = False,
    **client_options: Any,
) -> TwynClient:
    """A client ready to use: the real API with a key, a local emulator without one.

    With ``api_key`` or ``TWYN_API_KEY`` set, returns ``TwynClient(api_key, base_url)`` and
    prints one line naming its server and its masked key (``twyn-widgets: using
    https://api.twyn.it/v1 with key twyn_live_...abcd``). Otherwise starts (once per process)
    the embedded Twyn emulator on 127.0.0.1 in the background and returns a client of it whose
    ``time_scale`` is ``1/speed``, saying so in one line.

    Parameters
    ----------
    api_key, base_url
        As for :class:`TwynClient`.
    speed
        How much faster than the real service the embedded emulator runs; defaults to
        ``TWYN_EMULATOR_SPEED`` or 30. Ignored when a key is set.
    quiet
        Do not print the line that names the server used (the API's URL and the masked key,
        or the emulator's address).
    **client_options
        Passed on to :class:`TwynClient` (``timeout``, ``time_scale``...).

    Raises
    ------
    ConfigurationError
        No key is set and the emulator extra is not installed.

    Notes
    -----
    The same arguments (and the same ``TWYN_*`` variables) give the same client while it is
    open, so re-running a cell that connects and watches a simulation joins the running watch
    instead of polling it twice.
    The client returned becomes the default client (see :func:`set_default_client`).
    """
    key = os.environ.get("TWYN_API_KEY", "") if api_key is None else api_key
    url = base_url or os.environ.get("TWYN_BASE_URL", "")
    # Why the time scale's variable too: a client reads it once, when it is made; the same
    # key and URL at another pace is another client.
    scale = os.environ.get("TWYN_TIME_SCALE", "")
    cache_key = (key, url, scale, speed, tuple(sorted(client_options.items(), key=repr)))
    with _lock:
        cached = _clients.get(cache_key)
    if cached is not None and not cached.closed:
        set_default_client(cached)
        return cached
    client = _connect(api_key, base_url, speed=speed, quiet=quiet, **client_options)
    with _lock:
        _clients[cache_key] = client
    set_default_client(client)
    return client


def set_default_client(client: TwynClient | None) -> None:
    """Make ``client`` the one used for a bare simulation id when no client is named.

    :func:`connect` does this for the client it returns; ``None`` forgets the default.
    """
    global _default
    _default = client


def default_client() -> TwynClient | None:
    """The default client, if one is set and still open."""
    client = _default
    return client if client is not None and not client.closed else None


def resolve_client(
    simulation: object = None,
    client: TwynClient | None = None,
    *,
    namespace: dict[str, Any] | None = None,
) -> TwynClient:
    """The client to watch ``simulation`` with, never a server started behind the user's back.

    In this order: ``client`` when given; the client that returned ``simulation`` (a
    :class:`Simulation` remembers it); the default client (:func:`connect`'s, or
    :func:`set_default_client`'s); the only open :class:`TwynClient` in ``namespace`` (the
    notebook's variables by default).

    Raises
    ------
    ConfigurationError
        None of these gives exactly one client: the message lists the choices.
    """
    if client is not None:
        return client
    own = simulation.client if isinstance(simulation, Simulation) else None
    if own is not None and not own.closed:
        return own
    default = default_client()
    if default is not None:
        return default
    if namespace is None:
        from ._ipython import shell

        namespace = getattr(shell(), "user_ns", None) or {}
    found = {
        name: value
        for name, value in namespace.items()
        if isinstance(value, TwynClient) and not value.closed and not name.startswith("_")
    }
    if len(set(map(id, found.values()))) == 1:
        return next(iter(found.values()))
    if found:
        names = ", ".join(sorted(found))
        raise ConfigurationError(
            f"which client? Your notebook has several ({names}): pass client=NAME "
            "(%twyn_wait --client NAME), or call tw.set_default_client(NAME)"
        )
    raise ConfigurationError(
        "no client to watch with: pass client=..., make one with tw.connect() (the real API "
        "with TWYN_API_KEY, else a local emulator) or tw.TwynClient(api_key=...), or call "
        "tw.set_default_client(client)"
    )


def _connect(
    api_key: str | None,
    base_url: str | None,
    *,
    speed: float | None,
    quiet: bool,
    **client_options: Any,
) -> TwynClient:
    if api_key or os.environ.get("TWYN_API_KEY"):
        client = TwynClient(api_key, base_url, **client_options)
        if not quiet:
            # Why print, as for the emulator below: this runs in the caller's thread, so the
            # line lands under the cell that connected; it says which server the key goes to.
            print(f"twyn-widgets: using {client.base_url} with key {client._key_hint}")
        return client
    global _embedded
    with _lock:
        if _embedded is None:
            try:
                emulator = importlib.import_module("twyn_widgets.emulator")
            except ImportError as exc:
                raise ConfigurationError(
                    "no TWYN_API_KEY is set and the local emulator is not installed: "
                    "pip install 'twyn-widgets[emulator]' (or set TWYN_API_KEY)"
                ) from exc
            if speed is None:
                speed = float(os.environ.get("TWYN_EMULATOR_SPEED", DEFAULT_EMULATOR_SPEED))
            _embedded = emulator.start(speed=speed)
            if not quiet:
                # Why print: this runs in the caller's thread (a cell), so the line lands under
                # the cell that asked; it tells the user no real API is involved.
                print(
                    f"twyn-widgets: no TWYN_API_KEY set, using a local Twyn emulator at "
                    f"{_embedded.base_url} ({_embedded.speed:g}x speed)"
                )
    return _embedded.client(**client_options)  # type: ignore[no-any-return]
