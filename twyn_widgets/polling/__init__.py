"""The polling layer: one scheduler for every watch, schedules, the rate budget, watches.

No ipywidgets here: widgets subscribe to a :class:`Watch` and render its snapshots.
"""

from __future__ import annotations

from .budget import RateBudget
from .engine import DEFAULT_TIMEOUT, Engine, get_engine
from .schedules import MIN_INTERVAL, Backoff, Fixed, PhaseAware, PollContext, Schedule
from .snapshot import WatchSnapshot, WatchState
from .tracker import retry_delay
from .watch import Watch

__all__ = [
    "DEFAULT_TIMEOUT",
    "MIN_INTERVAL",
    "Backoff",
    "Engine",
    "Fixed",
    "PhaseAware",
    "PollContext",
    "RateBudget",
    "Schedule",
    "Watch",
    "WatchSnapshot",
    "WatchState",
    "get_engine",
    "retry_delay",
]
