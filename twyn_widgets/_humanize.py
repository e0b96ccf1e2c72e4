"""Durations as people write them: ``45 s``, ``12 min``, ``1 h 5 min``, ``2 d 3 h``."""

from __future__ import annotations

import math

__all__ = ["duration"]


def duration(seconds: float | None) -> str:
    """A duration in at most two units, rounded down to whole units; ``--`` when unknown.

    >>> duration(42.7), duration(2700), duration(3900), duration(93784)
    ('42 s', '45 min', '1 h 5 min', '1 d 2 h')
    """
    if seconds is None or math.isnan(seconds) or math.isinf(seconds):
        return "--"
    total = max(0, int(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {secs} s" if secs and minutes < 10 else "")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")
