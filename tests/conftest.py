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
