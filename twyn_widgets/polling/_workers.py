"""A small pool of daemon threads that run the engine's HTTP jobs."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

__all__ = ["WorkerPool"]

log = logging.getLogger("twyn_widgets")


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
