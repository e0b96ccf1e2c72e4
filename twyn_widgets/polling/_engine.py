"""The engine: one scheduler thread and a small worker pool for every watch in the process.

The engine drives one :class:`~._core.PollState` per (client, simulation) and does all the
rest: the heap of due times, the handles, the rate budget, the HTTP. One lock (a
``Condition``) guards all of that state; the state machines are called only under it.

The scheduler thread never does I/O: it hands each due fetch to the worker pool and waits on
the ``Condition`` (never ``sleep``), so a new watch, a stop or the end of a job wakes it at
once. The thread count is ``1 + pool size`` however many simulations are watched.

When a client has two or more simulations to refresh, one ``GET /v1/simulations`` page
(newest first, ``created_after`` the oldest of them) refreshes up to 100 at once; ids the list
does not return get a single GET. Every send goes through the client's :class:`RateBudget`.
"""

from __future__ import annotations

import atexit
import functools
import heapq
import itertools
import logging
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .. import errors
from ..models import Simulation, SimulationRef, simulation_id
from ._budget import RateBudget
from ._core import DEFAULT_RETRY_AFTER, Decision, Fetch, PollState
from ._protocol import PollingClient
from ._schedules import PhaseAware, Schedule, seconds
from ._snapshot import WatchSnapshot
from ._watch import Watch
from ._workers import WorkerPool

__all__ = ["DEFAULT_TIMEOUT", "POOL_SIZE", "Engine", "due_time", "get_engine", "hold_key"]

log = logging.getLogger("twyn_widgets")

DEFAULT_TIMEOUT = 600.0
"""API seconds before a watch gives up: the docs' 10 minutes."""

POOL_SIZE = 4
PAGE_LIMIT = 100
DEADLINE_RECHECK = 0.1
"""Real seconds before a put-off deadline is looked at again."""


@dataclass(eq=False)
class _Entry:
    """One polled simulation: its state machine and what the engine keeps beside it."""

    client: PollingClient
    state: PollState
    handles: list[Watch] = field(default_factory=list)
    in_flight: bool = False
    due_seq: int = -1  # the heap entry that is current for this simulation

    @property
    def key(self) -> tuple[int, str]:
        return (id(self.client), self.state.simulation_id)


_Item = _Entry | Watch
_Outcome = tuple[_Entry, Decision]


class Engine:
    """Schedules the polls of every watch of the process.

    Parameters
    ----------
    pool_size
        Worker threads for HTTP (each keeps one connection per client).
    """

    def __init__(self, pool_size: int = POOL_SIZE) -> None:
        self._cond = threading.Condition()  # the one lock of the polling state
        self._heap: list[tuple[float, int, _Item]] = []
        self._seq = itertools.count()
        self._entries: dict[tuple[int, str], _Entry] = {}
        self._by_client: dict[int, set[_Entry]] = defaultdict(set)
        self._budgets: weakref.WeakKeyDictionary[PollingClient, RateBudget] = (
            weakref.WeakKeyDictionary()
        )
        self._hooked: weakref.WeakSet[PollingClient] = weakref.WeakSet()
        self._pool = WorkerPool(pool_size)
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- public ---------------------------------------------------------------------------------

    def watch(
        self,
        client: PollingClient,
        simulation: SimulationRef,
        *,
        schedule: Schedule | None = None,
        timeout: float | timedelta | None = None,
    ) -> Watch:
        """Start (or join) the watch of ``simulation`` on ``client``; see ``TwynClient.watch``."""
        sid = simulation_id(simulation)
        initial = None
        if isinstance(simulation, Simulation):
            initial = simulation
        elif not isinstance(simulation, str):
            initial = Simulation.from_json(simulation)
        api_timeout = DEFAULT_TIMEOUT if timeout is None else seconds(timeout, "timeout")
        real_timeout = client.scaled(api_timeout)
        with self._cond:
            if self._stopping:
                raise errors.TwynError("the polling engine has shut down")
            entry = self._entries.get((id(client), sid))
            if entry is None:
                state = PollState(
                    sid, schedule or PhaseAware(), time_scale=client.time_scale, initial=initial
                )
                entry = _Entry(client, state)
                self._entries[entry.key] = entry
                self._by_client[id(client)].add(entry)
                if client not in self._hooked:
                    self._hooked.add(client)
                    client.on_close(functools.partial(self.forget_client, client))
                self._schedule(entry, state.start(time.time()))
            handle = Watch(
                self,
                client,
                entry.state.snapshot,
                time.monotonic() + real_timeout,
                real_timeout,
                api_timeout,
            )
            entry.handles.append(handle)
            self._push(handle.deadline or 0.0, handle)
            self._start()
        log.debug("twyn-widgets: watching %s (timeout %.1f s)", sid, real_timeout)
        return handle

    def stop(self, handle: Watch) -> bool:
        """End ``handle`` as stopped; ``False`` if it had already ended.

        The simulation's polling stops when its last handle is gone.
        """
        with self._cond:
            entry = self._entries.get((id(handle.client), handle.simulation_id))
            if entry is None or handle not in entry.handles:
                return False
            final = entry.state.stopped()
            self._detach(entry, handle)
        log.info("twyn-widgets: stopped watching %s", handle.simulation_id)
        return handle._end(final)

    def forget_client(self, client: PollingClient) -> None:
        """Stop every watch of ``client`` (it is closing)."""
        with self._cond:
            handles = [h for e in self._by_client.get(id(client), ()) for h in e.handles]
        for handle in handles:
            handle.stop()

    @property
    def active(self) -> int:
        """How many simulations are being polled."""
        with self._cond:
            return len(self._entries)

    def watching(self, client: PollingClient) -> int:
        """How many simulations of ``client`` are being polled."""
        with self._cond:
            return len(self._by_client.get(id(client), ()))

    @property
    def threads(self) -> int:
        """Threads the engine has started: the scheduler plus the workers."""
        return (1 if self._thread is not None else 0) + self._pool.threads

    def budget(self, client: PollingClient) -> RateBudget:
        """The rate budget shared by every watch of ``client`` (use it under the lock)."""
        with self._cond:
            budget = self._budgets.get(client)
            if budget is None:
                budget = self._budgets[client] = RateBudget()
            return budget

    def shutdown(self) -> None:
        """Stop the scheduler and the workers (at interpreter exit)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._pool.close()

    # -- the heap (every method here runs under the lock) -----------------------------------------

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="twyn-scheduler", daemon=True)
            self._thread.start()

    def _push(self, when: float, item: _Item) -> int:
        seq = next(self._seq)
        heapq.heappush(self._heap, (when, seq, item))
        self._cond.notify()
        return seq

    def _schedule(self, entry: _Entry, decision: Decision) -> None:
        """Put ``entry`` on the heap for ``decision.at`` (epoch), or later if the budget says."""
        if decision.ended or decision.at is None or entry.state.ended:
            return
        now = time.time()
        due = due_time(decision, self.budget(entry.client), now)
        entry.state.on_held(due - max(now, decision.at))
        entry.due_seq = self._push(time.monotonic() + max(0.0, due - now), entry)

    def _detach(self, entry: _Entry, handle: Watch) -> None:
        entry.handles.remove(handle)
        if not entry.handles:
            entry.state.close()
            self._forget(entry)

    def _forget(self, entry: _Entry) -> None:
        if self._entries.get(entry.key) is entry:
            del self._entries[entry.key]
        group = self._by_client.get(id(entry.client))
        if group is not None:
            group.discard(entry)
            if not group:
                del self._by_client[id(entry.client)]
        entry.due_seq = -1

    def _loop(self) -> None:
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                due: list[_Entry] = []
                ended: list[tuple[Watch, WatchSnapshot]] = []
                while self._heap and self._heap[0][0] <= now:
                    _, seq, item = heapq.heappop(self._heap)
                    if isinstance(item, Watch):
                        self._deadline(item, ended)
                    elif item.due_seq == seq and not item.state.ended and not item.in_flight:
                        due.append(item)
                jobs = self._plan(due)
                if jobs or ended:
                    # Why release the lock: ending a handle runs its subscribers, and the jobs
                    # go to the pool; neither may hold the lock a worker needs.
                    self._cond.release()
                    try:
                        for handle, final in ended:
                            handle._end(final)
                        for job in jobs:
                            self._pool.submit(job)
                    finally:
                        self._cond.acquire()
                    continue
                wait = self._heap[0][0] - now if self._heap else None
                self._cond.wait(wait)

    def _deadline(self, handle: Watch, ended: list[tuple[Watch, WatchSnapshot]]) -> None:
        entry = self._entries.get((id(handle.client), handle.simulation_id))
        if handle.done() or entry is None or handle not in entry.handles:
            return
        if not entry.state.may_time_out():
            self._push(time.monotonic() + DEADLINE_RECHECK, handle)
            return
        final = entry.state.timed_out(handle.api_timeout, time.time(), handle.client.rate_limit)
        ended.append((handle, final))
        self._detach(entry, handle)

    def _plan(self, due: list[_Entry]) -> list[Callable[[], None]]:
        """Jobs for the due entries, within each client's budget; the rest go back on the heap."""
        by_client: dict[int, list[_Entry]] = defaultdict(list)
        for entry in due:
            by_client[id(entry.client)].append(entry)
        jobs: list[Callable[[], None]] = []
        for group in by_client.values():
            client = group[0].client
            budget = self.budget(client)
            batch = self._batchable(client, group)
            chosen = {id(e) for e in batch}
            singles = [e for e in group if id(e) not in chosen]
            # Why this order: a results fetch is what the caller waits for; then the sweep,
            # which refreshes many at once; then lone GETs.
            planned: list[tuple[bool, list[_Entry]]] = [
                (False, [e]) for e in singles if e.state.fetch is Fetch.RESULTS
            ]
            if batch:
                planned.append((True, batch))
            planned.extend((False, [e]) for e in singles if e.state.fetch is not Fetch.RESULTS)
            for listed, entries in planned:
                wall = time.time()
                urgent = not listed and entries[0].state.fetch is Fetch.RESULTS
                if not budget.take(wall, urgent=urgent):
                    at = budget.earliest(wall, urgent=urgent)
                    for entry in entries:
                        entry.state.on_held(at - wall)
                        entry.due_seq = self._push(time.monotonic() + (at - wall), entry)
                    continue
                for entry in entries:
                    entry.in_flight = True
                job = self._list_job if listed else self._one_job
                jobs.append(functools.partial(job, entries))
        return jobs

    def _batchable(self, client: PollingClient, due: list[_Entry]) -> list[_Entry]:
        """What one list call refreshes: the due entries and every idle one of the client.

        Empty unless that is two or more: one simulation is cheaper with a single GET.
        """
        if not any(_listable(e) for e in due):
            return []
        idle = [e for e in self._by_client.get(id(client), ()) if not e.in_flight]
        batch = [e for e in {id(e): e for e in [*due, *idle]}.values() if _listable(e)]
        return batch if len(batch) >= 2 else []

    # -- jobs (on worker threads, without the lock during I/O) ----------------------------------

    def _one_job(self, entries: list[_Entry]) -> None:
        entry = entries[0]
        client = entry.client
        sid = entry.state.simulation_id
        with self._cond:
            fetch = entry.state.fetch
            seen = entry.state.snapshot.simulation
        try:
            if fetch is Fetch.RESULTS:
                result = client.get_results(sid, snapshot=seen)
            else:
                sim = client.get_simulation(sid)
        except errors.TwynError as exc:
            self._apply(client, functools.partial(self._failed_all, [entry], exc))
            return
        if fetch is Fetch.RESULTS:
            self._apply(client, lambda: [(entry, entry.state.on_results(result, time.time()))])
        else:
            self._apply(client, lambda: [(entry, entry.state.on_simulation(sim, time.time()))])

    def _list_job(self, entries: list[_Entry]) -> None:
        client = entries[0].client
        with self._cond:
            wanted = {e.state.simulation_id: e for e in entries}
            created = [_created(e) for e in entries]
        after = None
        if all(c is not None for c in created):
            # Why a filter: newest first, only pages back to the oldest watched simulation.
            oldest = min(c for c in created if c is not None)
            after = (oldest - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        seen: dict[str, Simulation] = {}
        offset = 0
        pages = 0
        searched = True  # False if the sweep stopped before looking everywhere it should
        try:
            while len(seen) < len(wanted) and pages < len(wanted) // PAGE_LIMIT + 2:
                if pages:
                    with self._cond:
                        allowed = self.budget(client).extra(time.time())
                    if not allowed:
                        searched = False  # a 429 pause began: the rest wait for the next sweep
                        break
                page = client.list_simulations(created_after=after, limit=PAGE_LIMIT, offset=offset)
                pages += 1
                for sim in page.items:
                    if sim.id in wanted:
                        seen[sim.id] = sim
                offset += len(page.items)
                if not page.items or offset >= page.total:
                    break
        except errors.TwynError as exc:
            self._apply(client, functools.partial(self._list_failed, entries, exc))
            return

        def outcome() -> list[_Outcome]:
            now = time.time()
            out: list[_Outcome] = []
            for entry in entries:
                sim = seen.get(entry.state.simulation_id)
                if sim is not None:
                    out.append((entry, entry.state.on_simulation(sim, now, listed=True)))
                elif searched:  # not where it should be: another tenant's, or gone; ask alone
                    out.append((entry, entry.state.on_missing(now)))
                else:
                    out.append((entry, entry.state.poll_now(now)))
            return out

        self._apply(client, outcome)

    def _list_failed(self, entries: list[_Entry], exc: errors.TwynError) -> list[_Outcome]:
        now = time.time()
        if not errors.is_transient(exc):
            # Why not end the watches: a list call failing for good (e.g. a proxy that blocks
            # it) says nothing about each simulation; fall back to single GETs.
            return [(e, e.state.on_missing(now)) for e in entries]
        out = [self._failed(e, exc) for e in entries]
        # Why one time for the batch: per-watch jitter would split the client's next sweep
        # into many; the jitter between clients still spreads a recovery.
        shared = max((d.at for _, d in out if d.at is not None), default=None)
        return [(e, d if d.at is None else _at(d, shared)) for e, d in out]

    def _failed_all(self, entries: list[_Entry], exc: errors.TwynError) -> list[_Outcome]:
        return [self._failed(e, exc) for e in entries]

    def _failed(self, entry: _Entry, exc: errors.TwynError) -> _Outcome:
        """Feed a failure to the state machine (under the lock); a 429 pauses the whole key."""
        now = time.time()
        hold_key(self.budget(entry.client), exc, now)
        return (entry, entry.state.on_error(exc, now))

    def _apply(self, client: PollingClient, step: Callable[[], Iterable[_Outcome]]) -> None:
        """Run ``step`` (state-machine calls) under the lock, publish, then reschedule.

        Why three steps: subscribers run without the lock (they set widget traits and may
        stop a watch), and an entry stays in flight until its snapshot is out, so the next
        poll's snapshot can never overtake this one.
        """
        with self._cond:
            self.budget(client).observe(client.rate_limit, time.time())
            outcomes = list(step())
            deliveries: list[tuple[list[Watch], Decision]] = []
            for entry, decision in outcomes:
                handles = list(entry.handles)
                if decision.ended:
                    entry.handles.clear()
                    self._forget(entry)
                deliveries.append((handles, decision))
        for handles, decision in deliveries:
            for handle in handles:
                if decision.ended:
                    handle._end(decision.snapshot)
                else:
                    handle._publish(decision.snapshot)
        with self._cond:
            for entry, decision in outcomes:
                entry.in_flight = False
                self._schedule(entry, decision)


def due_time(decision: Decision, budget: RateBudget, now: float) -> float:
    """Epoch time to send what ``decision`` asks for: its own time, or later if the budget says.

    Why the budget can only delay: a send before ``earliest()`` would be refused anyway. A
    results fetch is urgent: it skips the spacing of polls, never a 429's pause.
    """
    at = now if decision.at is None else decision.at
    return max(at, budget.earliest(now, urgent=decision.fetch is Fetch.RESULTS))


def hold_key(budget: RateBudget, exc: BaseException, now: float) -> None:
    """After a 429 every request of the key waits its ``retry_after`` (unscaled)."""
    if isinstance(exc, errors.RateLimited):
        wait = exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER
        budget.pause(wait, now)


def _listable(entry: _Entry) -> bool:
    """Whether a list page can refresh ``entry`` (not a results fetch, nor a single GET)."""
    return not entry.state.ended and entry.state.fetch is Fetch.STATUS


def _created(entry: _Entry) -> datetime | None:
    sim = entry.state.snapshot.simulation
    return None if sim is None else sim.created_at


def _at(decision: Decision, at: float | None) -> Decision:
    return Decision(decision.snapshot, decision.ended, decision.fetch, at)


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The process's engine, created on first use."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
            atexit.register(_engine.shutdown)
        return _engine
