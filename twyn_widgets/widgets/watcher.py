"""``SimulationWatcher``: a live widget for one simulation, fed by the polling engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from datetime import datetime, timedelta, timezone
from typing import Any

import ipywidgets as W
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
from .live import LiveBox
from .text import watcher_repr

__all__ = ["SimulationWatcher"]


class SimulationWatcher(LiveBox):
    """A live view of one simulation: progress, phase, status, elapsed time, ETA, result.

    Watching starts when the widget is made (``autostart``) and runs on the shared background
    scheduler: the cell returns at once. On success the widget shows the analysis and a chart
    of the metrics; on failure the error_log and the failed phase, with the bar kept red.

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
        Give up after this long, in API seconds (scaled by the client's ``time_scale``);
        defaults to the docs' 600 s.
    autostart
        Start watching now; otherwise call :meth:`start`.

    Attributes
    ----------
    status, phase, progress, elapsed
        Observable traits (``watcher.observe(fn, "status")``), updated about once a second
        from a background thread. They are not synced to the browser.
    result
        The :class:`~twyn_widgets.SimulationResult` once finished, else ``None``.

    Examples
    --------
    >>> w = SimulationWatcher(sim)          # doctest: +SKIP
    >>> w                                   # shows the live widget  # doctest: +SKIP
    >>> result = w.wait()                   # or: result = await w   # doctest: +SKIP
    """

    status = traitlets.Unicode("")
    phase = traitlets.Unicode("")
    progress = traitlets.Float(0.0)
    elapsed = traitlets.Float(0.0)

    def __init__(
        self,
        simulation: SimulationRef,
        *,
        client: TwynClient | None = None,
        schedule: Schedule | None = None,
        timeout: float | timedelta | None = None,
        autostart: bool = True,
    ) -> None:
        __tracebackhide__ = True  # a bad id or no client: the user's line shows, not ours
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
        self._last_second = -1
        self._stage = 0  # 0 live, 1 final state shown, 2 result shown, 3 summary published
        self._shown_progress = 0.0  # the bar never steps back while one watch runs
        self._created = time.monotonic()
        if not isinstance(simulation, str):
            self._adopt_initial(simulation)
        # Why build every part with its first value: a trait set after a comm opened is one
        # more message; the widget shows what is known from the first frame without any.
        est = self._snapshot.estimate(datetime.now(timezone.utc))
        self._bar = W.FloatProgress(
            value=est.progress,
            min=0.0,
            max=1.0,
            bar_style="info",
            description=f"{est.progress * 100:.0f}%",
            style={"description_width": "3em"},
            layout=W.Layout(width="100%"),
        )
        self._line = W.HTML(
            value=R.status_html(self._snapshot, est, self._elapsed(est.elapsed)),
            layout=W.Layout(flex="1 1 auto"),
        )
        self._stop_button = W.Button(
            description="Stop",
            icon="stop",
            tooltip="Stop watching (the simulation keeps running on the server)",
            layout=W.Layout(width="auto"),
        )
        self._stop_button.on_click(lambda _button: self.stop())
        self._result_view = W.HTML()
        self._row = W.HBox([self._line, self._stop_button])
        super().__init__(
            children=(self._bar, self._row),
            layout=W.Layout(width="100%", max_width="900px"),
            _dom_classes=("twyn-watcher",),
        )
        self._last_refresh = time.monotonic()
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

    # -- watching -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start (or restart after a stop or timeout) watching on the background scheduler."""
        if self._watch is not None and not self._watch.done():
            return
        self._stage = 0
        self._shown_end.clear()
        self._shown_progress = 0.0
        self._watch = self._client.watch(
            self._simulation, schedule=self._schedule, timeout=self._timeout
        )
        # Why subscribe and not render: the callback runs on a polling thread; it only
        # stores the snapshot, and the ticker turns it into trait sets at most once a second.
        self._unsubscribe = self._watch.subscribe(self._on_snapshot)
        if self._row not in self.children:
            self.children = (self._bar, self._row)
        self._start_ticking()

    def _on_snapshot(self, snapshot: WatchSnapshot) -> None:
        with self._lock:
            self._snapshot = snapshot
            self._dirty = True

    def stop(self) -> None:
        """Stop watching; the simulation keeps running on the server (the API has no cancel)."""
        # Why getattr: ipywidgets' __del__ calls close() even when __init__ failed early
        # (an invalid id), before any attribute was set.
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
        """Stop watching and close the widget and its parts."""
        self.stop()
        if getattr(self, "_unsubscribe", None) is not None:
            self._unsubscribe()
        if not hasattr(self, "_bar"):  # __init__ failed before the parts existed
            super().close()
            return
        self._stop_ticking()
        for part in (self._bar, self._line, self._stop_button, self._result_view, self._row):
            part.close()
        super().close()

    # -- rendering (ticker thread) --------------------------------------------------------------

    def _elapsed(self, from_server: float | None) -> float:
        return from_server if from_server is not None else time.monotonic() - self._created

    def _refresh(self, now: float) -> bool:
        with self._lock:
            snap = self._snapshot
            dirty = self._dirty
            self._dirty = False
        est = snap.estimate(datetime.now(timezone.utc))
        elapsed = self._elapsed(est.elapsed)
        second = int(elapsed)
        if not dirty and second == self._last_second and self._stage == 0 and not snap.done:
            return True
        self._last_refresh = now
        self._last_second = second
        if snap.done and self._stage >= 1:
            return self._finish(snap, elapsed)
        progress = 1.0 if snap.state is WatchState.SUCCEEDED else est.progress
        # Why a floor: a FAILED estimate is taken at the failure time, slightly before the
        # last live estimate; a bar that steps back looks like a glitch.
        progress = self._shown_progress = max(progress, self._shown_progress)
        # Python-side traits: not synced, so they cost no messages.
        self.status = str(snap.status or "")
        self.phase = R.phase_text(snap.phase)
        self.progress = progress
        self.elapsed = elapsed
        # At most two widget messages: the bar (one message for its three traits) and the line.
        with self._bar.hold_sync():
            self._bar.value = progress
            self._bar.bar_style = R.state_style(snap.state).bar_style
            self._bar.description = f"{progress * 100:.0f}%"
        self._line.value = R.status_html(snap, est, elapsed)
        if snap.done:
            self._stage = 1
            self._shown_end.set()
        return True

    def _finish(self, snap: WatchSnapshot, elapsed: float) -> bool:
        """The last steps, one per refresh so no second sends more than two messages."""
        if self._stage == 1:
            self._result_view.value = (
                R.result_html(snap.result) if snap.result is not None else R.ended_html(snap)
            )
            self.children = (self._bar, self._line, self._result_view)
            self._stage = 2
            return True
        if self._stage == 2:
            self._stage = 3
            self._publish_static()
        return False

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
        progress = 1.0 if snap.state is WatchState.SUCCEEDED else self._shown_progress
        return R.watcher_static_html(snap, est, self._elapsed(est.elapsed), progress)
