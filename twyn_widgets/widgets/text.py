"""The text faces: a deterministic repr, and a progress line for terminals."""

from __future__ import annotations

from .._humanize import duration
from .._render import outcome_text, phase_text, title_of, truncate
from ..polling import WatchSnapshot

__all__ = ["progress_line", "watcher_repr"]


def watcher_repr(snapshot: WatchSnapshot, elapsed: float | None) -> str:
    """``SimulationWatcher(id, status, phase, elapsed, outcome)``: no widget ids, no key."""
    status = str(snapshot.status) if snapshot.status is not None else "unknown"
    phase = phase_text(snapshot.phase) or "-"
    return (
        f"SimulationWatcher(id={snapshot.simulation_id!r}, status={status}, "
        f"phase={phase!r}, elapsed={duration(elapsed)!r}, {outcome_text(snapshot)})"
    )


def progress_line(
    snapshot: WatchSnapshot, progress: float, elapsed: float | None, width: int = 24
) -> str:
    """``[#########---------------]  38% Title · Simulator, 2 of 3 · PROCESSING_SIMULATION ...``."""
    filled = round(max(0.0, min(1.0, progress)) * width)
    bar = "#" * filled + "-" * (width - filled)
    status = str(snapshot.status) if snapshot.status is not None else "waiting"
    notice = f" · {snapshot.notice}" if snapshot.notice else ""
    return (
        f"[{bar}] {progress * 100:3.0f}% {truncate(title_of(snapshot))} · "
        f"{phase_text(snapshot.phase) or '-'} · {status} · {duration(elapsed)} · "
        f"{outcome_text(snapshot)}{notice}"
    )
