"""The engine: one scheduler thread and a small worker pool for every watch in the process.

The scheduler thread keeps a heap of due times and never does I/O: it hands each due poll to
the worker pool and waits on a ``Condition`` (never ``sleep``), so a new watch, a stop or the
end of a job wakes it at once. The thread count is ``1 + pool size`` however many simulations
are watched.

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
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from .. import errors
from ..client import SimulationRef, simulation_id
from ..models import Simulation
from .budget import RateBudget
from .schedules import PhaseAware, Schedule, seconds
from .tracker import Tracker
from .watch import Watch
from .workers import WorkerPool

__all__ = ["DEFAULT_TIMEOUT", "Engine", "get_engine"]

log = logging.getLogger("twyn_widgets")

DEFAULT_TIMEOUT = 600.0
"""API seconds before a watch gives up: the docs' 10 minutes."""

POOL_SIZE = 4
PAGE_LIMIT = 100
_POLL, _DEADLINE = 0, 1


class Engine:
    """Schedules the polls of every watch of the process.

    Parameters
    ----------
    pool_size
        Worker threads for HTTP (each keeps one connection per client).
    """

    def __init__(self, pool_size: int = POOL_SIZE) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, int, Any]] = []
        self._seq = itertools.count()
        self._trackers: dict[tuple[int, str], Tracker] = {}
        self._by_client: dict[int, set[Tracker]] = defaultdict(set)
        self._budgets: weakref.WeakKeyDictionary[Any, RateBudget] = weakref.WeakKeyDictionary()
        self._hooked: weakref.WeakSet[Any] = weakref.WeakSet()
        self._pool = WorkerPool(pool_size)
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- public ---------------------------------------------------------------------------------

    def watch(
        self,
        client: Any,
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
            key = (id(client), sid)
            tracker = self._trackers.get(key)
            fresh = tracker is None or tracker.ended
            if tracker is None or tracker.ended:
                tracker = Tracker(self, client, sid, schedule or PhaseAware(), initial)
                self._trackers[key] = tracker
                if client not in self._hooked:
                    self._hooked.add(client)
                    client.on_close(functools.partial(self.forget_client, client))
                self._by_client[id(client)].add(tracker)
            handle = Watch(tracker, time.monotonic() + real_timeout, real_timeout)
            tracker.attach(handle)
            self._push(handle.deadline or 0.0, _DEADLINE, handle)
            if fresh:
                self._due(tracker, 0.0)
            self._start()
        log.debug("twyn-widgets: watching %s (timeout %.1f s)", sid, real_timeout)
        return handle

    def forget(self, tracker: Tracker) -> None:
        """Drop an ended tracker (called by the tracker itself)."""
        with self._cond:
            key = (id(tracker.client), tracker.simulation_id)
            if self._trackers.get(key) is tracker:
                del self._trackers[key]
            self._by_client[id(tracker.client)].discard(tracker)
            if not self._by_client[id(tracker.client)]:
                del self._by_client[id(tracker.client)]
            tracker.due_seq = -1

    def forget_client(self, client: Any) -> None:
        """Stop every watch of ``client`` (it is closing)."""
        with self._cond:
            trackers = list(self._by_client.get(id(client), ()))
        for tracker in trackers:
            for handle in list(tracker.handles):
                handle.stop()

    @property
    def active(self) -> int:
        """How many simulations are being polled."""
        with self._cond:
            return len(self._trackers)

    @property
    def threads(self) -> int:
        """Threads the engine has started: the scheduler plus the workers."""
        return (1 if self._thread is not None else 0) + self._pool.threads

    def budget(self, client: Any) -> RateBudget:
        """The rate budget shared by every watch of ``client``."""
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

    # -- scheduling -----------------------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="twyn-scheduler", daemon=True)
            self._thread.start()

    def _push(self, when: float, kind: int, item: Any) -> int:
        seq = next(self._seq)
        heapq.heappush(self._heap, (when, seq, kind, item))
        self._cond.notify()
        return seq

    def _due(self, tracker: Tracker, real_delay: float) -> None:
        """(Re)schedule ``tracker`` ``real_delay`` seconds from now; the caller holds the lock."""
        if not tracker.ended:
            tracker.due_seq = self._push(time.monotonic() + real_delay, _POLL, tracker)

    def _loop(self) -> None:
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                due: list[Tracker] = []
                expired: list[Watch] = []
                while self._heap and self._heap[0][0] <= now:
                    _, seq, kind, item = heapq.heappop(self._heap)
                    if kind == _DEADLINE:
                        if not item.done():
                            expired.append(item)
                    elif item.due_seq == seq and not item.ended and not item.in_flight:
                        due.append(item)
                if due or expired:
                    # Why release the lock: dispatching takes tracker locks and may call back
                    # into forget(); the heap is only touched again under the lock.
                    self._cond.release()
                    try:
                        for handle in expired:
                            if not handle._tracker.time_out(handle):
                                with self._cond:
                                    self._push(time.monotonic() + 0.1, _DEADLINE, handle)
                        self._dispatch(due)
                    finally:
                        self._cond.acquire()
                    continue
                wait = self._heap[0][0] - now if self._heap else None
                self._cond.wait(wait)

    def _dispatch(self, due: list[Tracker]) -> None:
        by_client: dict[int, list[Tracker]] = defaultdict(list)
        for tracker in due:
            by_client[id(tracker.client)].append(tracker)
        for group in by_client.values():
            client = group[0].client
            budget = self.budget(client)
            batchable = self._batchable(client, group)
            batched = len(batchable) >= 2
            chosen = {id(t) for t in batchable} if batched else set()
            # Why this order: a results fetch is what the caller waits for; then the sweep,
            # which refreshes many at once; then lone GETs.
            singles = [t for t in group if id(t) not in chosen]
            jobs: list[tuple[str, list[Tracker]]] = [
                ("one", [t]) for t in singles if t.needs_results
            ]
            if batched:
                jobs.append(("list", batchable))
            jobs.extend(("one", [t]) for t in singles if not t.needs_results)
            for kind, trackers in jobs:
                wall = time.time()
                urgent = kind == "one" and trackers[0].needs_results
                if not budget.take(wall, urgent=urgent):
                    wait = budget.earliest(wall, urgent=urgent) - wall
                    with self._cond:
                        for tracker in trackers:
                            self._due(tracker, wait)
                    continue
                for tracker in trackers:
                    tracker.in_flight = True
                job = self._list_job if kind == "list" else self._one_job
                self._pool.submit(functools.partial(job, trackers))

    def _batchable(self, client: Any, due: list[Tracker]) -> list[Tracker]:
        """Trackers one list call can refresh: the due ones, and every idle one of the client."""
        if not any(_listable(t) for t in due):
            return []
        with self._cond:
            idle = [t for t in self._by_client.get(id(client), ()) if not t.in_flight]
        return [t for t in {id(t): t for t in [*due, *idle]}.values() if _listable(t)]

    # -- jobs (on worker threads) ---------------------------------------------------------------

    def _one_job(self, trackers: list[Tracker]) -> None:
        tracker = trackers[0]
        client = tracker.client
        try:
            if tracker.needs_results:
                result = client.get_results(
                    tracker.simulation_id, snapshot=tracker.snapshot.simulation
                )
                tracker.apply_results(result)
                delay: float | None = None
            else:
                tracker.apply_simulation(client.get_simulation(tracker.simulation_id))
                delay = None if tracker.ended else tracker.next_delay()
        except errors.TwynError as exc:
            delay = self._failed(tracker, exc)
        self._after(client, [(tracker, delay)])

    def _list_job(self, trackers: list[Tracker]) -> None:
        client = trackers[0].client
        wanted = {t.simulation_id: t for t in trackers}
        created = [_created(t) for t in trackers]
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
                if pages and not self.budget(client).extra(time.time()):
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
            if not errors.is_transient(exc):
                # Why not end the watches: a list call failing for good (e.g. a proxy that
                # blocks it) says nothing about each simulation; fall back to single GETs.
                for tracker in trackers:
                    tracker.apply_missing()
                self._after(client, [(t, 0.0) for t in trackers])
                return
            delays = [self._failed(t, exc) for t in trackers]
            # Why one delay for the batch: per-tracker jitter would split the client's next
            # sweep into many; the jitter between clients still spreads a recovery.
            shared = max((d for d in delays if d is not None), default=None)
            self._after(
                client,
                [(t, None if d is None else shared) for t, d in zip(trackers, delays, strict=True)],
            )
            return
        outcome: list[tuple[Tracker, float | None]] = []
        for tracker in trackers:
            sim = seen.get(tracker.simulation_id)
            if sim is None:
                if searched:  # not where it should be: another tenant's, or gone; ask alone
                    tracker.apply_missing()
                outcome.append((tracker, 0.0))
                continue
            tracker.apply_simulation(sim)
            outcome.append((tracker, None if tracker.ended else tracker.next_delay()))
        self._after(client, outcome)

    def _failed(self, tracker: Tracker, exc: errors.TwynError) -> float | None:
        if isinstance(exc, errors.RateLimited):
            wait = exc.retry_after if exc.retry_after is not None else 5.0
            self.budget(tracker.client).pause(wait, time.time())
        return tracker.apply_error(exc)

    def _after(self, client: Any, outcome: Iterable[tuple[Tracker, float | None]]) -> None:
        """Note the budget, then put each tracker back on the heap (delays in API seconds)."""
        budget = self.budget(client)
        budget.observe(client.rate_limit, time.time())
        with self._cond:
            for tracker, delay in outcome:
                tracker.in_flight = False
                if delay is None or tracker.ended:
                    continue
                real = client.scaled(delay)
                # Why max with the budget: a send before earliest() would be refused anyway.
                now = time.time()
                hold = budget.earliest(now, urgent=tracker.needs_results) - now
                self._due(tracker, max(real, hold))


def _listable(tracker: Tracker) -> bool:
    """Whether a list page can refresh ``tracker`` (not one a page missed, nor a results fetch)."""
    return not (tracker.ended or tracker.needs_results or tracker.force_single)


def _created(tracker: Tracker) -> datetime | None:
    sim = tracker.snapshot.simulation
    return None if sim is None else sim.created_at


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
