"""The polling of one client's watches, as a sans-I/O state machine (in the shape of h11).

A :class:`Poller` decides every request of one client: it owns each watched simulation's
:class:`PollState`, the handles on it and their deadlines, the key's :class:`RateBudget`, the
batching of many simulations into one list call and that call's paging, and the pause after
a 429. Events go in, each with the time ``now``; every event gives back a list of actions,
all of one shape (:data:`Action`): :class:`Send` this request, :class:`Publish` this snapshot
to these handles, :class:`Finish` these handles with this snapshot. :meth:`Poller.due` gives
the actions whose time has come and :meth:`Poller.wakeup` when to ask again.

It owns no thread, lock or socket, logs nothing and writes no sentence: the engine does the
I/O and delivers the actions; the snapshot (:class:`~._snapshot.Note`) and the errors phrase
what users read. So every rule here is tested on a fake clock.

Two clocks. ``now`` is the scheduling clock, injected (the engine's is ``time.monotonic``):
every due time, deadline and pause is on it. ``wall`` (epoch seconds) comes only with an
answer, to read the server's timestamps (the lifecycle, ``X-RateLimit-Reset``). Durations the
client assumes (schedules, the 1 s floor, retry backoff) are API seconds times ``time_scale``;
what the server says (``retry_after``, the reset) is never scaled.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import random
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Generic, TypeVar

from .. import errors
from ..models import RateLimit, Simulation, SimulationPage, SimulationResult, Status
from ._budget import RateBudget
from ._schedules import MIN_INTERVAL, PollContext, Schedule
from ._snapshot import Note, NoteKind, WatchSnapshot, WatchState

__all__ = [
    "DEFAULT_RETRY_AFTER",
    "PAGE_LIMIT",
    "RESULTS_PATIENCE",
    "Action",
    "Call",
    "Decision",
    "Fetch",
    "Finish",
    "PollState",
    "Poller",
    "Publish",
    "Request",
    "Send",
    "is_summary",
    "rate_limited_wait",
    "retry_delay",
]

RETRY_BASE = 1.0
RETRY_CAP = 30.0
DEFAULT_RETRY_AFTER = 5.0
"""Seconds to wait after a 429 that names no wait."""
RESULTS_PATIENCE = 3
"""Failed results fetches after which a deadline is no longer put off."""
PAGE_LIMIT = 100
"""Simulations per list page (the API's maximum)."""


# -- the machine of one simulation -----------------------------------------------------------


class Fetch(enum.Enum):
    """What a simulation needs next."""

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
    """What the machine of one simulation decided after an event.

    Attributes
    ----------
    snapshot
        The state to publish to the watch's subscribers.
    ended
        Whether the watch is over (``snapshot`` then holds the outcome).
    fetch
        What to request next (``Fetch.NOTHING`` once ended).
    at
        Time of the next request on the scheduling clock, or ``None`` once ended.
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


def rate_limited_wait(exc: errors.RateLimited) -> float:
    """The server's seconds a 429 holds every request of the key (never scaled)."""
    return exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER


def is_summary(simulation: Simulation) -> bool:
    """Whether a list item lacks what a full simulation carries (``lifecycle``, ``error_log``)."""
    return "lifecycle" not in simulation.raw or "error_log" not in simulation.raw


def _needs_timing(schedule: Schedule) -> bool:
    # A schedule says it reads ``phase_elapsed`` with a true ``needs_phase_timing``; others
    # get ``None`` there, which every schedule must accept anyway.
    return bool(getattr(schedule, "needs_phase_timing", False))


class PollState:
    """The polling state of one simulation on one client; pure, not thread-safe.

    Every event (``start``, ``on_simulation``, ``on_results``, ``on_missing``, ``on_error``,
    ``poll_now``, ``close``) returns a :class:`Decision`, and once the
    watch has ended every event returns the same ended decision. ``timeout_ending`` and
    ``stop_ending`` are queries: the final snapshot of one handle that times out or stops,
    while the simulation may go on for others.

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
        self._seen_at: float | None = None  # when (scheduling clock) the server last answered
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
        return self._over()

    def _next_poll(self, now: float, wall: float) -> float:
        """Time of the next status poll: the schedule's delay, floored at 1 s."""
        sim = self.snapshot.simulation
        status = sim.status if sim else None
        phase_elapsed = None
        if sim is not None and status is not None and status.phase is not None:
            processing = status.phase.processing_status
            started = sim.entered(processing)
            if started is not None and status == processing:
                at = datetime.fromtimestamp(wall, timezone.utc)
                phase_elapsed = max(0.0, (at - started).total_seconds()) / self.time_scale
        context = PollContext(status, phase_elapsed, self.snapshot.polls)
        # Why the floor here and not in the schedules: any schedule, a user's too, gets it.
        delay = max(MIN_INTERVAL, float(self.schedule.next_delay(context)))
        return now + self._scaled(delay)

    # -- events ---------------------------------------------------------------------------------

    def start(self, now: float) -> Decision:
        """The first decision: poll at once."""
        if self.ended:
            return self._over()
        self.fetch = Fetch.STATUS
        return self._decide(now)

    def poll_now(self, now: float) -> Decision:
        """Ask again at once for what was due (a sweep stopped before reaching it)."""
        if self.ended:
            return self._over()
        return self._decide(now)

    def on_simulation(
        self,
        simulation: Simulation,
        now: float,
        *,
        listed: bool = False,
        wall: float | None = None,
    ) -> Decision:
        """A simulation seen: from a single GET, or (``listed``) as an item of a list page.

        A list item may be a summary (no ``lifecycle`` or ``error_log``). Then a single GET
        follows at once when a decision needs the whole object: always for a terminal status
        (the failure's ``error_log``), and for a new PROCESSING_* status when the schedule
        times phases from the lifecycle. ``wall`` is the epoch time of the answer (default:
        ``now``, for a driver whose clock is the wall clock).
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
        note = self._note(status)
        self._last_status = status
        self._seen_at = now
        snap = self.snapshot.evolve(
            simulation=simulation,
            state=WatchState.WATCHING,
            polls=self.snapshot.polls + 1,
            note=note,
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
        return self._decide(self._next_poll(now, now if wall is None else wall))

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

    def _note(self, status: Status) -> Note | None:
        last = self._last_status
        note = None
        # Why COMPLETED_CONFIG is exempt: a config edit resets a simulation there on purpose.
        went_back = last is not None and 0 <= status.order < last.order
        if went_back and status is not Status.COMPLETED_CONFIG:
            note = Note(NoteKind.WENT_BACK, before=last, after=status)
        if not status.is_known:
            note = Note(NoteKind.UNKNOWN_STATUS, after=status)
        return note

    def on_results(self, result: SimulationResult, now: float) -> Decision:
        """The results arrived: the watch succeeded."""
        if self.ended:
            return self._over()
        snap = self.snapshot.evolve(
            state=WatchState.SUCCEEDED, result=result, polls=self.snapshot.polls + 1, note=None
        )
        return self._end(snap)

    def on_missing(self, now: float) -> Decision:
        """A list page that should have held this simulation did not: ask for it alone."""
        if self.ended:
            return self._over()
        if self.fetch is Fetch.STATUS:
            self.fetch = Fetch.SINGLE
        return self._decide(now)

    def _rate_limited(self, wait: float, now: float, wall: float | None) -> Decision:
        """A 429: the next request waits the server's ``wait`` seconds (never scaled)."""
        self._held += wait  # the key's budget, spent: it holds this poll back
        self.snapshot = self.snapshot.evolve(
            state=WatchState.RATE_LIMITED,
            note=Note(NoteKind.RATE_LIMITED, wait=wait),
            rate_limited_until=(now if wall is None else wall) + wait,
            retries=self.snapshot.retries + 1,
        )
        return self._decide(now + wait)

    def on_error(self, exc: BaseException, now: float, wall: float | None = None) -> Decision:
        """A request for this simulation failed with ``exc`` (``wall``: when, epoch seconds)."""
        if self.ended:
            return self._over()
        if isinstance(exc, errors.RateLimited):
            return self._rate_limited(rate_limited_wait(exc), now, wall)
        if isinstance(exc, errors.Conflict) and self.fetch is Fetch.RESULTS:
            if exc.status == "FAILED" or exc.error_code == "SIMULATION_FAILED":
                # It failed after all: the simulation itself holds the error_log.
                self.fetch = Fetch.SINGLE
                return self._decide(now + self._scaled(MIN_INTERVAL))
            # Why: the status said COMPLETED_ANALYSIS but the results are not served yet (a
            # race between two reads of the server); ask again shortly.
            self.attempt += 1
            return self._decide(now + self._scaled(MIN_INTERVAL * min(self.attempt, 5)))
        if errors.is_transient(exc):
            self.attempt += 1
            delay = retry_delay(self.attempt, self._rng)
            self.snapshot = self.snapshot.evolve(
                state=WatchState.RETRYING,
                note=Note(NoteKind.RETRYING, error=exc, attempt=self.attempt, wait=delay),
                retries=self.snapshot.retries + 1,
            )
            return self._decide(now + self._scaled(delay))
        return self._end(
            self.snapshot.evolve(
                state=WatchState.ERROR, error=exc, note=Note(NoteKind.ERROR, error=exc)
            )
        )

    def close(self, now: float | None = None) -> Decision:
        """No watch is left: end without an outcome of its own."""
        self.ended = True
        self.fetch = Fetch.NOTHING
        return self._over()

    # -- queries ----------------------------------------------------------------------------------

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

    def timeout_ending(
        self,
        api_timeout: float | None,
        now: float,
        rate_limit: RateLimit | None = None,
    ) -> WatchSnapshot:
        """The final snapshot of a handle that gave up after ``api_timeout`` API seconds.

        What is known, not guessed: the status last seen and how long ago (API time);
        whether the key's rate budget held the polls back (then ``rate_limit``, the last
        ``X-RateLimit-*`` values, says until when).
        """
        held = self._held / self.time_scale
        status = self.snapshot.status
        seen_ago = 0.0 if self._seen_at is None else max(0.0, now - self._seen_at)
        # Why a floor: the budget spaces polls by fractions of a second in ordinary use;
        # only a hold longer than the API's one-second floor changed what the watch saw.
        blamed = held >= MIN_INTERVAL
        budget = rate_limit if blamed and rate_limit is not None else None
        error = errors.WaitTimeout.gave_up(
            self.simulation_id,
            api_timeout or 0.0,
            status=None if status is None else str(status),
            answered=self._seen_at is not None,
            seen_ago=seen_ago / self.time_scale,
            held=held if blamed else None,
            remaining=None if budget is None else budget.remaining,
            reset=None if budget is None else budget.reset,
        )
        return self.snapshot.evolve(state=WatchState.TIMED_OUT, error=error)

    def stop_ending(self) -> WatchSnapshot:
        """The final snapshot of a handle its caller stopped (it ends with ``WatchStopped``)."""
        return self.snapshot.evolve(
            state=WatchState.STOPPED,
            note=Note(NoteKind.STOPPED),
            error=errors.WatchStopped.by_caller(self.simulation_id),
        )


# -- actions ----------------------------------------------------------------------------------

H = TypeVar("H", bound=Hashable)


class Call(enum.Enum):
    """The request a :class:`Send` asks for."""

    SIMULATION = "simulation"
    """``GET /v1/simulations/{id}``."""
    RESULTS = "results"
    """``GET /v1/simulations/{id}/results``."""
    LIST = "list"
    """One page of ``GET /v1/simulations`` that refreshes ``ids``."""


@dataclass(frozen=True, eq=False)
class Request:
    """A request the poller wants sent; the answer goes back to :meth:`Poller.answered`.

    Attributes
    ----------
    call
        Which endpoint.
    ids
        The simulations it is for (one, except for a list page).
    seen
        For a results fetch: the simulation as last seen (the result carries it).
    created_after
        For a list page: only simulations created after this (newest first, so the pages
        end at the oldest watched one).
    offset, limit
        For a list page: where it starts and how many it holds.
    sweep
        For a list page: the sweep (one refresh of many simulations, perhaps paged) it is of.
    """

    call: Call
    ids: tuple[str, ...]
    seen: Simulation | None = None
    created_after: str | None = None
    offset: int = 0
    limit: int = PAGE_LIMIT
    sweep: int = 0


@dataclass(frozen=True)
class Send:
    """Send ``request`` now (on a worker) and feed its answer to :meth:`Poller.answered`."""

    request: Request


@dataclass(frozen=True)
class Publish(Generic[H]):
    """Show ``snapshot`` to the subscribers of ``handles``; the watch goes on."""

    handles: tuple[H, ...]
    snapshot: WatchSnapshot


@dataclass(frozen=True)
class Finish(Generic[H]):
    """End ``handles`` with ``snapshot``'s outcome."""

    handles: tuple[H, ...]
    snapshot: WatchSnapshot


Action = Send | Publish[H] | Finish[H]
"""What an event asks of the driver."""

Answer = Simulation | SimulationResult | SimulationPage | errors.TwynError
"""What a sent request gave: its value, or the package's error it raised."""


@dataclass(eq=False)
class _Watched(Generic[H]):
    """One polled simulation: its machine, its handles, and when it is due."""

    state: PollState
    handles: list[H] = field(default_factory=list)
    due: float | None = None
    in_flight: bool = False

    @property
    def listable(self) -> bool:
        """Whether a list page can refresh it (not a results fetch, nor a single GET)."""
        return not self.state.ended and self.state.fetch is Fetch.STATUS


@dataclass(frozen=True)
class _Deadline:
    simulation_id: str
    at: float | None
    api_timeout: float | None


@dataclass(eq=False)
class _Sweep:
    """A list call under way: what it should find, what it found, how many pages it read."""

    wanted: tuple[str, ...]
    seen: dict[str, Simulation] = field(default_factory=dict)
    pages: int = 0


class Poller(Generic[H]):
    """Every polling decision of one client; pure, not thread-safe (the engine locks it).

    Parameters
    ----------
    time_scale
        The client's scale: API seconds times this are real seconds.
    rng
        The source of retry jitter (seed it for reproducible tests).

    Examples
    --------
    >>> from twyn_widgets.polling import Fixed
    >>> poller = Poller()
    >>> poller.add("w1", "sim-1", schedule=Fixed(5), deadline=600.0, now=0.0)
    []
    >>> poller.due(0.0)                                     # doctest: +ELLIPSIS
    [Send(request=Request(call=<Call.SIMULATION: 'simulation'>, ids=('sim-1',), ...))]
    """

    def __init__(self, time_scale: float = 1.0, rng: random.Random | None = None) -> None:
        self.time_scale = time_scale
        self.budget = RateBudget()
        self.rate_limit: RateLimit | None = None  # the last X-RateLimit-* values seen
        self._rng = rng or random.Random()
        self._watched: dict[str, _Watched[H]] = {}
        self._deadlines: dict[H, _Deadline] = {}
        self._sweeps: dict[int, _Sweep] = {}
        self._sweep_ids = itertools.count(1)

    # -- what it holds --------------------------------------------------------------------------

    @property
    def watching(self) -> int:
        """How many simulations are being polled."""
        return len(self._watched)

    def handles(self) -> list[H]:
        """Every handle still going."""
        return list(self._deadlines)

    def snapshot(self, simulation_id: str) -> WatchSnapshot | None:
        """The current snapshot of a polled simulation, or ``None``."""
        watched = self._watched.get(simulation_id)
        return None if watched is None else watched.state.snapshot

    def wakeup(self) -> float | None:
        """When :meth:`due` next has something to give, or ``None`` for never."""
        times = [w.due for w in self._watched.values() if w.due is not None and not w.in_flight]
        for deadline in self._deadlines.values():
            watched = self._watched.get(deadline.simulation_id)
            # Why skip a deadline that may not end yet: an answer decides that, and every
            # answer is an event that asks for the wake-up time again.
            if deadline.at is not None and watched is not None and watched.state.may_time_out():
                times.append(deadline.at)
        return min(times, default=None)

    # -- events ---------------------------------------------------------------------------------

    def add(
        self,
        handle: H,
        simulation_id: str,
        *,
        schedule: Schedule,
        deadline: float | None,
        now: float,
        api_timeout: float | None = None,
        initial: Simulation | None = None,
    ) -> list[Action[H]]:
        """A new handle on ``simulation_id``: it joins the polling of that simulation, if any.

        ``deadline`` is when the handle gives up (scheduling clock), ``api_timeout`` the
        timeout as the caller asked for it (API seconds), for the message.
        """
        watched = self._watched.get(simulation_id)
        if watched is None:
            state = PollState(
                simulation_id,
                schedule,
                time_scale=self.time_scale,
                initial=initial,
                rng=self._rng,
            )
            watched = self._watched[simulation_id] = _Watched(state)
            watched.due = state.start(now).at
        watched.handles.append(handle)
        self._deadlines[handle] = _Deadline(simulation_id, deadline, api_timeout)
        return []

    def stop(self, handle: H, now: float) -> list[Action[H]]:
        """The caller stopped ``handle``; nothing if it had ended."""
        deadline = self._deadlines.get(handle)
        if deadline is None:
            return []
        watched = self._watched[deadline.simulation_id]
        final = watched.state.stop_ending()
        self._detach(handle, now)
        return [Finish((handle,), final)]

    def close(self, now: float) -> list[Action[H]]:
        """The client is closing: every handle stops."""
        return [action for handle in self.handles() for action in self.stop(handle, now)]

    def due(self, now: float) -> list[Action[H]]:
        """What is due at ``now``: handles past their deadline, then the requests to send.

        Requests are claimed from the rate budget: a results fetch first (what the caller
        waits for, and it skips the spacing of polls), then one list page for every
        simulation a page can refresh (when that is two or more), then single GETs. What
        the budget does not allow now is put off to when it does.
        """
        actions: list[Action[H]] = self._deadlines_due(now)
        due = [
            w
            for w in self._watched.values()
            if w.due is not None and w.due <= now and not w.in_flight
        ]
        results = [w for w in due if w.state.fetch is Fetch.RESULTS]
        batch = self._batchable(due)
        chosen = {id(w) for w in batch}
        singles = [w for w in due if id(w) not in chosen and w.state.fetch is not Fetch.RESULTS]
        planned: list[list[_Watched[H]]] = [[w] for w in results]
        if batch:
            planned.append(batch)
        planned.extend([w] for w in singles)
        for group in planned:
            urgent = group[0].state.fetch is Fetch.RESULTS
            if not self.budget.take(now, urgent=urgent):
                at = self.budget.earliest(now, urgent=urgent)
                for w in group:
                    w.state.on_held(at - now)
                    w.due = at
                continue
            for w in group:
                w.in_flight = True
            actions.append(Send(self._request(group)))
        return actions

    def answered(
        self,
        request: Request,
        answer: Answer,
        now: float,
        *,
        wall: float,
        rate_limit: RateLimit | None = None,
    ) -> list[Action[H]]:
        """The answer to ``request`` (its value or the error it raised), received at ``now``.

        ``wall`` is the epoch time it arrived and ``rate_limit`` the ``X-RateLimit-*`` values
        the server sent with it.
        """
        if rate_limit is not None:
            self.rate_limit = rate_limit
            left = rate_limit.seconds_to_reset(wall)
            self.budget.observe(rate_limit.remaining, left, now)
        if isinstance(answer, errors.RateLimited):
            # Why the whole key: a 429 holds every request of it, not just this one's.
            self.budget.pause(rate_limited_wait(answer), now)
        if request.call is Call.LIST:
            return self._page(request, answer, now, wall)
        watched = self._watched.get(request.ids[0])
        if watched is None:
            return []  # every handle left while the request was out
        state = watched.state
        if isinstance(answer, errors.TwynError):
            decision = state.on_error(answer, now, wall)
        elif isinstance(answer, SimulationResult):
            decision = state.on_results(answer, now)
        elif isinstance(answer, Simulation):
            decision = state.on_simulation(answer, now, wall=wall)
        else:
            decision = state.on_missing(now)
        return self._apply([(watched, decision)])

    # -- inside ---------------------------------------------------------------------------------

    def _deadlines_due(self, now: float) -> list[Action[H]]:
        actions: list[Action[H]] = []
        for handle, deadline in list(self._deadlines.items()):
            watched = self._watched.get(deadline.simulation_id)
            if deadline.at is None or deadline.at > now or watched is None:
                continue
            if not watched.state.may_time_out():
                continue
            final = watched.state.timeout_ending(deadline.api_timeout, now, self.rate_limit)
            self._detach(handle, now)
            actions.append(Finish((handle,), final))
        return actions

    def _batchable(self, due: list[_Watched[H]]) -> list[_Watched[H]]:
        """What one list call refreshes: the due simulations and every idle one.

        Empty unless that is two or more: one simulation is cheaper with a single GET.
        """
        if not any(w.listable for w in due):
            return []
        idle = [w for w in self._watched.values() if not w.in_flight]
        batch = [w for w in {id(w): w for w in [*due, *idle]}.values() if w.listable]
        return batch if len(batch) >= 2 else []

    def _request(self, group: list[_Watched[H]]) -> Request:
        first = group[0].state
        if len(group) == 1:
            if first.fetch is Fetch.RESULTS:
                return Request(Call.RESULTS, (first.simulation_id,), seen=first.snapshot.simulation)
            return Request(Call.SIMULATION, (first.simulation_id,))
        ids = tuple(w.state.simulation_id for w in group)
        created = [w.state.snapshot.simulation for w in group]
        after = None
        if all(s is not None and s.created_at is not None for s in created):
            # Why a filter: newest first, only pages back to the oldest watched simulation.
            oldest = min(s.created_at for s in created if s is not None and s.created_at)
            after = (oldest - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        sweep = next(self._sweep_ids)
        self._sweeps[sweep] = _Sweep(ids)
        return Request(Call.LIST, ids, created_after=after, sweep=sweep)

    def _page(self, request: Request, answer: Answer, now: float, wall: float) -> list[Action[H]]:
        """One page of a sweep: ask for the next one, or settle every simulation in it."""
        sweep = self._sweeps.pop(request.sweep, None)
        if sweep is None:
            return []
        if isinstance(answer, errors.TwynError):
            return self._apply(self._list_failed(sweep.wanted, answer, now, wall))
        searched = True  # False if the sweep stopped before looking everywhere it should
        if isinstance(answer, SimulationPage):
            sweep.pages += 1
            for sim in answer.items:
                if sim.id in sweep.wanted:
                    sweep.seen[sim.id] = sim
            following = answer.next_offset(request.offset)
            more = len(sweep.seen) < len(sweep.wanted)
            if following is not None and more and sweep.pages < len(sweep.wanted) // PAGE_LIMIT + 2:
                # Why pay with the next poll's slot: the sweep is one refresh, paged.
                if self.budget.extra(now):
                    self._sweeps[request.sweep] = sweep
                    return [Send(dataclasses.replace(request, offset=following))]
                searched = False  # a 429 pause began: the rest wait for the next sweep
        outcomes: list[tuple[_Watched[H], Decision]] = []
        for sid in sweep.wanted:
            watched = self._watched.get(sid)
            if watched is None:
                continue
            item = sweep.seen.get(sid)
            if item is not None:
                decision = watched.state.on_simulation(item, now, listed=True, wall=wall)
            elif searched:  # not where it should be: another tenant's, or gone; ask alone
                decision = watched.state.on_missing(now)
            else:
                decision = watched.state.poll_now(now)
            outcomes.append((watched, decision))
        return self._apply(outcomes)

    def _list_failed(
        self, ids: Iterable[str], exc: errors.TwynError, now: float, wall: float
    ) -> list[tuple[_Watched[H], Decision]]:
        watched = [w for w in (self._watched.get(sid) for sid in ids) if w is not None]
        if not errors.is_transient(exc):
            # Why not end the watches: a list call failing for good (e.g. a proxy that blocks
            # it) says nothing about each simulation; fall back to single GETs.
            return [(w, w.state.on_missing(now)) for w in watched]
        out = [(w, w.state.on_error(exc, now, wall)) for w in watched]
        # Why one time for the batch: per-watch jitter would split the client's next sweep
        # into many; the jitter between clients still spreads a recovery.
        shared = max((d.at for _, d in out if d.at is not None), default=None)
        return [(w, d if d.at is None else dataclasses.replace(d, at=shared)) for w, d in out]

    def _apply(self, outcomes: list[tuple[_Watched[H], Decision]]) -> list[Action[H]]:
        """Turn the machines' decisions into actions, and keep their due times."""
        actions: list[Action[H]] = []
        for watched, decision in outcomes:
            watched.in_flight = False
            handles = tuple(watched.handles)
            if decision.ended:
                for handle in handles:
                    self._deadlines.pop(handle, None)
                self._forget(watched)
                actions.append(Finish(handles, decision.snapshot))
                continue
            watched.due = decision.at
            actions.append(Publish(handles, decision.snapshot))
        return actions

    def _detach(self, handle: H, now: float) -> None:
        deadline = self._deadlines.pop(handle)
        watched = self._watched[deadline.simulation_id]
        watched.handles.remove(handle)
        if not watched.handles:
            watched.state.close(now)
            self._forget(watched)

    def _forget(self, watched: _Watched[H]) -> None:
        sid = watched.state.simulation_id
        if self._watched.get(sid) is watched:
            del self._watched[sid]
        watched.due = None
