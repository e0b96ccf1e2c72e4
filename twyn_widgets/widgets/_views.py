"""The browser's side of the live widgets: anywidget models drawn by ``static/twyn.js``.

These are the widget models a notebook page renders; the public classes
(:class:`~twyn_widgets.SimulationWatcher`, :class:`~twyn_widgets.SimulationBoard`) hold one each
and decide what to send. A watcher's model is one small dict (``sim``) set only when it changes;
a board's rows go out as messages carrying only the rows that changed, while its ``rows`` trait
gives the whole table to a page that opens (or reloads) the view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets

__all__ = ["BoardView", "WatcherView"]

ESM = Path(__file__).with_name("static") / "twyn.js"
"""The one ES module that draws both views."""


class _View(anywidget.AnyWidget):
    """What both views share: the module, the bell's state and the Stop button's message."""

    _esm = ESM
    kind = traitlets.Unicode("").tag(sync=True)
    notify = traitlets.Bool(False).tag(sync=True)

    def __init__(self, on_stop: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_stop = on_stop
        self.on_msg(self._handle)

    def _handle(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "stop":
            self._on_stop()


class WatcherView(_View):
    """One simulation: the browser draws ``sim`` and ticks it."""

    sim = traitlets.Dict().tag(sync=True)

    def __init__(self, on_stop: Callable[[], None], sim: dict[str, Any], notify: bool) -> None:
        super().__init__(on_stop, kind="watcher", sim=sim, notify=notify)


def _rows_json(_value: Any, view: BoardView) -> list[dict[str, Any]]:
    # Why a serializer that reads the view: the trait itself never changes (a change would send
    # the whole table); the rows a page asks for when it opens or reloads are the latest ones.
    return list(view.current_rows)


class BoardView(_View):
    """Many simulations: the table's rows, sent one changed row at a time."""

    rows: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True, to_json=_rows_json)

    def __init__(
        self, on_stop: Callable[[], None], rows: Sequence[dict[str, Any]], notify: bool
    ) -> None:
        self.current_rows: list[dict[str, Any]] = list(rows)
        super().__init__(on_stop, kind="board", notify=notify)

    def update_rows(self, changed: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Record ``changed`` rows (index, model) and send just those to every open view."""
        for index, row in changed:
            if index < len(self.current_rows):
                self.current_rows[index] = row
            else:
                self.current_rows.append(row)
        if changed and self.comm is not None:
            self.send({"rows": [[index, row] for index, row in changed]})
