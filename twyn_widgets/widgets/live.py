"""``LiveBox``: what live widgets share: the ticker cadence, display ids, text and HTML faces."""

from __future__ import annotations

import math
import threading
import time
import uuid
from typing import Any

import ipywidgets as W

from .._ipython import display_bundle, update_bundle
from .ticker import get_ticker

__all__ = ["REFRESH", "LiveBox"]

REFRESH = 1.0
"""Seconds between two refreshes of one widget: each refresh sends at most two messages."""


class LiveBox(W.VBox):  # type: ignore[misc]
    """A box refreshed by the shared ticker at most once a second.

    Subclasses implement ``_refresh(now) -> bool`` (``False`` when no more ticks are needed),
    ``__repr__`` (the text face) and ``_summary_html()`` (the static HTML of a finished widget,
    or ``None`` while it runs).
    """

    children: Any  # the Box trait; annotated because ipywidgets ships no types

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._last_refresh = -math.inf
        self._display_id: str | None = None
        self._shown_end = threading.Event()  # set once the widget shows how it ended

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
        return self._refresh(now)

    def _refresh(self, now: float) -> bool:
        raise NotImplementedError

    def _wait_shown(self, timeout: float) -> bool:
        """Wait until the widget shows how its watches ended (at most ``timeout`` seconds)."""
        return self._shown_end.wait(timeout)

    def _summary_html(self) -> str | None:
        raise NotImplementedError

    # -- display ----------------------------------------------------------------------------------

    def _mimebundle(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text/plain": repr(self)}
        if self.comm is not None:  # a closed widget has no view, only its text and HTML
            data["application/vnd.jupyter.widget-view+json"] = {
                "version_major": 2,
                "version_minor": 0,
                "model_id": self.model_id,
            }
        summary = self._summary_html()
        if summary is not None:
            data["text/html"] = summary
        return data

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return self._mimebundle()

    def _ipython_display_(self, **kwargs: Any) -> None:
        if self._display_id is None:
            self._display_id = uuid.uuid4().hex
        display_bundle(self._mimebundle(), self._display_id)

    def _publish_summary(self) -> None:
        """Give every place this widget is displayed the static summary too."""
        if self._display_id is None:
            return
        # Why from the ticker thread: update_display_data is matched by display_id in the
        # frontend, not by the parent cell, so ipykernel's per-thread output routing
        # (ipykernel#1450, #1451) cannot misplace it; saved notebooks then show the outcome
        # as HTML instead of "Error displaying widget".
        update_bundle(self._mimebundle(), self._display_id)
