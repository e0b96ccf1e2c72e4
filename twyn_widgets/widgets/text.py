"""The text faces: a deterministic repr, and a progress line for terminals."""

from __future__ import annotations

from ..polling import WatchSnapshot
from ._format import clock, phase_text
from .html import outcome_text, title_of

__all__ = ["progress_line", "watcher_repr"]


def watcher_repr(snapshot: WatchSnapshot, elapsed: float | None) -> str:
    """``SimulationWatcher(id, status, phase, elapsed, outcome)``: no widget ids, no key."""
    status = str(snapshot.status) if snapshot.status is not None else "unknown"
    phase = phase_text(snapshot.phase) or "-"
    return (
        f"SimulationWatcher(id={snapshot.simulation_id!r}, status={status}, "
        f"phase={phase!r}, elapsed={clock(elapsed)!r}, {outcome_text(snapshot)})"
    )


def progress_line(
    snapshot: WatchSnapshot, progress: float, elapsed: float | None, width: int = 24
) -> str:
    """``[#########---------------]  38% Simulator, 2 of 3 · PROCESSING_SIMULATION · 1:23``."""
    filled = round(max(0.0, min(1.0, progress)) * width)
    bar = "#" * filled + "-" * (width - filled)
    status = str(snapshot.status) if snapshot.status is not None else "waiting"
    title = title_of(snapshot)
    title = title if len(title) <= 40 else title[:39] + "…"
    notice = f" · {snapshot.notice}" if snapshot.notice else ""
    return (
        f"[{bar}] {progress * 100:3.0f}% {title} · {phase_text(snapshot.phase) or '-'} · "
        f"{status} · {clock(elapsed)} · {outcome_text(snapshot)}{notice}"
    )
