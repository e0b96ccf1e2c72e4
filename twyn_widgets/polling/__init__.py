"""The polling layer: schedules, and the watches that a shared background scheduler runs.

:class:`Watch` is the caller's handle on a watched simulation; subscribers (the widgets)
receive a :class:`WatchSnapshot` on every change, whose :class:`WatchState` says where the
watch stands. A schedule (:class:`Fixed`, :class:`Backoff`, the default :class:`PhaseAware`,
or any object with ``next_delay(PollContext)``) says when to poll. The rest is private: one
pure poller per client decides every request (``_poller``), and the engine runs them
(``_engine``); ``docs/architecture.md`` follows one poll through them.
"""

from __future__ import annotations

from ._schedules import Backoff, Fixed, PhaseAware, PollContext, Schedule
from ._snapshot import WatchSnapshot, WatchState
from ._watch import Watch

__all__ = [
    "Backoff",
    "Fixed",
    "PhaseAware",
    "PollContext",
    "Schedule",
    "Watch",
    "WatchSnapshot",
    "WatchState",
]
