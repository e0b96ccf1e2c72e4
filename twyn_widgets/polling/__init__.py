"""The polling layer: one scheduler for every watch, schedules, watches and their snapshots.

No ipywidgets here: widgets subscribe to a :class:`Watch` and render its snapshots. The
engine, the state machine, the rate budget and the workers live in private modules.
"""

from __future__ import annotations

from ._budget import RateBudget
from ._core import retry_delay
from ._engine import DEFAULT_TIMEOUT, Engine, get_engine
from .schedules import MIN_INTERVAL, Backoff, Fixed, PhaseAware, PollContext, Schedule
from .snapshot import WatchSnapshot, WatchState
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
