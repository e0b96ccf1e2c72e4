"""The engine: the I/O around the pollers, on one scheduler thread and a small worker pool.

Every decision is a :class:`~._poller.Poller`'s (one per client). The engine only waits for
the next due time, runs the requests a poller asks for on the pool, feeds the answers back,
and delivers what comes out: snapshots to a watch's subscribers, its end to its future. One
lock (a ``Condition``) guards the pollers; they are called only under it, and nothing is
delivered or sent while it is held.

Threads: the caller's (``watch``, ``stop``), the scheduler's (due requests and deadlines) and
the workers' (HTTP, then that answer's actions). The scheduler never does I/O and waits on
the ``Condition`` (never ``sleep``), so a new watch, a stop or an answer wakes it at once. The
thread count is ``1 + pool size`` however many simulations are watched.
"""

from __future__ import annotations

import atexit
import functools
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import timedelta

from .. import errors
from ..models import Simulation, SimulationRef, simulation_id
from ._poller import Action, Answer, Call, Finish, Poller, Publish, Request, Send
from ._protocol import PollingClient
from ._schedules import PhaseAware, Schedule, seconds
from ._snapshot import NoteKind, WatchSnapshot
from ._watch import Watch

__all__ = ["DEFAULT_TIMEOUT", "POOL_SIZE", "Engine", "WorkerPool", "get_engine"]

log = logging.getLogger("twyn_widgets")

DEFAULT_TIMEOUT = 600.0
"""API seconds before a watch gives up: the docs' 10 minutes."""

POOL_SIZE = 4

_Client = PollingClient
_Actions = Sequence[Action[Watch]]


class Engine:
    """Runs the polls of every watch of the process.

    Parameters
    ----------
    pool_size
        Worker threads for HTTP (each keeps one connection per client).
    clock
        The scheduling clock, in seconds (``time.monotonic``): due times, deadlines, pauses.
    """

    def __init__(
        self, pool_size: int = POOL_SIZE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._cond = threading.Condition()  # the one lock of the pollers
        self._clock = clock
        self._pollers: weakref.WeakKeyDictionary[_Client, Poller[Watch]] = (
            weakref.WeakKeyDictionary()
        )
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
            poller = self._poller(client)
            now = self._clock()
            snapshot = poller.snapshot(sid) or WatchSnapshot(
                sid, simulation=initial, time_scale=client.time_scale
            )
            handle = Watch(self, client, snapshot, now + real_timeout, real_timeout, api_timeout)
            poller.add(
                handle,
                sid,
                schedule=schedule or PhaseAware(),
                deadline=handle.deadline,
                now=now,
                api_timeout=api_timeout,
                initial=initial,
            )
            self._start()
            self._cond.notify()
        log.debug("twyn-widgets: watching %s (timeout %.1f s)", sid, real_timeout)
        return handle

    def stop(self, handle: Watch) -> bool:
        """End ``handle`` as stopped; ``False`` if it had already ended.

        The simulation's polling stops when its last handle is gone.
        """
        with self._cond:
            poller = self._pollers.get(handle.client)
            actions = [] if poller is None else poller.stop(handle, self._clock())
            self._cond.notify()
        return handle in self._run(handle.client, actions)

    def forget_client(self, client: PollingClient) -> None:
        """Stop every watch of ``client`` (it is closing)."""
        with self._cond:
            poller = self._pollers.get(client)
            actions = [] if poller is None else poller.close(self._clock())
        self._run(client, actions)

    @property
    def active(self) -> int:
        """How many simulations are being polled."""
        with self._cond:
            return sum(p.watching for p in self._pollers.values())

    def watching(self, client: PollingClient) -> int:
        """How many simulations of ``client`` are being polled."""
        with self._cond:
            poller = self._pollers.get(client)
            return 0 if poller is None else poller.watching

    @property
    def threads(self) -> int:
        """Threads the engine has started: the scheduler plus the workers."""
        return (1 if self._thread is not None else 0) + self._pool.threads

    def shutdown(self) -> None:
        """Stop the scheduler and the workers (at interpreter exit)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._pool.close()

    # -- under the lock -------------------------------------------------------------------------

    def _poller(self, client: PollingClient) -> Poller[Watch]:
        poller = self._pollers.get(client)
        if poller is None:
            poller = self._pollers[client] = Poller(client.time_scale)
            client.on_close(functools.partial(self.forget_client, client))
        return poller

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="twyn-scheduler", daemon=True)
            self._thread.start()

    # -- the threads ----------------------------------------------------------------------------

    def _loop(self) -> None:
        """The scheduler: take what is due, run it without the lock, wait for the next."""
        while True:
            with self._cond:
                if self._stopping:
                    return
                now = self._clock()
                due = [(c, p.due(now)) for c, p in list(self._pollers.items())]
                due = [(c, actions) for c, actions in due if actions]
                if not due:
                    wakeups = [w for p in self._pollers.values() if (w := p.wakeup()) is not None]
                    self._cond.wait(min(wakeups) - now if wakeups else None)
                    continue
            for client, actions in due:
                self._run(client, actions)

    def _send(self, client: PollingClient, request: Request) -> None:
        """A worker's job: the HTTP of ``request``, then its answer's actions."""
        try:
            answer: Answer = _call(client, request)
        except errors.TwynError as exc:
            answer = exc
        # Why the wall clock here and only here: the lifecycle and the rate limit's reset
        # are the server's epoch times.
        wall = time.time()
        with self._cond:
            poller = self._pollers.get(client)
            actions: _Actions = []
            if poller is not None:
                actions = poller.answered(
                    request, answer, self._clock(), wall=wall, rate_limit=client.rate_limit
                )
            self._cond.notify()  # the next due time may have changed
        self._run(client, actions)

    def _run(self, client: PollingClient, actions: _Actions) -> set[Watch]:
        """Deliver snapshots and endings, then hand the requests to the pool.

        Returns the handles this call ended. Why deliveries first and never under the lock:
        subscribers set widget traits and may stop a watch, which takes the lock; and a
        follow-up request goes out only after the snapshot that asked for it.
        """
        ended: set[Watch] = set()
        for action in actions:
            if isinstance(action, Publish):
                if action.handles:
                    _log_change(action.handles[0].snapshot, action.snapshot)
                for handle in action.handles:
                    handle._publish(action.snapshot)
            elif isinstance(action, Finish):
                for handle in action.handles:
                    log.info("twyn-widgets: %s %s", handle.simulation_id, action.snapshot.state)
                    if handle._end(action.snapshot):
                        ended.add(handle)
        for action in actions:
            if isinstance(action, Send):
                self._pool.submit(functools.partial(self._send, client, action.request))
        return ended


def _call(client: PollingClient, request: Request) -> Answer:
    """The HTTP a :class:`Request` names, through ``client``."""
    sid = request.ids[0]
    if request.call is Call.RESULTS:
        return client.get_results(sid, snapshot=request.seen)
    if request.call is Call.SIMULATION:
        return client.get_simulation(sid)
    return client.list_simulations(
        created_after=request.created_after, limit=request.limit, offset=request.offset
    )


def _log_change(before: WatchSnapshot, after: WatchSnapshot) -> None:
    """Log a new status (info), a status gone back (warning) and a retry (info)."""
    sid = after.simulation_id
    if after.status is not None and after.status != before.status:
        log.info("twyn-widgets: %s %s -> %s", sid, before.status, after.status)
    note = after.note
    if note is not None and note is not before.note:
        level = logging.WARNING if note.kind is NoteKind.WENT_BACK else logging.INFO
        log.log(level, "twyn-widgets: %s %s", sid, note)


class WorkerPool:
    """Runs callables on at most ``size`` daemon threads, started only when work needs them.

    Why not ``concurrent.futures.ThreadPoolExecutor``: its threads are joined at interpreter
    exit, so a worker blocked in a 30 s HTTP read would hold up the exit of a script or a kernel
    shutdown. These threads are daemons, and a job's failure is logged, never fatal to a thread.
    """

    def __init__(self, size: int, name: str = "twyn-poll") -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self._name = name
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False

    def submit(self, job: Callable[[], None]) -> None:
        """Queue ``job``; start a thread if none is idle and the pool is not full."""
        with self._lock:
            if self._closed:
                return
            if self._idle == 0 and len(self._threads) < self.size:
                thread = threading.Thread(
                    target=self._run, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            else:
                self._idle = max(0, self._idle - 1)
        self._jobs.put(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # a job must never take its thread down
                log.exception("twyn-widgets: a polling job failed")
            with self._lock:
                self._idle += 1

    @property
    def threads(self) -> int:
        """How many threads the pool has started."""
        return len(self._threads)

    def close(self) -> None:
        """Let every thread finish its job and end."""
        with self._lock:
            self._closed = True
            count = len(self._threads)
        for _ in range(count):
            self._jobs.put(None)


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
