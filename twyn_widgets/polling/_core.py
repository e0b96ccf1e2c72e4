"""The polling state of one simulation as a pure state machine (sans-I/O, like h11).

A :class:`PollState` takes events in (a simulation seen, in full or as a list summary; the
results; a failed request; a deadline) together with the time ``now``, and gives a
:class:`Decision` out: the snapshot to publish, whether the watch ended, what to fetch next
and when. It owns no thread, lock, socket, engine or handle: whoever drives it (the engine)
does the I/O, so every rule here is tested on a fake clock.

Times are epoch seconds (``time.time()``), because lifecycle timestamps are wall-clock times.
Durations the client assumes (schedules, the 1 s floor, retry backoff) are in API seconds and
multiplied by ``time_scale``; what the server says (``retry_after``) is never scaled.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone

from .. import errors
from .._humanize import duration
from ..models import RateLimit, Simulation, SimulationResult, Status
from ._schedules import MIN_INTERVAL, PollContext, Schedule
from ._snapshot import WatchSnapshot, WatchState

__all__ = [
    "DEFAULT_RETRY_AFTER",
    "RESULTS_PATIENCE",
    "Decision",
    "Fetch",
    "PollState",
    "describe",
    "retry_delay",
    "retry_notice",
]

log = logging.getLogger("twyn_widgets")

RETRY_BASE = 1.0
RETRY_CAP = 30.0
DEFAULT_RETRY_AFTER = 5.0
"""Seconds to wait after a 429 that names no wait."""
RESULTS_PATIENCE = 3
"""Failed results fetches after which a deadline is no longer put off."""


class Fetch(enum.Enum):
    """What the driver should request next for this simulation."""

    NOTHING = "nothing"
    """The watch ended."""
    STATUS = "status"
    """The simulation's status, by any means: a list page or a single GET."""
    SINGLE = "single"
    """The whole simulation by ``GET /v1/simulations/{id}`` (a list item would not do)."""
    RESULTS = "results"
    """``GET /v1/simulations/{id}/results``."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the machine decided after an event.

    Attributes
    ----------
    snapshot
        The state to publish to the watch's subscribers.
    ended
        Whether the watch is over (``snapshot`` then holds the outcome).
    fetch
        What to request next (``Fetch.NOTHING`` once ended).
    at
        Epoch time of the next request, or ``None`` once ended.
    """

    snapshot: WatchSnapshot
    ended: bool
    fetch: Fetch
    at: float | None


def retry_delay(attempt: int, rng: random.Random | None = None) -> float:
    """API seconds before retry ``attempt`` (1, 2, ...) after a transient failure.

    Capped exponential backoff with jitter: ``min(30, 2 ** (attempt - 1)) * U(0.5, 1)``, so
    many watches that fail together (a server outage) do not come back all at once.
    """
    base = min(RETRY_CAP, RETRY_BASE * float(2 ** min(max(attempt, 1) - 1, 16)))
    jitter: float = (rng or random).uniform(0.5, 1.0)
    return base * jitter


def describe(exc: BaseException) -> str:
    """A short, key-free name for a failure: ``cannot resolve api.twyn.it``, ``HTTP 503``..."""
    if isinstance(exc, errors.APIError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, errors.TransportError):
        # The transport phrases the host and the cause (``127.0.0.1:8000 refused the connection``).
        return exc.summary
    if isinstance(exc, errors.ProtocolError):
        return "a malformed answer"
    return type(exc).__name__


def retry_notice(exc: BaseException, attempt: int, wait: float) -> str:
    """The notice of a watch that retries: ``cannot resolve api.twyn.it, retry 4 in 8 s``.

    ``wait`` is in API seconds, rounded up so that a sub-second wait does not read "0 s".
    """
    return f"{describe(exc)}, retry {attempt} in {duration(math.ceil(wait))}"


def is_summary(simulation: Simulation) -> bool:
    """Whether a list item lacks what a full simulation carries (``lifecycle``, ``error_log``)."""
    return "lifecycle" not in simulation.raw or "error_log" not in simulation.raw


def _needs_timing(schedule: Schedule) -> bool:
    # A schedule says it reads ``phase_elapsed`` with a true ``needs_phase_timing``; others
    # get ``None`` there, which every schedule must accept anyway.
    return bool(getattr(schedule, "needs_phase_timing", False))


class PollState:
    """The polling state of one simulation on one client; pure, not thread-safe.

    Parameters
    ----------
    simulation_id
        The watched simulation.
    schedule
        When to poll, in API seconds.
    time_scale
        The client's scale: API seconds times this are real seconds.
    initial
        The simulation as the caller already had it, if any.
    rng
        The source of retry jitter (seed it for reproducible tests).
    """

    def __init__(
        self,
        simulation_id: str,
        schedule: Schedule,
        *,
        time_scale: float = 1.0,
        initial: Simulation | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.simulation_id = simulation_id
        self.schedule = schedule
        self.time_scale = time_scale
        self.snapshot = WatchSnapshot(simulation_id, simulation=initial, time_scale=time_scale)
        self.ended = False
        self.fetch = Fetch.STATUS
        self.attempt = 0  # consecutive failures of the current kind of request
        self._rng = rng or random.Random()
        self._last_status: Status | None = initial.status if initial else None
        self._full: Simulation | None = initial  # the last simulation seen whole
        self._seen_at: float | None = None  # epoch time of the last status the server sent
        self._held = 0.0  # real seconds the key's rate budget put this watch's requests off

    # -- helpers --------------------------------------------------------------------------------

    def _scaled(self, api_seconds: float) -> float:
        return api_seconds * self.time_scale

    def _decide(self, at: float) -> Decision:
        return Decision(self.snapshot, False, self.fetch, at)

    def _over(self) -> Decision:
        """What any event gets once the watch has ended: nothing more to do."""
        return Decision(self.snapshot, True, Fetch.NOTHING, None)

    def _end(self, snapshot: WatchSnapshot) -> Decision:
        self.ended = True
        self.fetch = Fetch.NOTHING
        self.snapshot = snapshot
        return Decision(snapshot, True, Fetch.NOTHING, None)

    def _next_poll(self, now: float) -> float:
        """Epoch time of the next status poll: the schedule's delay, floored at 1 s."""
        sim = self.snapshot.simulation
        status = sim.status if sim else None
        phase_elapsed = None
        if sim is not None and status is not None and status.phase is not None:
            processing = status.phase.processing_status
            started = sim.entered(processing)
            if started is not None and status == processing:
                wall = datetime.fromtimestamp(now, timezone.utc)
                phase_elapsed = max(0.0, (wall - started).total_seconds()) / self.time_scale
        context = PollContext(status, phase_elapsed, self.snapshot.polls)
        # Why the floor here and not in the schedules: any schedule, a user's too, gets it.
        delay = max(MIN_INTERVAL, float(self.schedule.next_delay(context)))
        return now + self._scaled(delay)

    # -- events ---------------------------------------------------------------------------------

    def start(self, now: float) -> Decision:
        """The first decision: poll at once."""
        self.fetch = Fetch.STATUS
        return self._decide(now)

    def poll_now(self, now: float) -> Decision:
        """Ask again at once for what was due (a sweep stopped before reaching it)."""
        return self._decide(now)

    def on_simulation(
        self, simulation: Simulation, now: float, *, listed: bool = False
    ) -> Decision:
        """A simulation seen: from a single GET, or (``listed``) as an item of a list page.

        A list item may be a summary (no ``lifecycle`` or ``error_log``). Then a single GET
        follows at once when a decision needs the whole object: always for a terminal status
        (the failure's ``error_log``), and for a new PROCESSING_* status when the schedule
        times phases from the lifecycle.
        """
        if self.ended:
            return self._over()
        self.attempt = 0
        status = simulation.status
        follow_up = False
        if listed and is_summary(simulation):
            simulation, follow_up = self._merge_summary(simulation)
        else:
            self._full = simulation
        notice = self._notice(status)
        self._last_status = status
        self._seen_at = now
        snap = self.snapshot.evolve(
            simulation=simulation,
            state=WatchState.WATCHING,
            polls=self.snapshot.polls + 1,
            notice=notice,
            rate_limited_until=None,
        )
        if follow_up:
            self.snapshot = snap
            self.fetch = Fetch.SINGLE
            return self._decide(now)
        if status is Status.FAILED:
            phase = simulation.failed_phase
            error = errors.SimulationFailed(
                self.simulation_id, simulation.error_log, phase.label if phase else None
            )
            return self._end(snap.evolve(state=WatchState.FAILED, error=error))
        self.snapshot = snap
        if status is Status.COMPLETED_ANALYSIS:
            self.fetch = Fetch.RESULTS
            return self._decide(now)
        self.fetch = Fetch.STATUS
        return self._decide(self._next_poll(now))

    def _merge_summary(self, item: Simulation) -> tuple[Simulation, bool]:
        """Fold a summary list item into what is known; say whether a single GET must follow."""
        status = item.status
        if status.is_terminal:
            follow_up = True
        else:
            known_start = (
                self._full is not None
                and status.phase is not None
                and self._full.entered(status) is not None
            )
            timed = status.phase is not None and status == status.phase.processing_status
            follow_up = timed and _needs_timing(self.schedule) and not known_start
        base = self._full
        if base is None:
            return item, follow_up
        # Why keep the old lifecycle: a summary has none, and widgets estimate progress from it.
        merged = dataclasses.replace(
            base,
            status=status,
            title=item.title or base.title,
            created_at=item.created_at or base.created_at,
        )
        return merged, follow_up

    def _notice(self, status: Status) -> str | None:
        last = self._last_status
        notice = None
        sid = self.simulation_id
        if last is not None and status != last:
            log.info("twyn-widgets: %s %s -> %s", sid, last, status)  # pragma: no mutate
            before, after = last.order, status.order
            # Why COMPLETED_CONFIG is exempt: a config edit resets a simulation there on purpose.
            if 0 <= after < before and status is not Status.COMPLETED_CONFIG:
                notice = f"status went back from {last} to {status}"
                log.warning("twyn-widgets: %s %s", self.simulation_id, notice)  # pragma: no mutate
        elif last is None:
            log.info("twyn-widgets: %s is %s", self.simulation_id, status)  # pragma: no mutate
        if not status.is_known:
            notice = f"unknown status {str(status)!r}: shown as it is, still polling"
        return notice

    def on_results(self, result: SimulationResult, now: float) -> Decision:
        """The results arrived: the watch succeeded."""
        if self.ended:
            return self._over()
        log.info("twyn-widgets: %s results received", self.simulation_id)  # pragma: no mutate
        snap = self.snapshot.evolve(
            state=WatchState.SUCCEEDED, result=result, polls=self.snapshot.polls + 1, notice=None
        )
        return self._end(snap)

    def on_missing(self, now: float) -> Decision:
        """A list page that should have held this simulation did not: ask for it alone."""
        if self.ended:
            return self._over()
        if self.fetch is Fetch.STATUS:
            self.fetch = Fetch.SINGLE
        return self._decide(now)

    def on_error(self, exc: BaseException, now: float) -> Decision:
        """A request for this simulation failed with ``exc``."""
        if self.ended:
            return self._over()
        if isinstance(exc, errors.Conflict) and self.fetch is Fetch.RESULTS:
            if exc.status == "FAILED" or exc.error_code == "SIMULATION_FAILED":
                # It failed after all: the simulation itself holds the error_log.
                self.fetch = Fetch.SINGLE
                return self._decide(now + self._scaled(MIN_INTERVAL))
            # Why: the status said COMPLETED_ANALYSIS but the results are not served yet (a
            # race between two reads of the server); ask again shortly.
            self.attempt += 1
            return self._decide(now + self._scaled(MIN_INTERVAL * min(self.attempt, 5)))
        if isinstance(exc, errors.RateLimited):
            wait = exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER
            self._held += wait  # the key's budget, spent: it holds this poll back
            self.snapshot = self.snapshot.evolve(
                state=WatchState.RATE_LIMITED,
                notice=f"rate limited: waiting {duration(wait)} before the next poll",
                rate_limited_until=now + wait,
                retries=self.snapshot.retries + 1,
            )
            return self._decide(now + wait)  # the server's seconds: never scaled
        if errors.is_transient(exc):
            sid = self.simulation_id
            self.attempt += 1
            delay = retry_delay(self.attempt, self._rng)
            self.snapshot = self.snapshot.evolve(
                state=WatchState.RETRYING,
                notice=retry_notice(exc, self.attempt, delay),
                retries=self.snapshot.retries + 1,
            )
            log.info("twyn-widgets: %s retrying after %s", sid, exc)  # pragma: no mutate
            return self._decide(now + self._scaled(delay))
        return self._end(
            self.snapshot.evolve(state=WatchState.ERROR, error=exc, notice=f"stopped: {exc}")
        )

    # -- endings a driver asks for ----------------------------------------------------------------

    def may_time_out(self) -> bool:
        """Whether a watch whose deadline has passed may end now.

        A simulation seen at COMPLETED_ANALYSIS has finished: only its results (or, after a
        summary, its whole object) are still to fetch, perhaps held by the rate budget, so
        giving up then would throw away a result. Not while those fetches keep failing,
        though: the deadline still bounds the wait.
        """
        if self.ended:
            return True
        finished = self._last_status is Status.COMPLETED_ANALYSIS
        return not (finished and self.attempt < RESULTS_PATIENCE)

    def on_held(self, delay: float) -> None:
        """The key's rate budget put this watch's next request off by ``delay`` real seconds."""
        self._held += max(0.0, delay)

    def timed_out(
        self, api_timeout: float | None, now: float, rate_limit: RateLimit | None = None
    ) -> WatchSnapshot:
        """The final snapshot of a watch that gave up after ``api_timeout`` API seconds.

        The message gives the timeout as the caller asked for it (in the API's time, before
        any ``time_scale``); what is known, not guessed: the status last seen and how long
        ago (API time); whether the key's rate budget held the polls back (then
        ``rate_limit``, the last ``X-RateLimit-*`` values, says until when); and the call
        that resumes the wait.
        """
        sid = self.simulation_id
        parts = [
            f"gave up waiting for simulation {sid} after {duration(api_timeout or 0)} "
            f"(timeout={api_timeout or 0:g})",
            self._last_seen(now),
        ]
        # Why a floor: the budget spaces polls by fractions of a second in ordinary use;
        # only a hold longer than the API's one-second floor changed what the watch saw.
        held = self._held / self.time_scale
        if held >= MIN_INTERVAL:
            parts.append(f"the key's rate budget held polls back {duration(held)} in all")
            parts[-1] += _budget_left(rate_limit)
        error = errors.WaitTimeout(
            "; ".join(parts) + ". It keeps running on the server (or has finished since): "
            f"wait again with client.watch({sid!r}).result() or "
            f"tw.SimulationWatcher({sid!r}, client=client)"
        )
        return self.snapshot.evolve(state=WatchState.TIMED_OUT, error=error)

    def _last_seen(self, now: float) -> str:
        """What the server last said of the status, and how long ago in API time."""
        status = self.snapshot.status
        if status is None:
            return "no status seen yet"
        if self._seen_at is None:
            return f"no poll answered yet (it was {status} when the watch began)"
        ago = max(0.0, now - self._seen_at) / self.time_scale
        return f"last seen {status} {duration(ago)} ago"

    def stopped(self) -> WatchSnapshot:
        """The final snapshot of a watch its caller stopped (it ends with ``WatchStopped``)."""
        sid = self.simulation_id
        error = errors.WatchStopped(
            f"stopped watching simulation {sid}; it keeps running on the server (the API has "
            f"no cancel). Watch it again with client.watch({sid!r})"
        )
        return self.snapshot.evolve(
            state=WatchState.STOPPED,
            notice="stopped watching (the simulation keeps running on the server)",
            error=error,
        )

    def close(self) -> None:
        """No watch is left: end without an outcome of its own."""
        self.ended = True
        self.fetch = Fetch.NOTHING


def _budget_left(rate_limit: RateLimit | None) -> str:
    """`` (0 requests left until 14:05)``: the key's budget as last seen; empty if unknown."""
    if rate_limit is None or rate_limit.remaining is None or rate_limit.reset is None:
        return ""
    # Why local time: it is a time on the user's clock to come back at (the server's own
    # seconds, never scaled).
    at = datetime.fromtimestamp(rate_limit.reset).strftime("%H:%M")
    left = rate_limit.remaining
    return f" ({left} request{'' if left == 1 else 's'} left until {at})"
