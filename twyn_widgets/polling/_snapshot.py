"""``WatchSnapshot``: the immutable state of a watch that subscribers (widgets) render."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from .._estimate import Estimate, estimate
from ..models import Phase, Simulation, SimulationResult, Status

__all__ = ["WatchSnapshot", "WatchState"]


class WatchState(str, enum.Enum):
    """Where a watch stands."""

    WATCHING = "watching"
    RETRYING = "retrying"
    RATE_LIMITED = "rate-limited"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ERROR = "error"
    TIMED_OUT = "timed-out"
    STOPPED = "stopped"

    @property
    def is_final(self) -> bool:
        """Whether the watch has ended."""
        return self in _FINAL

    def __str__(self) -> str:
        return str(self.value)


_FINAL = frozenset(
    {WatchState.SUCCEEDED, WatchState.FAILED, WatchState.ERROR, WatchState.TIMED_OUT,
     WatchState.STOPPED}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class WatchSnapshot:
    """One moment of a watch, pushed to subscribers on every change.

    Attributes
    ----------
    simulation_id
        The watched simulation.
    state
        Watching, retrying, rate-limited, or how it ended.
    simulation
        The last simulation object the server sent (``None`` before the first answer).
    time_scale
        The client's scale, for re-estimating progress between polls.
    polls
        Requests this watch has made (a batched list call counts for each watch in it).
    retries
        Transient failures seen so far.
    notice
        A line for the user: "cannot resolve api.twyn.it, retry 3 in 4 s", "rate limited:
        waiting 40 s", "unknown status 'QUEUED'"; ``None`` when all is well.
    rate_limited_until
        Epoch seconds until which a 429 holds polling, or ``None``.
    result
        The result once the watch succeeded.
    error
        The exception the watch ended with (failed, timed out, an API error), if any.
    """

    simulation_id: str
    state: WatchState = WatchState.WATCHING
    simulation: Simulation | None = None
    time_scale: float = 1.0
    polls: int = 0
    retries: int = 0
    notice: str | None = None
    rate_limited_until: float | None = None
    result: SimulationResult | None = None
    error: BaseException | None = None

    @property
    def status(self) -> Status | None:
        """The last status seen."""
        return None if self.simulation is None else self.simulation.status

    @property
    def phase(self) -> Phase | None:
        """The current phase (the failed one after FAILED)."""
        return None if self.simulation is None else self.simulation.phase

    @property
    def done(self) -> bool:
        """Whether the watch has ended."""
        return self.state.is_final

    def estimate(self, now: datetime) -> Estimate:
        """Progress, ETA and elapsed time at ``now`` (call it again each second to tick)."""
        if self.simulation is None:
            return Estimate(0.0, None, None, None)
        return estimate(self.simulation, now, self.time_scale)

    def evolve(self, **changes: object) -> WatchSnapshot:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]
