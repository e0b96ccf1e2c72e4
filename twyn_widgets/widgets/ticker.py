"""One shared thread that refreshes every live widget about once a second."""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Protocol

__all__ = ["Refreshable", "Ticker", "get_ticker"]

log = logging.getLogger("twyn_widgets")

TICK = 0.25
"""How often the thread wakes; each widget decides whether it is due (about once a second)."""


class Refreshable(Protocol):
    """A widget the ticker drives."""

    def _tick(self) -> bool:
        """Refresh if due; return ``False`` once the widget needs no more ticks."""
        ...


class Ticker:
    """A named daemon thread that calls ``_tick()`` on each registered widget.

    Why one thread: a widget per thread would grow threads with the number of watchers. It waits
    on an ``Event``, so ``stop()`` ends it at once, and holds the widgets weakly, so a widget
    nobody references any more is not kept alive by the ticker.
    """

    def __init__(self) -> None:
        self._widgets: weakref.WeakSet[Refreshable] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, widget: Refreshable) -> None:
        """Start ticking ``widget`` (and the thread, if it is not running)."""
        with self._lock:
            self._widgets.add(widget)
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="twyn-ticker", daemon=True)
                self._thread.start()

    def discard(self, widget: Refreshable) -> None:
        """Stop ticking ``widget``."""
        with self._lock:
            self._widgets.discard(widget)

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                widgets = list(self._widgets)
                if not widgets:
                    # Why end the thread: nothing to refresh; add() starts a new one.
                    self._thread = None
                    return
            for widget in widgets:
                try:
                    keep = widget._tick()
                except Exception:  # a widget's bug must not stop the others
                    log.exception("twyn-widgets: refreshing a widget failed")
                    keep = False
                if not keep:
                    self.discard(widget)

    def stop(self) -> None:
        """End the thread."""
        self._stop.set()


_ticker = Ticker()


def get_ticker() -> Ticker:
    """The process's ticker."""
    return _ticker
