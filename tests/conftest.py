"""Shared fixtures: a real emulator on loopback and clients of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

SPEED = 600.0
"""The emulator runs 600x faster: a 4-8 minute simulation takes 0.4-0.8 s."""


def real(seconds: float, scale: float = 1 / SPEED) -> float:
    """A wait's ``timeout`` that lasts ``seconds`` real seconds for a client of ``scale``.

    Every timeout of the package counts API seconds (scaled by the client's ``time_scale``);
    a test bounds its waits in real time, so it converts.
    """
    return seconds / scale


@pytest.fixture(scope="session")
def emu() -> Iterator[Any]:
    """One emulator for the session (HTTP over 127.0.0.1)."""
    from twyn_widgets import emulator

    with emulator.start(speed=SPEED, seed=7) as server:
        yield server


@pytest.fixture
def client(emu: Any) -> Iterator[Any]:
    """A fresh client of the session's emulator; faults cleared after the test."""
    c = emu.client()
    try:
        yield c
    finally:
        emu.clear_faults()
        c.close()


@pytest.fixture(autouse=True)
def _fresh_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no client of ``tw.connect()`` and no default client; the clients
    it connects are closed after it (their watches stop).

    Why: ``tw.connect()`` hands back the client it made for the same key and URL for as long as
    the process lives, at the time scale it was made with. A client a test made without
    ``TWYN_TIME_SCALE`` made a later test in the same process poll at the real service's pace
    (a minute instead of a second), and which tests share a worker process changes from run to
    run.
    """
    from twyn_widgets import _connect

    clients: dict[object, Any] = {}
    monkeypatch.setattr(_connect, "_clients", clients)
    monkeypatch.setattr(_connect, "_default", None)
    yield
    for connected in clients.values():
        connected.close()
