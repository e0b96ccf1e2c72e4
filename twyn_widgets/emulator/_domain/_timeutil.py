"""Wall-clock helpers: the emulator's clock type and ISO-8601 formatting.

Timestamps leave the emulator as ISO-8601 UTC strings with a ``Z`` suffix and millisecond
precision (``2025-11-24T01:00:00.123Z``): at high speed factors whole phases last less than
a second, so second precision would make distinct lifecycle entries look simultaneous.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timezone

_EPSILON_MS = 1e-3
"""Tolerance (in milliseconds) when flooring to whole milliseconds.

Why: at today's epoch values a float's resolution is about 0.24 microseconds, so a time that
is already a whole number of milliseconds may come back as ``...122.9999998`` once multiplied
by 1000; flooring that naively would lose a millisecond every time it is rounded again.
"""

Clock = Callable[[], float]
"""A zero-argument callable returning seconds since the Unix epoch (like :func:`time.time`)."""

system_clock: Clock = time.time


def iso_ms(epoch: float) -> str:
    """Format epoch seconds as ISO-8601 UTC with milliseconds and a ``Z`` suffix.

    Parameters
    ----------
    epoch
        Seconds since the Unix epoch.

    Returns
    -------
    str
        For example ``"2025-11-24T01:00:00.123Z"``.
    """
    millis = math.floor(epoch * 1000 + _EPSILON_MS)
    moment = datetime.fromtimestamp(millis // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis % 1000:03d}Z"


def to_epoch(moment: datetime) -> float:
    """Convert a datetime to epoch seconds, reading a naive datetime as UTC.

    Parameters
    ----------
    moment
        An aware or naive datetime (naive ones are taken to be UTC, as the docs' examples are).

    Returns
    -------
    float
        Seconds since the Unix epoch.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def round_ms(epoch: float) -> float:
    """Round epoch seconds down to whole milliseconds, the precision the API reports."""
    return math.floor(epoch * 1000 + _EPSILON_MS) / 1000
