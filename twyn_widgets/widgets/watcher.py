"""``SimulationWatcher``: a live widget for one simulation, fed by the polling engine."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Generator
from datetime import datetime, timedelta, timezone
from typing import Any

import traitlets

from .. import _render as R
from .. import _terminal as terminal
from .._connect import resolve_client
from .._ipython import in_kernel
from ..client import SimulationRef, TwynClient, simulation_id
from ..errors import ProtocolError, WatchInterrupted
from ..models import Simulation, SimulationResult
from ..polling import Schedule, Watch, WatchSnapshot, WatchState
from ..polling._watch import interrupted, real_timeout, still_watched
from ._views import WatcherView
from ._viewstate import ModelTracker
from .live import REFRESH, LiveBox, notify_choice
from .text import watcher_repr

__all__ = ["SimulationWatcher"]


class _Traits(traitlets.HasTraits):
    """The observable readouts (Python side only: never sent to the browser)."""

    status = traitlets.Unicode("")
    phase = traitlets.Unicode("")
    progress = traitlets.Float(0.0)
    elapsed = traitlets.Float(0.0)


class SimulationWatcher(LiveBox):
    """A live view of one simulation: progress, phase, status, elapsed time, ETA, outcome.

    Watching starts when the widget is made (``autostart``) and runs on the shared background
    scheduler: the cell returns at once. The browser draws the view and ticks the elapsed
    time, the ETA and the bar each second; the kernel sends only what changes (a status, a
    phase, a notice, the end). Once the watch ends, every display becomes the static outcome
    (the analysis and a chart of the metrics, or the error_log and the failed phase), which a
    saved notebook keeps.

    Parameters
    ----------
    simulation
        Its id, a :class:`~twyn_widgets.Simulation` or the API's dict.
    client
        The client to poll with. By default the one that returned ``simulation``, else the
        default client (:func:`twyn_widgets.connect`'s or
        :func:`twyn_widgets.set_default_client`'s), else the only client in the notebook;
        never a server started behind your back.
    schedule
        When to poll (:class:`~twyn_widgets.polling.PhaseAware` by default).
    timeout
        Give up after this long, in API seconds; defaults to the docs' 600 s.
    autostart
        Start watching now; otherwise call :meth:`start`.
    notify
        Tell you when the run ends while you look elsewhere: a desktop notification (the
        widget's bell asks the browser for permission) and a mark in the tab's title. ``None``
        follows :func:`twyn_widgets.set_notify_default`.

    Attributes
    ----------
    status, phase, progress, elapsed
        The readouts, updated about once a second from a background thread;
        :meth:`observe` calls you back when they change.
    result
        The :class:`~twyn_widgets.SimulationResult` once finished, else ``None``.
    widget
        The browser view, to place inside an ipywidgets layout.

    Examples
    --------
    ``w = SimulationWatcher(sim)`` then ``w`` shows it; ``result = w.wait()`` (or
    ``await w``) blocks until the end and returns the result.
    """

    def __init__(
        self,
        simulation: SimulationRef,
        *,
        client: TwynClient | None = None,
        schedule: Schedule | None = None,
        timeout: float | timedelta | None = None,
        autostart: bool = True,
        notify: bool | None = None,
    ) -> None:
        __tracebackhide__ = True  # a bad id or no client: the user's line shows, not ours
        super().__init__()
        self._traits = _Traits()
        self._simulation = simulation
        self._simulation_id = simulation_id(simulation)
        self._client = resolve_client(simulation, client)
        self._schedule = schedule
        self._timeout = timeout
        self._watch: Watch | None = None
        self._unsubscribe: Any = None
        self._lock = threading.Lock()
        self._snapshot = WatchSnapshot(self._simulation_id, time_scale=self._client.time_scale)
        self._dirty = False
        self._sent_at = -math.inf  # when (monotonic) the last model went to the browser
        self._created = time.monotonic()
        self._tracker = ModelTracker(started=time.time())
        if not isinstance(simulation, str):
            self._adopt_initial(simulation)
        # Why the first model at once: the view opens with what is known, no second message.
        first = self._tracker.update(self._snapshot, datetime.now(timezone.utc))
        self._view = WatcherView(self.stop, first or {}, notify_choice(notify))
        if autostart:
            self.start()

    def _adopt_initial(self, simulation: SimulationRef) -> None:
        """Show what the caller already knows (title, status) before the first poll."""
        if isinstance(simulation, Simulation):
            sim = simulation
        else:
            try:
                sim = Simulation.from_json(simulation)  # type: ignore[arg-type]
            except ProtocolError:
                return  # the first poll will tell
        self._snapshot = self._snapshot.evolve(simulation=sim)

    def observe(self, handler: Callable[[Any], None], names: str | list[str]) -> None:
        """Call ``handler(change)`` when ``status``, ``phase``, ``progress`` or ``elapsed``
        change (traitlets' ``change``: ``name``, ``old``, ``new``), from a background thread."""
        self._traits.observe(handler, names)

    def unobserve(self, handler: Callable[[Any], None], names: str | list[str]) -> None:
        """Stop calling ``handler``."""
        self._traits.unobserve(handler, names)

    @property
    def status(self) -> str:
        """The last status seen (``""`` before the first answer)."""
        return str(self._traits.status)

    @property
    def phase(self) -> str:
        """The phase in words (``"Simulator, 2 of 3"``)."""
        return str(self._traits.phase)

    @property
    def progress(self) -> float:
        """The estimated progress, 0 to 1 (about once a second)."""
        return float(self._traits.progress)

    @property
    def elapsed(self) -> float:
        """Seconds since the simulation was created (about once a second)."""
        return float(self._traits.elapsed)

    def _set_readouts(self, status: str, phase: str, progress: float, elapsed: float) -> None:
        t = self._traits
        with t.hold_trait_notifications():
            t.status, t.phase, t.progress, t.elapsed = status, phase, progress, elapsed

    # -- watching -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start (or restart after a stop or timeout) watching on the background scheduler."""
        if self._watch is not None and not self._watch.done():
            return
        self._shown_end.clear()
        self._tracker = ModelTracker(started=time.time())
        self._watch = self._client.watch(
            self._simulation, schedule=self._schedule, timeout=self._timeout
        )
        self._unsubscribe = self._watch.subscribe(self._on_snapshot)
        self._revive()
        self._start_ticking()

    def _on_snapshot(self, snapshot: WatchSnapshot) -> None:
        """A poll's news (on a polling thread): the browser's model goes out now if it changed.

        Why send from here and not at the next tick: a model changes only when a poll brings
        news, so the browser learns it at once (it only sets a trait). Within a second of the
        last model, the ticker sends it instead, so a burst of news (the results right after
        COMPLETED_ANALYSIS) costs at most one message a second. The end waits for the
        ticker too, which swaps in the static outcome.
        """
        with self._lock:
            self._snapshot = snapshot
            self._dirty = True
            if not snapshot.done and time.monotonic() - self._sent_at >= REFRESH:
                self._send_model(snapshot)

    def _send_model(self, snapshot: WatchSnapshot) -> None:
        """Send the browser's model if it changed (under ``_lock``: two threads call this)."""
        model = self._tracker.update(snapshot, datetime.now(timezone.utc))
        if model is not None:  # a poll that saw nothing new sends nothing
            self._view.sim = model
            self._sent_at = time.monotonic()

    def stop(self) -> None:
        """Stop watching; the simulation keeps running on the server (the API has no cancel)."""
        # Why getattr: close() may run when __init__ failed early (an invalid id), before
        # any attribute was set.
        watch = getattr(self, "_watch", None)
        if watch is not None:
            watch.stop()

    @property
    def watch(self) -> Watch | None:
        """The engine's handle (a future), or ``None`` before :meth:`start`."""
        return self._watch

    @property
    def simulation_id(self) -> str:
        """The watched simulation's id."""
        return self._simulation_id

    @property
    def snapshot(self) -> WatchSnapshot:
        """The latest state of the watch."""
        return self._snapshot

    @property
    def result(self) -> SimulationResult | None:
        """The result once the simulation finished, else ``None``."""
        return self._snapshot.result

    @property
    def view_state(self) -> dict[str, Any]:
        """What the browser was last sent: the compact model it draws (plain JSON)."""
        return dict(self._view.sim)

    def wait(self, timeout: float | timedelta | None = None) -> SimulationResult:
        """Block until the result, or raise what ended the watch.

        ``timeout`` is in API seconds, like the widget's own ``timeout`` (a second on the
        API's clock: a real second against the real API; against an emulator running N
        times faster, 1/N of a real second). Outside a kernel the widget cannot show: the
        wait draws one status line in place on a terminal, or a line per change in a log.

        Returns only once every display of the widget shows the end (at most about 2 s after
        the watch ended), so a notebook saved after this cell keeps the outcome.

        Raises
        ------
        SimulationFailed, WaitTimeout, APIError
            How the watch ended.
        concurrent.futures.TimeoutError
            ``timeout`` passed first (the watch keeps going).
        WatchInterrupted
            An interrupt (Ctrl-C): watching stopped; the simulation keeps running.
        """
        __tracebackhide__ = True
        if self._watch is None:
            self.start()
        watch = self._watch
        assert watch is not None
        if not in_kernel():
            # Why text: no widget can show outside a kernel; the terminal face draws instead.
            try:
                terminal.wait([watch], real_timeout([watch], timeout))
            except KeyboardInterrupt:
                raise interrupted([watch]) from None
            self._sync_final()
            if not watch.done():
                raise still_watched([watch], timeout)
            return watch.result(0)
        try:
            result = watch.result(timeout)
        except WatchInterrupted:
            raise  # at once: an interrupt ends the cell now, not once the widget settles
        except BaseException:
            if watch.done():
                self._settle()
            raise
        self._settle()
        return result

    def __await__(self) -> Generator[Any, None, SimulationResult]:
        if self._watch is None:
            self.start()
        watch = self._watch
        assert watch is not None

        async def wait() -> SimulationResult:
            try:
                if not in_kernel():
                    await terminal.wait_async([watch])
                return await watch
            finally:
                if watch.done():
                    await self._settle_async()

        return wait().__await__()

    def _sync_final(self) -> None:
        watch = self._watch
        if watch is not None and watch.done():
            self._on_snapshot(watch.snapshot)

    def close(self) -> None:
        """Stop watching and close the browser view."""
        self.stop()
        if getattr(self, "_unsubscribe", None) is not None:
            self._unsubscribe()
        self._close_view()

    # -- what the browser gets (ticker thread) ---------------------------------------------------

    def _elapsed(self, from_server: float | None) -> float:
        return from_server if from_server is not None else time.monotonic() - self._created

    def _refresh(self, now: float) -> bool:
        with self._lock:
            snap = self._snapshot
            # Why hold the news back: a poll sent a model less than a second ago (a burst,
            # such as the results right after COMPLETED_ANALYSIS); at most one a second.
            hold = now - self._sent_at < REFRESH
            dirty, self._dirty = self._dirty and not hold, self._dirty and hold
            if self._dirty:
                self._last_refresh = self._sent_at  # the next tick past the second sends it
        wall = datetime.now(timezone.utc)
        progress = self._tracker.progress(snap, wall)
        # The Python-side readouts tick here; they are never sent to the browser.
        elapsed = self._elapsed(snap.estimate(wall).elapsed)
        self._set_readouts(str(snap.status or ""), R.phase_text(snap.phase), progress, elapsed)
        if dirty:
            with self._lock:
                # Why the latest and not ``snap``: a poll may have sent a newer one since.
                self._send_model(self._snapshot)
        if snap.done and not self._dirty:
            self._shown_end.set()
            self._publish_static()
            return False
        return True

    # -- text and display -----------------------------------------------------------------------

    def __repr__(self) -> str:
        snap = self._snapshot
        est = snap.estimate(datetime.now(timezone.utc))
        return watcher_repr(snap, self._elapsed(est.elapsed))

    def _ended(self) -> bool:
        return self._snapshot.done

    def _static_html(self) -> str:
        snap = self._snapshot
        est = snap.estimate(datetime.now(timezone.utc))
        progress = 1.0 if snap.state is WatchState.SUCCEEDED else self._tracker.shown
        return R.watcher_static_html(snap, est, self._elapsed(est.elapsed), progress)
