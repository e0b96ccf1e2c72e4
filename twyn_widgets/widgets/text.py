"""The text face of a watcher: a deterministic repr (a terminal's lines are in ``terminal``)."""

from __future__ import annotations

from .._humanize import duration
from .._render import outcome_text, phase_text
from ..polling import WatchSnapshot

__all__ = ["watcher_repr"]


def watcher_repr(snapshot: WatchSnapshot, elapsed: float | None) -> str:
    """``SimulationWatcher(id, status, phase, elapsed, outcome)``: no widget ids, no key."""
    status = str(snapshot.status) if snapshot.status is not None else "unknown"
    phase = phase_text(snapshot.phase) or "-"
    return (
        f"SimulationWatcher(id={snapshot.simulation_id!r}, status={status}, "
        f"phase={phase!r}, elapsed={duration(elapsed)!r}, {outcome_text(snapshot)})"
    )
