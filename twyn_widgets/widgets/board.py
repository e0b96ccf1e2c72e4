"""``SimulationBoard``: one widget for many simulations, a row each, fed by batched polling."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Generator, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import ipywidgets as W

from .. import _render as R
from .. import _terminal as terminal
from .._connect import resolve_client
from .._frames import final_values
from .._ipython import in_kernel
from ..client import SimulationRef, TwynClient
from ..models import SimulationResult
from ..polling import Schedule, Watch, WatchSnapshot, WatchState
from ..polling._watch import interrupted, real_timeout, still_watched, wait_all
from .live import LiveBox
from .watcher import SimulationWatcher

__all__ = ["SimulationBoard"]


class SimulationBoard(LiveBox):
    """A table of many simulations: title, phase, progress, elapsed and outcome per row.

    The whole table is one HTML widget, so the board sends at most two widget messages a
    second however many rows it has; the engine refreshes the rows through batched list calls.

    Parameters
    ----------
    simulations
        Ids, :class:`~twyn_widgets.Simulation` objects, the API's dicts,
        :class:`SimulationWatcher` widgets or :class:`~twyn_widgets.Watch` handles (their
        watches are reused).
    client
        The client for bare ids; a :class:`~twyn_widgets.Simulation` is watched with the
        client that returned it. Defaults as for :class:`SimulationWatcher`.
    schedule, timeout
        As for :class:`SimulationWatcher`.

    Examples
    --------
    >>> board = SimulationBoard([client.create_simulation(p) for p in prompts])  # doctest: +SKIP
    >>> results = board.wait()                      # or: await board             # doctest: +SKIP
    >>> for result in board.as_completed(): ...     # as they finish              # doctest: +SKIP
    """

    def __init__(
        self,
        simulations: Iterable[SimulationRef | SimulationWatcher | Watch] = (),
        *,
        client: TwynClient | None = None,
        schedule: Schedule | None = None,
        timeout: float | timedelta | None = None,
    ) -> None:
        self._client = client
        self._schedule = schedule
        self._timeout = timeout
        self._lock = threading.Lock()
        self._watches: list[Watch] = [self._watch_for(s) for s in simulations]
        self._shown: dict[int, float] = {}
        self._dirty = True
        self._finished = False
        # Why build every part with its first value: a trait set after a comm opened is one
        # more message; a board shows its rows from the first frame without any.
        self._table = W.HTML(value=self._html())
        self._stop_button = W.Button(
            description="Stop all",
            icon="stop",
            tooltip="Stop watching every simulation (they keep running on the server)",
            layout=W.Layout(width="auto"),
        )
        self._stop_button.on_click(lambda _button: self.stop())
        super().__init__(
            children=(self._table, self._stop_button),
            layout=W.Layout(width="100%"),
            _dom_classes=("twyn-board",),
        )
        self._last_refresh = time.monotonic()
        for watch in self._watches:
            # Why subscribe without rendering: callbacks run on polling threads; the ticker
            # renders.
            watch.subscribe(self._on_snapshot, now=False)
        if self._watches:
            self._start_ticking()

    @classmethod
    def running(
        cls,
        client: TwynClient | None = None,
        *,
        schedule: Schedule | None = None,
        timeout: float | timedelta | None = None,
    ) -> SimulationBoard:
        """A board of every simulation of the key that is still running (after a restart).

        ``client`` defaults as for :class:`SimulationWatcher` (the default client, else the
        only one in the notebook). See :meth:`TwynClient.list_running`.
        """
        client = resolve_client(None, client)
        return cls(client.list_running(), client=client, schedule=schedule, timeout=timeout)

    # -- rows -------------------------------------------------------------------------------------

    def _watch_for(self, simulation: SimulationRef | SimulationWatcher | Watch) -> Watch:
        if isinstance(simulation, Watch):
            return simulation
        if isinstance(simulation, SimulationWatcher):
            if simulation.watch is None:
                simulation.start()
            watch = simulation.watch
            assert watch is not None
            return watch
        client = resolve_client(simulation, self._client)
        return client.watch(simulation, schedule=self._schedule, timeout=self._timeout)

    def add(self, simulation: SimulationRef | SimulationWatcher | Watch) -> Watch:
        """Add a row and start watching it (works while the board runs)."""
        watch = self._watch_for(simulation)
        with self._lock:
            self._watches.append(watch)
            self._dirty = True
            restart = self._finished
            self._finished = False
            self._shown_end.clear()
        watch.subscribe(self._on_snapshot, now=False)
        if restart:
            self.children = (self._table, self._stop_button)
        self._start_ticking()
        return watch

    def _on_snapshot(self, _snapshot: WatchSnapshot) -> None:
        with self._lock:
            self._dirty = True

    @property
    def watches(self) -> list[Watch]:
        """The rows' watches (futures), in order."""
        with self._lock:
            return list(self._watches)

    def stop(self) -> None:
        """Stop watching every row; the simulations keep running on the server."""
        for watch in self.watches:
            watch.stop()

    def close(self) -> None:
        """Stop watching and close the widget."""
        self.stop()
        self._stop_ticking()
        self._table.close()
        self._stop_button.close()
        super().close()

    # -- results ----------------------------------------------------------------------------------

    def wait(
        self, timeout: float | timedelta | None = None, *, return_exceptions: bool = False
    ) -> list[SimulationResult | BaseException]:
        """The results in row order, once every row has ended.

        Raises the first row's exception unless ``return_exceptions`` (then it stands in its
        row's place, as with ``asyncio.gather``). ``timeout`` is in API seconds, like the
        board's own ``timeout`` (a second on the API's clock: a real second against the real
        API; against an emulator running N times faster, 1/N of a real second). An interrupt
        (Ctrl-C) stops every row and raises :class:`~twyn_widgets.WatchInterrupted`.
        """
        __tracebackhide__ = True
        watches = self.watches
        limit = timeout
        if not in_kernel():
            # Why text: no widget can show outside a kernel; the terminal face draws instead.
            try:
                terminal.wait(watches, real_timeout(watches, timeout), board=True)
            except KeyboardInterrupt:
                raise interrupted(watches) from None
            limit = 0  # the face has waited already
        pending = wait_all(watches, limit)
        if pending:
            raise still_watched([w for w in watches if w in pending], timeout)
        self._settle()
        return [_outcome(w, return_exceptions) for w in watches]

    def as_completed(
        self, timeout: float | timedelta | None = None, *, return_exceptions: bool = False
    ) -> Iterator[SimulationResult | BaseException]:
        """Yield each row's result as it finishes (failures raise unless ``return_exceptions``).

        ``timeout`` (API seconds, as for :meth:`wait`) bounds the whole iteration. Before the
        last one is yielded, the board shows the end (as :meth:`wait` does).
        """
        __tracebackhide__ = True
        watches = self.watches
        finished = concurrent.futures.as_completed(watches, real_timeout(watches, timeout))
        for count in range(1, len(watches) + 1):
            try:
                watch = next(finished)
            except KeyboardInterrupt:
                raise interrupted(watches) from None
            except concurrent.futures.TimeoutError:
                raise still_watched([w for w in watches if not w.done()], timeout) from None
            if count == len(watches):
                self._settle()
            yield _outcome(watch, return_exceptions)  # type: ignore[arg-type]

    def __await__(self) -> Generator[Any, None, list[SimulationResult]]:
        async def gather() -> list[SimulationResult]:
            try:
                if not in_kernel():
                    await terminal.wait_async(self.watches, board=True)
                return list(await asyncio.gather(*self.watches))
            finally:
                if all(w.done() for w in self.watches):
                    await self._settle_async()

        return gather().__await__()

    # -- rendering --------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """How many rows are running, done (succeeded), failed, or ended otherwise."""
        out = {"running": 0, "done": 0, "failed": 0, "other": 0}
        for watch in self.watches:
            state = watch.snapshot.state
            if not state.is_final:
                out["running"] += 1
            elif state is WatchState.SUCCEEDED:
                out["done"] += 1
            elif state in (WatchState.FAILED, WatchState.ERROR):
                out["failed"] += 1
            else:
                out["other"] += 1
        return out

    def _render(self) -> None:
        self._table.value = self._html()

    def _rows(self) -> list[R.BoardRow]:
        now = datetime.now(timezone.utc)
        rows = []
        for watch in self.watches:
            snap = watch.snapshot
            est = snap.estimate(now)
            progress = 1.0 if snap.state is WatchState.SUCCEEDED else est.progress
            # Never step back (a FAILED estimate is taken at the failure time).
            progress = self._shown[id(watch)] = max(progress, self._shown.get(id(watch), 0.0))
            rows.append(R.BoardRow(snap, progress, est.elapsed))
        return rows

    def _html(self) -> str:
        """The counts and the table; once every row has ended, the final values under it."""
        return R.board_html(self._rows()) + self._finals()

    def _finals(self) -> str:
        watches = self.watches
        if not watches or not all(w.done() for w in watches):
            return ""
        results = [
            r for r in (_outcome(w, True) for w in watches) if isinstance(r, SimulationResult)
        ]
        titles = {r.id: r.title or r.id for r in results}
        return R.finals_html(titles, final_values(results))

    def _refresh(self, now: float) -> bool:
        with self._lock:
            dirty, self._dirty = self._dirty, False
            finished = self._finished
        self._last_refresh = now
        if finished:
            # The step after the last render: hide Stop all, publish the summary, stop ticking.
            self.children = (self._table,)
            self._publish_static()
            return False
        self._render()  # elapsed times tick, so render every second while running
        all_done = bool(self.watches) and all(w.done() for w in self.watches)
        if all_done and not dirty:
            with self._lock:
                self._finished = True
            self._shown_end.set()
        return True

    def _ended(self) -> bool:
        watches = self.watches
        return bool(watches) and all(w.done() for w in watches)

    def _static_html(self) -> str:
        return R.board_static_html(self._rows(), self._finals())

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"SimulationBoard({len(self.watches)} simulations: {c['running']} running, "
            f"{c['done']} done, {c['failed']} failed)"
        )


def _outcome(watch: Watch, return_exceptions: bool) -> SimulationResult | BaseException:
    __tracebackhide__ = True
    try:
        return watch.result(0)
    except BaseException as exc:
        if return_exceptions and not isinstance(exc, (KeyboardInterrupt, SystemExit)):
            return exc
        raise
