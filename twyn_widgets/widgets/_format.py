"""Small text formatters shared by the widgets' HTML and text faces."""

from __future__ import annotations

import math

from ..models import Phase

__all__ = ["clock", "phase_text"]


def clock(seconds: float | None) -> str:
    """``42 s``, ``3:07`` or ``1:02:03``; ``--`` when unknown."""
    if seconds is None or math.isnan(seconds):
        return "--"
    total = max(0, int(seconds))
    if total < 60:
        return f"{total} s"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def phase_text(phase: Phase | None) -> str:
    """``Simulator, 2 of 3``, or an empty string."""
    return "" if phase is None else f"{phase.label}, {phase.number} of {len(Phase)}"
