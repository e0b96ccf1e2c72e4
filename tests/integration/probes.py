"""What the server sees, read from the emulator's request counters (control traffic excluded)."""

from __future__ import annotations

import time
from typing import Any


def requests_total(emu: Any) -> int:
    """Requests the emulator has served so far."""
    return int(emu.counters()["requests_total"])


def quiet_for(emu: Any, since: float, baseline: int, timeout: float) -> float:
    """Seconds from ``since`` (a ``time.monotonic()``) until the server's count passes ``baseline``.

    Returns ``timeout`` when nothing arrived by then.
    """
    deadline = since + timeout
    while time.monotonic() < deadline:
        if requests_total(emu) > baseline:
            return time.monotonic() - since
        time.sleep(0.005)
    return timeout
