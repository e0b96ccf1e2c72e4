"""``Tracker``: the polling state of one simulation on one client, shared by its watches.

The engine owns the timing and the HTTP; a tracker turns answers and failures into snapshots,
decides when the watch ends, and tells the engine how long to wait before the next poll.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .. import errors
from ..models import Simulation, SimulationResult, Status
from .schedules import MIN_INTERVAL, PollContext, Schedule
from .snapshot import WatchSnapshot, WatchState
from .watch import Watch

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["Tracker", "retry_delay"]

log = logging.getLogger("twyn_widgets")

RETRY_BASE = 1.0
RETRY_CAP = 30.0


def retry_delay(attempt: int, rng: random.Random | None = None) -> float:
    """API seconds before retry ``attempt`` (1, 2, ...) after a transient failure.

    Capped exponential backoff with jitter: ``min(30, 2 ** (attempt - 1)) * U(0.5, 1)``, so
    many watches that fail together (a server outage) do not come back all at once.
    """
    base = min(RETRY_CAP, RETRY_BASE * float(2 ** min(attempt - 1, 16)))
    jitter: float = (rng or random).uniform(0.5, 1.0)
    return base * jitter


def describe(exc: BaseException) -> str:
    """A short, key-free name for a failure: ``HTTP 503``, ``connection dropped``..."""
    if isinstance(exc, errors.APIError):
        return f"HTTP {exc.status_code}"
    names = {
        errors.ConnectError: "connection refused",
        errors.RequestTimeout: "a timeout",
        errors.ConnectionDropped: "a dropped connection",
        errors.ResponseTooLarge: "an oversized answer",
        errors.ProtocolError: "a malformed answer",
    }
    for cls, name in names.items():
        if isinstance(exc, cls):
            return name
    return type(exc).__name__


class Tracker:
    """Polling state of one (client, simulation) pair."""

    def __init__(
        self,
        engine: Engine,
        client: Any,
        simulation_id: str,
        schedule: Schedule,
        initial: Simulation | None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.simulation_id = simulation_id
        self.schedule = schedule
        self.lock = threading.RLock()
        self.handles: list[Watch] = []
        self.snapshot = WatchSnapshot(
            simulation_id, simulation=initial, time_scale=client.time_scale
        )
        self.attempt = 0  # consecutive transient failures
        self.needs_results = False
        self.force_single = False  # set when a list page missed this simulation
        self.in_flight = False
        self.due_seq = -1  # the engine's heap entry that is current for this tracker
        self.ended = False
        self._last_status: Status | None = initial.status if initial else None

    # -- handles --------------------------------------------------------------------------------

    def attach(self, handle: Watch) -> None:
        """Add a caller's handle (the engine holds the lock of its registry)."""
        with self.lock:
            self.handles.append(handle)

    def detach(
        self, handle: Watch, *, stopped: bool = False, error: BaseException | None = None
    ) -> bool:
        """End one handle (stop or timeout); the tracker ends when it has none left."""
        with self.lock:
            if handle not in self.handles:
                return False
            self.handles.remove(handle)
            last = not self.handles
            if last:
                self.ended = True
        state = WatchState.STOPPED if stopped else WatchState.TIMED_OUT
        notice = "stopped watching (the simulation goes on on the server)" if stopped else None
        final = self.snapshot.evolve(
            state=state, error=error, notice=notice or self.snapshot.notice
        )
        ended = handle._end(final)
        if stopped:
            log.info("twyn-widgets: stopped watching %s", self.simulation_id)
        if last:
            self.engine.forget(self)
        return ended

    # -- outcomes -------------------------------------------------------------------------------

    def _publish(self, snapshot: WatchSnapshot) -> None:
        self.snapshot = snapshot
        for handle in list(self.handles):
            handle._publish(snapshot)

    def _finish(self, snapshot: WatchSnapshot) -> None:
        with self.lock:
            if self.ended:
                return
            self.ended = True
            handles = list(self.handles)
            self.handles.clear()
        self.snapshot = snapshot
        for handle in handles:
            handle._end(snapshot)
        self.engine.forget(self)

    def apply_simulation(self, simulation: Simulation) -> None:
        """Take in a fresh simulation object from a GET or a list page."""
        self.attempt = 0
        self.force_single = False
        status = simulation.status
        notice = None
        if self._last_status is not None and status != self._last_status:
            log.info("twyn-widgets: %s %s -> %s", self.simulation_id, self._last_status, status)
            before, after = self._last_status.order, status.order
            if 0 <= after < before and status is not Status.COMPLETED_CONFIG:
                notice = f"status went back from {self._last_status} to {status}"
                log.warning("twyn-widgets: %s %s", self.simulation_id, notice)
        elif self._last_status is None:
            log.info("twyn-widgets: %s is %s", self.simulation_id, status)
        if not status.is_known:
            notice = f"unknown status {str(status)!r}: shown as it is, still polling"
        self._last_status = status
        snap = self.snapshot.evolve(
            simulation=simulation,
            state=WatchState.WATCHING,
            polls=self.snapshot.polls + 1,
            notice=notice,
            rate_limited_until=None,
        )
        if status is Status.FAILED:
            phase = simulation.failed_phase
            error = errors.SimulationFailed(
                self.simulation_id, simulation.error_log, phase.label if phase else None
            )
            self._finish(snap.evolve(state=WatchState.FAILED, error=error))
        else:
            self.needs_results = status is Status.COMPLETED_ANALYSIS
            self._publish(snap)

    def apply_results(self, result: SimulationResult) -> None:
        """The results arrived: the watch succeeded."""
        snap = self.snapshot.evolve(
            state=WatchState.SUCCEEDED, result=result, polls=self.snapshot.polls + 1, notice=None
        )
        log.info("twyn-widgets: %s results received", self.simulation_id)
        self._finish(snap)

    def apply_error(self, exc: BaseException) -> float | None:
        """Take in a failed request; return API seconds to wait, or ``None`` if the watch ended."""
        if isinstance(exc, errors.Conflict) and self.needs_results:
            if exc.status == "FAILED" or exc.error_code == "SIMULATION_FAILED":
                self.needs_results = False  # poll the simulation again for its error_log
                return MIN_INTERVAL
            # Why: the status said COMPLETED_ANALYSIS but the results are not served yet (a
            # race between two reads of the server); ask again shortly.
            self.attempt += 1
            return MIN_INTERVAL * min(self.attempt, 5)
        if isinstance(exc, errors.RateLimited):
            wait = exc.retry_after if exc.retry_after is not None else 5.0
            until = time.time() + wait
            self._publish(
                self.snapshot.evolve(
                    state=WatchState.RATE_LIMITED,
                    notice=f"rate limited: waiting {wait:.0f} s before the next poll",
                    rate_limited_until=until,
                    retries=self.snapshot.retries + 1,
                )
            )
            return None if self.ended else 0.0  # the budget holds the client until then
        if errors.is_transient(exc):
            self.attempt += 1
            delay = retry_delay(self.attempt)
            self._publish(
                self.snapshot.evolve(
                    state=WatchState.RETRYING,
                    notice=f"retrying after {describe(exc)}, attempt {self.attempt}",
                    retries=self.snapshot.retries + 1,
                )
            )
            log.info("twyn-widgets: %s retrying after %s", self.simulation_id, exc)
            return delay
        state = WatchState.ERROR
        self._finish(self.snapshot.evolve(state=state, error=exc, notice=f"stopped: {exc}"))
        return None

    def apply_missing(self) -> None:
        """A list page did not include this simulation: ask for it alone next time."""
        self.force_single = True

    def time_out(self, handle: Watch) -> bool:
        """One handle's timeout passed; ``False`` if it is put off because the end is known.

        A simulation seen at COMPLETED_ANALYSIS has finished: only its results are still to
        fetch (perhaps held by the rate budget), so giving up then would throw away a result.
        Not while that fetch keeps failing, though: the timeout still bounds the wait.
        """
        if self.needs_results and not self.ended and self.attempt < 3:
            return False
        status = self.snapshot.status or "unknown"
        error = errors.WaitTimeout(
            f"gave up waiting for simulation {self.simulation_id} after "
            f"{handle.timeout or 0:g} s (still {status}); it goes on on the server: "
            "watch it again to keep waiting"
        )
        self.detach(handle, error=error)
        return True

    # -- timing ---------------------------------------------------------------------------------

    def next_delay(self) -> float:
        """API seconds until the next poll, from the schedule, floored at 1 s (R9)."""
        if self.needs_results:
            return 0.0
        sim = self.snapshot.simulation
        status = sim.status if sim else None
        phase_elapsed = None
        if sim is not None and status is not None and status.phase is not None:
            started = sim.entered(status.phase.processing_status)
            if started is not None and status == status.phase.processing_status:
                now = datetime.now(timezone.utc)
                phase_elapsed = max(0.0, (now - started).total_seconds()) / self.client.time_scale
        context = PollContext(status, phase_elapsed, self.snapshot.polls)
        return max(MIN_INTERVAL, float(self.schedule.next_delay(context)))
