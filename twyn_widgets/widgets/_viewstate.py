"""The compact model the browser draws: one small JSON object per simulation.

The kernel sends it only when something a person would see changes (a status, a phase, a
notice, a revised estimate, the end); between two sends the browser ticks the elapsed time,
the ETA and the bar by itself. The estimate stays here, in Python: the model carries *anchors*,
points ``[epoch seconds, progress, eta]`` sampled from :func:`~twyn_widgets._estimate.estimate`,
and the browser only interpolates between them. The anchors are pinned to the server's
timestamps (the current phase's start), never to the moment of sending, so two polls that see
the same status give the same model, and nothing is sent.

Every value is plain JSON; server strings go in as they are, and the browser sets them as
text only. The API key is never part of a snapshot, so it cannot reach this model.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

from .._render import phase_text, state_style, title_of
from ..polling import WatchSnapshot, WatchState

__all__ = ["LOG_LIMIT", "ModelTracker", "shown_at", "sim_state"]

LOG_LIMIT = 4000
"""Characters of an ``error_log`` the live view keeps (the static outcome holds it all)."""

_AFTER_END = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
"""Anchor offsets after the phase's expected end, in units of its expected duration: the
estimate creeps on past the expected end, and a few points draw that curve closely enough."""


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _anchors(snapshot: WatchSnapshot, now: datetime, floor: float) -> list[list[float | None]]:
    """Points of the estimate for the browser to interpolate between (progress never below
    ``floor``, the most a display has shown of this watch)."""
    sim = snapshot.simulation
    phase = snapshot.phase

    def point(moment: datetime) -> list[float | None]:
        est = snapshot.estimate(moment)
        progress = 1.0 if snapshot.state is WatchState.SUCCEEDED else est.progress
        return [round(moment.timestamp(), 3), round(max(progress, floor), 4), est.eta]

    started = None if sim is None or phase is None else sim.entered(phase.processing_status)
    running = sim is not None and phase is not None and sim.status == phase.processing_status
    if snapshot.done or not running or started is None or phase is None:
        # Nothing moves until the next status: one point holds. Pinned to when the status
        # began where the server says, so a poll that sees the same status changes nothing.
        # A watch stopped or timed out mid-phase holds where it stood when it ended.
        entered = None if sim is None else (sim.finished_at or sim.entered(sim.status))
        stopped_early = snapshot.done and (sim is None or sim.finished_at is None)
        return [point(now if entered is None or stopped_early else entered)]
    expected = phase.expected_seconds * snapshot.time_scale
    moments = [started.timestamp()] + [
        started.timestamp() + expected * (1.0 + k) for k in _AFTER_END
    ]
    return [point(datetime.fromtimestamp(t, timezone.utc)) for t in moments]


def shown_at(anchors: list[list[float | None]], t: float) -> float:
    """The progress a browser shows at epoch second ``t`` for ``anchors``: linear between
    two points, held before the first and after the last (as the ES module draws it)."""
    first = anchors[0]
    if len(anchors) == 1 or t <= float(first[0] or 0.0):
        return float(first[1] or 0.0)
    for (t0, p0, _), (t1, p1, _) in itertools.pairwise(anchors):
        if t <= float(t1 or 0.0):
            start, end = float(t0 or 0.0), float(t1 or 0.0)
            f = (t - start) / (end - start) if end > start else 1.0
            return float(p0 or 0.0) + (float(p1 or 0.0) - float(p0 or 0.0)) * f
    return float(anchors[-1][1] or 0.0)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _detail(snapshot: WatchSnapshot) -> str:
    """Why a watch ended other than in success: the error_log's first line, or the error."""
    if not snapshot.done or snapshot.state is WatchState.SUCCEEDED:
        return ""
    sim = snapshot.simulation
    if snapshot.state is WatchState.FAILED and sim is not None:
        return _first_line(sim.error_log or "") or "the server gave no error_log"
    return _first_line(str(snapshot.error)) if snapshot.error is not None else ""


def sim_state(
    snapshot: WatchSnapshot,
    now: datetime,
    *,
    floor: float = 0.0,
    started: float | None = None,
) -> dict[str, Any]:
    """The compact model of one watch, as the browser draws it.

    Parameters
    ----------
    snapshot
        The watch's latest snapshot.
    now
        The current wall-clock time (aware UTC): the end's elapsed time, and the single anchor
        of a watch that is not inside a phase.
    floor
        The most progress already shown for this watch: the bar never steps back.
    started
        Epoch seconds to count elapsed time from when the server gave no timestamps (the
        widget's creation).

    Returns
    -------
    dict
        ``id``, ``title``, ``state`` (the watch state), ``word`` (how it stands, in words),
        ``status``, ``phase`` (``"Simulator, 2 of 3"``), ``notice``, ``ended``, ``detail``
        (first line of why it failed or stopped), ``log`` (the error_log, cut to
        :data:`LOG_LIMIT`), ``started`` and ``finished`` (epoch seconds, for the elapsed
        time), ``anchors`` (``[epoch seconds, progress, eta seconds or null]``).
    """
    sim = snapshot.simulation
    server_start = _epoch(sim.started_at) if sim is not None else None
    finished = _epoch(sim.finished_at) if sim is not None else None
    if snapshot.done and finished is None:  # stopped or timed out: the clock stops now
        finished = now.timestamp()
    log = (sim.error_log or "") if sim is not None and snapshot.state is WatchState.FAILED else ""
    return {
        "id": snapshot.simulation_id,
        "title": title_of(snapshot),
        "state": str(snapshot.state),
        "word": state_style(snapshot.state).word,
        "accent": state_style(snapshot.state).accent,
        "status": str(snapshot.status) if snapshot.status is not None else "",
        "phase": phase_text(snapshot.phase),
        "notice": snapshot.notice or "",
        "ended": snapshot.done,
        "detail": _detail(snapshot),
        "log": log[:LOG_LIMIT],
        "started": server_start if server_start is not None else started,
        "finished": finished,
        "anchors": _anchors(snapshot, now, floor),
    }


class ModelTracker:
    """One watch's side of the live view: the bar's floor, and the model last sent.

    Why a floor fixed per status: the bar must not step back when a new status comes (a FAILED
    estimate is taken at the failure time), yet two polls of one status must give the same
    model, so the floor moves only when the status or the watch state does.

    Parameters
    ----------
    started
        Epoch seconds to count elapsed time from when the server gives no timestamps.
    """

    def __init__(self, started: float) -> None:
        self.started = started
        self.shown = 0.0
        self.sent: dict[str, Any] | None = None
        self._key: tuple[str, str] | None = None
        self._floor = 0.0

    def progress(self, snapshot: WatchSnapshot, now: datetime) -> float:
        """The progress to show now: the estimate, never below what was shown."""
        est = 1.0 if snapshot.state is WatchState.SUCCEEDED else snapshot.estimate(now).progress
        self.shown = max(self.shown, est)
        return self.shown

    def model(self, snapshot: WatchSnapshot, now: datetime) -> dict[str, Any]:
        """The model of ``snapshot`` (see :func:`sim_state`)."""
        key = (str(snapshot.state), str(snapshot.status))
        if key != self._key:
            if self.sent is not None and self.sent.get("anchors"):
                # Why the browser's reading: between two refreshes it went on along the last
                # anchors it got, past the kernel's last estimate (a failure seen a poll
                # late). The new status starts from what it shows now, so its bar and the
                # static outcome never step back below it.
                self.shown = max(self.shown, shown_at(self.sent["anchors"], now.timestamp()))
            self._key, self._floor = key, self.shown
        return sim_state(snapshot, now, floor=self._floor, started=self.started)

    def update(self, snapshot: WatchSnapshot, now: datetime) -> dict[str, Any] | None:
        """The model to send for ``snapshot``, or ``None`` when the browser has it already."""
        self.progress(snapshot, now)
        model = self.model(snapshot, now)
        if model == self.sent:
            return None
        self.sent = model
        return model
