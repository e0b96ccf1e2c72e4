"""``Watch``: the caller's handle on a watched simulation, a future of its result."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Generator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..errors import TwynError, WatchInterrupted, WatchStopped
from ..models import SimulationResult
from ._snapshot import WatchSnapshot

if TYPE_CHECKING:
    from ._engine import Engine
    from ._protocol import PollingClient

__all__ = ["API_SECOND", "Watch", "interrupted", "real_timeout", "still_watched", "wait_all"]

API_SECOND = (
    "a second on the API's clock: a real second against the real API; against an emulator "
    "running N times faster, 1/N of a real second (the client's time_scale)"
)
"""What an API second is, in the words the magic's help and the docstrings use."""

log = logging.getLogger("twyn_widgets")

Subscriber = Callable[[WatchSnapshot], None]


class Watch(concurrent.futures.Future[SimulationResult]):
    """A ``concurrent.futures.Future`` of a :class:`~twyn_widgets.SimulationResult`.

    Made by :meth:`TwynClient.watch <twyn_widgets.TwynClient.watch>`; polling runs on the
    shared background scheduler, not in the caller's thread.

    - ``result(timeout)`` blocks for the result, or raises
      :class:`~twyn_widgets.SimulationFailed`, :class:`~twyn_widgets.WaitTimeout` or the
      :class:`~twyn_widgets.APIError` that ended the watch; after ``stop()``,
      :class:`~twyn_widgets.WatchStopped` (also a ``concurrent.futures.CancelledError``).
      Unlike a plain future's, its ``timeout`` counts API seconds, like every timeout of the
      package, and an interrupt stops the watch (:class:`~twyn_widgets.WatchInterrupted`).
    - ``await watch`` works in asyncio (``asyncio.gather(*watches)``).
    - ``subscribe(fn)`` calls ``fn(snapshot)`` on every change, from a polling thread.
    - ``stop()`` stops this handle's polling; there is no remote cancel: the simulation
      keeps running on the server.

    Several handles on the same simulation and client share one poller; each ends on its own.
    """

    def __init__(
        self,
        engine: Engine,
        client: PollingClient,
        snapshot: WatchSnapshot,
        deadline: float | None,
        timeout: float | None,
        api_timeout: float | None = None,
    ) -> None:
        super().__init__()
        self._engine = engine
        self._client = client
        self._snapshot = snapshot
        self.deadline = deadline
        """The engine's clock (``time.monotonic()``) value after which it times out, or ``None``."""
        self.timeout = timeout
        """The timeout in real seconds (already scaled), or ``None``."""
        self.api_timeout = api_timeout
        """The timeout as the caller gave it, in API seconds (before ``time_scale``)."""
        self._subscribers: list[Subscriber] = []
        self._sub_lock = threading.Lock()
        self._final: WatchSnapshot | None = None
        self._ended = False  # set by _end before the future resolves, under _sub_lock

    @property
    def simulation_id(self) -> str:
        """The watched simulation's id."""
        return self._snapshot.simulation_id

    @property
    def snapshot(self) -> WatchSnapshot:
        """The latest state of the watch."""
        return self._final or self._snapshot

    @property
    def client(self) -> PollingClient:
        """The client this watch polls with."""
        return self._client

    def subscribe(self, callback: Subscriber, *, now: bool = True) -> Callable[[], None]:
        """Call ``callback(snapshot)`` on every change; returns a function that unsubscribes.

        The callback runs on a polling thread: keep it short, and never print, display or
        enter an ``Output`` widget from it (set widget traits only). With ``now``, it is also
        called once at once, in the caller's thread, with the current snapshot.
        """
        with self._sub_lock:
            self._subscribers.append(callback)
        if now:
            callback(self.snapshot)

        def unsubscribe() -> None:
            with self._sub_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _publish(self, snapshot: WatchSnapshot) -> None:
        with self._sub_lock:
            if self._ended:
                return  # Why: a poll that raced a stop must not show after the end
            # Why: two workers may deliver one simulation's answers out of order; every
            # answer adds a poll or a retry, so an older snapshot has fewer of them.
            current = self._snapshot
            if snapshot.polls + snapshot.retries < current.polls + current.retries:
                return
            self._snapshot = snapshot
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(snapshot)
            except Exception:  # a subscriber's bug must not stop the polling
                log.exception("twyn-widgets: a watch subscriber failed")

    def _end(self, snapshot: WatchSnapshot) -> bool:
        """End this handle with ``snapshot``'s outcome; ``False`` if it had already ended."""
        with self._sub_lock:
            if self._ended or self.done():
                return False
            self._ended = True
            self._final = snapshot
        if snapshot.result is not None:
            self.set_result(snapshot.result)
        elif snapshot.error is not None:
            self.set_exception(snapshot.error)
        else:
            # Why: an ending with neither a result nor an error would leave callers with a bare
            # CancelledError that says nothing; every ending says what happened.
            self.set_exception(WatchStopped(f"stopped watching simulation {self.simulation_id}"))
        with self._sub_lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(snapshot)
            except Exception:  # a subscriber's bug must not stop the polling
                log.exception("twyn-widgets: a watch subscriber failed")
        return True

    def stop(self) -> bool:
        """Stop watching (this handle); the simulation keeps running (the API has no cancel).

        Returns ``False`` if the watch had already ended.
        """
        return self._engine.stop(self)

    def cancel(self) -> bool:
        """Same as :meth:`stop`: polling for it stops and it ends with ``WatchStopped``."""
        return self.stop()

    def result(self, timeout: float | timedelta | None = None) -> SimulationResult:
        """Block until the result, or raise what ended the watch.

        Parameters
        ----------
        timeout
            How long to wait, in API seconds (a second on the API's clock: a real second
            against the real API; against an emulator running N times faster, 1/N of a real
            second); ``None`` waits until the watch ends, which its own deadline bounds.

        Raises
        ------
        SimulationFailed, WaitTimeout, WatchStopped, APIError
            How the watch ended.
        concurrent.futures.TimeoutError
            ``timeout`` passed first; the watch goes on.
        WatchInterrupted
            An interrupt (Ctrl-C): the watch stopped; the simulation keeps running.
        """
        __tracebackhide__ = True
        api = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        real = None if api is None else self._client.scaled(api)
        try:
            return super().result(real)
        except KeyboardInterrupt:
            raise interrupted([self]) from None
        except TwynError as exc:
            # Why drop the frames: they are the polling thread's and the future's machinery;
            # the caller's own line is where the error belongs.
            raise exc.with_traceback(None) from exc.__cause__
        except concurrent.futures.TimeoutError:
            raise still_watched([self], timeout) from None

    def wait(self, timeout: float | timedelta | None = None) -> SimulationResult:
        """Block until the result (same as ``result(timeout)``; ``timeout`` in API seconds)."""
        __tracebackhide__ = True
        return self.result(timeout)

    def __await__(self) -> Generator[Any, None, SimulationResult]:
        # Why wrap_future: it bridges this thread-completed future into the running loop,
        # the docs' asyncio.gather pattern without aiohttp.
        return asyncio.wrap_future(self).__await__()

    def __repr__(self) -> str:
        snap = self.snapshot
        status = snap.status or "unknown"
        return f"<Watch {self.simulation_id} {snap.state} status={status} polls={snap.polls}>"


def interrupted(watches: Sequence[Watch]) -> WatchInterrupted:
    """Stop ``watches`` after an interrupt; the error that says so and how to resume.

    Why stop: an interrupted wait must leave nothing polling behind the user's back, and the
    message can then say plainly that watching stopped.
    """
    for watch in watches:
        watch.stop()
    return WatchInterrupted([w.simulation_id for w in watches])


def still_watched(
    watches: Sequence[Watch], timeout: float | timedelta | None
) -> concurrent.futures.TimeoutError:
    """The error of a wait whose own ``timeout`` passed first: watching goes on."""
    api = timeout.total_seconds() if isinstance(timeout, timedelta) else (timeout or 0.0)
    one = len(watches) == 1
    what = f"simulation {watches[0].simulation_id} is" if one else f"{len(watches)} simulations are"
    return concurrent.futures.TimeoutError(
        f"{what} still being watched after {api:g} API seconds; watching goes on: wait "
        f"again, or stop() {'it' if one else 'them'}"
    )


def real_timeout(watches: Sequence[Watch], timeout: float | timedelta | None) -> float | None:
    """``timeout`` API seconds in real seconds for ``watches`` (the slowest client's scale)."""
    if timeout is None:
        return None
    api = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    scale = max((w.client.time_scale for w in watches), default=1.0)
    return api * scale


def wait_all(watches: Sequence[Watch], timeout: float | timedelta | None = None) -> set[Watch]:
    """Wait until every watch ended or ``timeout`` API seconds passed; the ones still going.

    An interrupt stops them all and raises :class:`~twyn_widgets.WatchInterrupted`.
    """
    __tracebackhide__ = True
    try:
        _, pending = concurrent.futures.wait(watches, real_timeout(watches, timeout))
    except KeyboardInterrupt:
        raise interrupted(watches) from None
    return {w for w in watches if w in pending}
