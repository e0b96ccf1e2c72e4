"""``SimulationBoard``: one widget for many simulations, a row each, fed by batched polling."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Generator, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import _render as R
from .. import _terminal as terminal
from .._connect import resolve_client
from .._frames import final_values
from .._ipython import in_kernel
from ..client import SimulationRef, TwynClient
from ..models import SimulationResult
from ..polling import Schedule, Watch, WatchSnapshot, WatchState
from ..polling._watch import interrupted, real_timeout, still_watched, wait_all
from ._views import BoardView
from ._viewstate import ModelTracker
from .live import LiveBox, notify_choice
from .watcher import SimulationWatcher

__all__ = ["SimulationBoard"]


class SimulationBoard(LiveBox):
    """A table of many simulations: title, phase, progress, elapsed and outcome per row.

    The browser draws the table and ticks every row's elapsed time and bar each second; the
    kernel sends only the rows that changed (a status, a notice, the end), so a board of 200
    running simulations costs a few KB a second, and the engine refreshes the rows through
    batched list calls. Once every row has ended, every display becomes the static outcome
    with each run's final values.

    Parameters
    ----------
    simulations
        Ids, :class:`~twyn_widgets.Simulation` objects, the API's dicts,
        :class:`SimulationWatcher` widgets or :class:`~twyn_widgets.Watch` handles (their
        watches are reused).
    client
        The client for bare ids; a :class:`~twyn_widgets.Simulation` is watched with the
        client that returned it. Defaults as for :class:`SimulationWatcher`.
    schedule, timeout, notify
        As for :class:`SimulationWatcher` (the notification comes once per simulation).

    Examples
    --------
    ``board = SimulationBoard([client.create_simulation(p) for p in prompts])`` shows the
    rows; ``results = board.wait()`` (or ``await board``) waits for all;
    ``for result in board.as_completed(): ...`` takes them as they finish.
    """

    def __init__(
        self,
        simulations: Iterable[SimulationRef | SimulationWatcher | Watch] = (),
        *,
        client: TwynClient | None = None,
        schedule: Schedule | None = None,
        timeout: float | timedelta | None = None,
        notify: bool | None = None,
    ) -> None:
        super().__init__()
        self._client = client
        self._schedule = schedule
        self._timeout = timeout
        self._lock = threading.Lock()
        self._watches: list[Watch] = [self._watch_for(s) for s in simulations]
        self._trackers: list[ModelTracker] = [ModelTracker(time.time()) for _ in self._watches]
        self._seen: list[WatchSnapshot | None] = [None] * len(self._watches)
        wall = datetime.now(timezone.utc)
        pairs = zip(self._trackers, self._watches, strict=True)
        rows = [tracker.update(watch.snapshot, wall) or {} for tracker, watch in pairs]
        # Why every row in the first state: the view opens with the whole table, no message.
        self._view = BoardView(self.stop, rows, notify_choice(notify))
        for watch in self._watches:
            # Why subscribe without sending: callbacks run on polling threads; the ticker
            # sends the rows that changed, at most once a second.
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
            self._trackers.append(ModelTracker(time.time()))
            self._seen.append(None)
            self._shown_end.clear()
        watch.subscribe(self._on_snapshot, now=False)
        self._revive()
        self._start_ticking()
        return watch

    def _on_snapshot(self, _snapshot: WatchSnapshot) -> None:
        """Polling threads call this; the ticker reads the watches' snapshots itself."""

    @property
    def watches(self) -> list[Watch]:
        """The rows' watches (futures), in order."""
        with self._lock:
            return list(self._watches)

    @property
    def view_state(self) -> list[dict[str, Any]]:
        """What the browser was last sent: one compact model per row (plain JSON)."""
        return [dict(row) for row in self._view.current_rows]

    def stop(self) -> None:
        """Stop watching every row; the simulations keep running on the server."""
        for watch in self.watches:
            watch.stop()

    def close(self) -> None:
        """Stop watching and close the browser view."""
        self.stop()
        self._close_view()

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

    def _rows(self) -> list[R.BoardRow]:
        now = datetime.now(timezone.utc)
        rows = []
        with self._lock:
            pairs = list(zip(self._watches, self._trackers, strict=True))
        for watch, tracker in pairs:
            snap = watch.snapshot
            rows.append(R.BoardRow(snap, tracker.progress(snap, now), snap.estimate(now).elapsed))
        return rows

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
        wall = datetime.now(timezone.utc)
        changed: list[tuple[int, dict[str, Any]]] = []
        with self._lock:
            rows = list(enumerate(zip(self._watches, self._trackers, strict=True)))
        for index, (watch, tracker) in rows:
            snap = watch.snapshot
            tracker.progress(snap, wall)  # the floor follows what the browser shows
            if snap is self._seen[index]:
                continue  # no new snapshot since the last look: nothing to send
            self._seen[index] = snap
            model = tracker.update(snap, wall)
            if model is not None:
                changed.append((index, model))
        # One message for every row that changed this second, none when nothing did.
        self._view.update_rows(changed)
        if self._ended():
            self._shown_end.set()
            self._publish_static()
            return False
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
