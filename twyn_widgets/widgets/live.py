"""``LiveBox``: what live widgets share: the browser view, display ids, the text face, the end.

A live widget is a plain Python object that owns one browser view (an anywidget model from
:mod:`._views`). Why not the view itself: its public surface stays small (``help()`` shows our
methods, not ipywidgets' hundreds), and the view is one part among others (watches, traits,
the terminal face). ``widget.widget`` gives the view to put inside an ipywidgets layout.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import uuid
from typing import Any

from .._ipython import display_bundle, in_kernel, update_bundle
from ._views import _View
from .ticker import get_ticker

__all__ = ["REFRESH", "LiveBox", "set_notify_default"]

REFRESH = 1.0
"""Seconds between two refreshes of one widget (the kernel sends only what changed)."""

SETTLE = 2.0
"""Seconds a waiting call waits at most for the widget to show the end before it returns."""

_NOTIFY = {"default": False}


def set_notify_default(on: bool = True) -> None:
    """Turn completion notifications on (or off) for every widget made from now on.

    The package-wide switch behind ``notify=None`` on :class:`~twyn_widgets.SimulationWatcher`,
    :class:`~twyn_widgets.SimulationBoard` and :class:`~twyn_widgets.SimulationLauncher` and
    behind ``%twyn_wait`` without ``--notify``. The browser still asks for permission from a
    click on the widget's bell; without it, the tab's title tells.
    """
    _NOTIFY["default"] = bool(on)


def notify_choice(notify: bool | None) -> bool:
    """``notify`` as given, else the package-wide default."""
    return _NOTIFY["default"] if notify is None else bool(notify)


class LiveBox:
    """A live widget refreshed by the shared ticker about once a second.

    Subclasses set ``self._view`` (the browser view) and implement ``_refresh(now) -> bool``
    (``False`` when no more ticks are needed), ``__repr__`` (the text face), ``_ended()``
    (whether the outcome is final) and ``_static_html()`` (the outcome as static HTML).

    Once ended, every place the widget is displayed shows a static bundle (``text/html`` and
    ``text/plain``) in place of the live view: see :meth:`_publish_static`.
    """

    _view: _View

    def __init__(self) -> None:
        self._last_refresh = -math.inf
        self._display_id: str | None = None
        self._shown_end = threading.Event()  # set once the widget shows how it ended

    # -- the public readouts ----------------------------------------------------------------------

    @property
    def widget(self) -> Any:
        """The browser view, to place inside an ipywidgets layout (``VBox([w.widget])``)."""
        return self._view

    @property
    def notify(self) -> bool:
        """Whether the browser tells you (desktop notification, tab title) when a run ends."""
        return bool(self._view.notify)

    @notify.setter
    def notify(self, on: bool) -> None:
        self._view.notify = bool(on)

    # -- ticking ----------------------------------------------------------------------------------

    def _start_ticking(self) -> None:
        get_ticker().add(self)

    def _stop_ticking(self) -> None:
        get_ticker().discard(self)

    def _tick(self) -> bool:
        """Called by the ticker about four times a second; refreshes at most once a second."""
        now = time.monotonic()
        if now - self._last_refresh < REFRESH:
            return True
        self._last_refresh = now
        return self._refresh(now)

    def _refresh(self, now: float) -> bool:
        raise NotImplementedError

    def _ended(self) -> bool:
        raise NotImplementedError

    def _static_html(self) -> str:
        raise NotImplementedError

    def _sync_final(self) -> None:
        """Take the watches' final snapshots now (a waiting call may run ahead of callbacks)."""

    def _settle(self, timeout: float = SETTLE) -> None:
        """For a waiting call, in its own thread, once every watch has ended.

        Waits (at most ``timeout`` seconds) until the live view has shown the end, then
        replaces every display of the widget with its static outcome, so the waiting call
        returns only once the notebook shows, and will save, how it ended.
        """
        self._sync_final()
        if not in_kernel():
            return  # no display to settle: the terminal face has already drawn the end
        self._shown_end.wait(timeout)
        self._publish_static()
        self._retire()

    async def _settle_async(self, timeout: float = SETTLE) -> None:
        """:meth:`_settle` for ``await``: the same, without blocking the event loop."""
        self._sync_final()
        if not in_kernel():
            return  # as in _settle: outside a kernel there is no display to settle
        deadline = time.monotonic() + timeout
        while not self._shown_end.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self._publish_static()
        self._retire()

    def _retire(self) -> None:
        """Empty the ended view's module once every display shows the static outcome.

        Why: no output uses the view any more, yet a notebook run headless keeps the state of
        every widget model it saw (nbclient: ``jupyter nbconvert --execute``, papermill), and
        a view's state holds the whole ES module. This runs in the waiting call's cell, whose
        messages are the ones nbclient records, so the saved state shrinks to a few hundred
        bytes. Only a displayed widget is retired: one never shown keeps its view for a
        later display.
        """
        if self._display_id is None or not self._ended() or self._view.comm is None:
            return
        self._view.set_trait("_esm", "")

    def _revive(self) -> None:
        """Give a retired view its module back (a watch started again after it ended)."""
        from ._views import ESM

        if self._view.comm is not None and not self._view._esm:
            self._view.set_trait("_esm", ESM.read_text(encoding="utf-8"))

    # -- display ----------------------------------------------------------------------------------

    def _mimebundle(self) -> dict[str, Any]:
        if self._ended():
            # Why no widget view once ended: the view needs the kernel's widget state, which a
            # saved notebook lacks ("Error displaying widget: model not found" on reopening),
            # and the frontends rank the widget view above text/html. The outcome is final,
            # so static HTML shows everything the live view would.
            return {"text/plain": repr(self), "text/html": self._static_html()}
        data: dict[str, Any] = {"text/plain": repr(self)}
        if self._view.comm is not None:  # a closed widget has no view, only its text
            data["application/vnd.jupyter.widget-view+json"] = {
                "version_major": 2,
                "version_minor": 0,
                "model_id": self._view.model_id,
            }
        return data

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return self._mimebundle()

    def _ipython_display_(self, **kwargs: Any) -> None:
        if self._display_id is None:
            self._display_id = uuid.uuid4().hex
        display_bundle(self._mimebundle(), self._display_id)

    def _publish_static(self) -> None:
        """Replace every display of this widget (one display id) with its static outcome.

        Called from the ticker thread once the end is shown, and again by every waiting call
        in the caller's thread. Why both: JupyterLab and Notebook 7 apply an
        ``update_display_data`` to the output with that display id in whatever cell it is,
        even after the cell finished, so the ticker's update is enough for a notebook run by
        hand; but nbclient (``jupyter nbconvert --execute``, nbval, papermill) records only
        messages whose parent is the cell it is running, and a thread's messages carry the
        parent of the cell that started the thread (ipykernel#1450, #1451). The waiting call
        runs in the executing cell, so its update is the one a headless run saves.
        """
        if self._display_id is None or not self._ended() or not in_kernel():
            # Why not outside a kernel: there IPython's display and update_display print the
            # text/plain repr, and the ticker thread calls this seconds after the cell
            # returned, so the repr would land at the prompt, in whatever the user types.
            return
        update_bundle(self._mimebundle(), self._display_id)

    def _close_view(self) -> None:
        self._stop_ticking()
        view = getattr(self, "_view", None)
        if view is not None:
            view.close()
