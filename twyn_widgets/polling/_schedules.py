"""When to poll next: the docs' two schedules and a phase-aware default.

A schedule works in *API seconds*, the real service's time: it answers "how long until the next
poll" for a :class:`PollContext`. The poller then applies, in this order, the
docs' floor (no simulation polled faster than once a second), the client's ``time_scale``, the
server's ``retry_after``, and the key's shared rate budget.
Schedules hold no state between calls, so one instance can serve any number of watches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, runtime_checkable

from ..models import Phase, Status

__all__ = ["MIN_INTERVAL", "Backoff", "Fixed", "PhaseAware", "PollContext", "Schedule", "seconds"]

MIN_INTERVAL = 1.0
"""Never poll one simulation faster than once a second: the docs' hard floor."""


def seconds(value: float | timedelta, name: str = "duration") -> float:
    """A duration given as seconds or a ``timedelta``, as positive float seconds."""
    out = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not out > 0:
        raise ValueError(f"{name} must be > 0 (got {value!r})")
    return out


@dataclass(frozen=True, slots=True)
class PollContext:
    """What a schedule may know when it picks the next poll.

    Attributes
    ----------
    status
        The last status seen, or ``None`` before the first answer.
    phase_elapsed
        API seconds since the current phase's PROCESSING_* began (from the lifecycle),
        or ``None`` when not in a PROCESSING_* status or without timestamps.
    polls
        Polls made so far by this watch (1 after the first).
    """

    status: Status | None
    phase_elapsed: float | None
    polls: int


@runtime_checkable
class Schedule(Protocol):
    """Anything with ``next_delay(context) -> API seconds`` is a schedule."""

    def next_delay(self, context: PollContext) -> float:
        """API seconds until the next poll (the poller floors it at 1 s)."""
        ...


class Fixed:
    """Poll every ``interval`` seconds: the docs' basic loop (``Fixed(5)``).

    Parameters
    ----------
    interval
        Seconds between polls (API time); at least 1 s is used whatever is given (the docs' floor).
    """

    __slots__ = ("interval",)

    def __init__(self, interval: float | timedelta = 5.0) -> None:
        self.interval = seconds(interval, "interval")

    def next_delay(self, context: PollContext) -> float:
        """Always ``interval``."""
        return self.interval

    def __repr__(self) -> str:
        return f"Fixed({self.interval:g})"


class Backoff:
    """Poll after each of ``intervals`` in turn, then keep the last: the docs' backoff loop.

    ``Backoff((2, 5, 10, 15, 30))`` waits 2 s after the first poll, 5 s after the second,
    ..., then 30 s after every later one.
    """

    __slots__ = ("intervals",)

    def __init__(self, intervals: Sequence[float | timedelta] = (2, 5, 10, 15, 30)) -> None:
        if not intervals:
            raise ValueError("intervals must not be empty")
        self.intervals = tuple(seconds(i, "interval") for i in intervals)

    def next_delay(self, context: PollContext) -> float:
        """The interval for this poll's rank, the last one from then on."""
        return self.intervals[min(max(context.polls - 1, 0), len(self.intervals) - 1)]

    def __repr__(self) -> str:
        return f"Backoff({tuple(round(i, 3) for i in self.intervals)})"


class PhaseAware:
    """The default: poll rarely early in a phase and often near its expected end.

    A phase cannot end before its documented minimum (Architect 60 s, Simulator 120 s,
    Analyst 60 s) and usually ends before its maximum (120, 240, 120 s). So:

    - before the minimum, sleep until it (at most ``max_interval`` at a time);
    - inside ``[minimum, maximum]``, poll every ``interval``, or every ``final_interval``
      in the Analyst phase, whose end is the moment the caller is waiting for;
    - past the maximum (an overrun), stretch the interval towards twice as long;
    - PENDING and COMPLETED_* last about a second: poll after ``transition_interval``;
    - an unknown status (a future API's) is polled every ``interval``.

    Every interval is in API seconds and never below the docs' 1 s floor.

    The defaults cost about a quarter of the requests of the docs' 5 s loop for one simulation,
    with a mean delay of about 1.5 s between completion and the caller knowing it, on paper
    (``docs/benchmarks.md`` has the measured figures): the result waits only on the Analyst's
    window, polled every 3 s; the Architect and Simulator windows, which only the widget's
    phase text waits on, once a minute (the progress bar keeps estimating in between).

    Parameters
    ----------
    interval
        Spacing inside the expected window of the Architect and Simulator phases. Only the
        widget's phase text waits on these; the result does not.
    final_interval
        Spacing inside the Analyst's window: the mean delay between completion and the
        caller knowing it is about half of this.
    max_interval
        The longest single wait.
    transition_interval
        Wait after PENDING and COMPLETED_* statuses.
    """

    __slots__ = ("final_interval", "interval", "max_interval", "transition_interval")

    needs_phase_timing = True
    """It reads ``phase_elapsed``: a list summary without a lifecycle calls for a single GET."""

    def __init__(
        self,
        *,
        interval: float | timedelta = 60.0,
        final_interval: float | timedelta = 3.0,
        max_interval: float | timedelta = 60.0,
        transition_interval: float | timedelta = 2.0,
    ) -> None:
        self.interval = seconds(interval, "interval")
        self.final_interval = seconds(final_interval, "final_interval")
        self.max_interval = seconds(max_interval, "max_interval")
        self.transition_interval = seconds(transition_interval, "transition_interval")

    def next_delay(self, context: PollContext) -> float:
        """API seconds until the next poll; see the class docstring for the rule."""
        status = context.status
        if status is None:
            return self.transition_interval
        phase = status.phase
        if phase is None:  # unknown status, or FAILED (the poller stops before asking)
            return self.interval
        if status != phase.processing_status or context.phase_elapsed is None:
            return self.transition_interval
        t = context.phase_elapsed
        step = self.final_interval if phase is Phase.ANALYST else self.interval
        if t < phase.min_seconds:
            return min(max(phase.min_seconds - t, step), self.max_interval)
        if t <= phase.max_seconds:
            return min(step, self.max_interval)
        overrun = (t - phase.max_seconds) / phase.max_seconds
        return min(step * (1 + min(overrun, 1.0)), self.max_interval)

    def __repr__(self) -> str:
        return (
            f"PhaseAware(interval={self.interval:g}, final_interval={self.final_interval:g}, "
            f"max_interval={self.max_interval:g})"
        )
