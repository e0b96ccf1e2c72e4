"""HTML for the widgets. Every string from the server is escaped here, and only here."""

from __future__ import annotations

import html
from collections.abc import Iterable

from .._estimate import Estimate
from ..models import Phase, Simulation, SimulationResult
from ..polling import WatchSnapshot, WatchState
from ._format import clock, phase_text
from .chart import metrics_svg

__all__ = ["ended_html", "result_html", "status_html", "summary_html"]

e = html.escape

_STATE_COLORS = {
    WatchState.SUCCEEDED: "#2e7d32",
    WatchState.FAILED: "#c62828",
    WatchState.ERROR: "#c62828",
    WatchState.TIMED_OUT: "#ef6c00",
    WatchState.STOPPED: "#ef6c00",
    WatchState.RETRYING: "#ef6c00",
    WatchState.RATE_LIMITED: "#ef6c00",
}


def title_of(snapshot: WatchSnapshot) -> str:
    """The simulation's title, else its id (unescaped: callers escape)."""
    sim = snapshot.simulation
    return (sim.title if sim is not None and sim.title else "") or snapshot.simulation_id


def outcome_text(snapshot: WatchSnapshot) -> str:
    """A few words on how the watch stands: ``running``, ``done``, ``failed``..."""
    return {
        WatchState.SUCCEEDED: "done",
        WatchState.FAILED: "failed",
        WatchState.ERROR: "error",
        WatchState.TIMED_OUT: "timed out",
        WatchState.STOPPED: "stopped watching",
        WatchState.RETRYING: "retrying",
        WatchState.RATE_LIMITED: "rate limited",
    }.get(snapshot.state, "running")


def status_html(snapshot: WatchSnapshot, est: Estimate, elapsed: float | None) -> str:
    """The live line: title, phase, status, elapsed, ETA and any notice, in one HTML value."""
    status = str(snapshot.status) if snapshot.status is not None else "waiting for first answer"
    color = _STATE_COLORS.get(snapshot.state, "inherit")
    eta = ""
    if est.eta is not None and not snapshot.done:
        eta = f' · <span class="twyn-eta">about {clock(est.eta)} left</span>'
    notice = ""
    if snapshot.notice:
        notice = f'<div class="twyn-notice" style="color:{color}">{e(snapshot.notice)}</div>'
    return (
        f'<div class="twyn-title" style="font-weight:600">{e(title_of(snapshot))}</div>'
        f'<div class="twyn-line">'
        f'<span class="twyn-phase">{e(phase_text(snapshot.phase)) or "&ndash;"}</span> · '
        f'<span class="twyn-status"><code>{e(status)}</code></span> · '
        f'<span class="twyn-elapsed">elapsed {clock(elapsed)}</span>{eta} · '
        f'<span class="twyn-outcome" style="color:{color}">{outcome_text(snapshot)}</span>'
        f"</div>{notice}"
    )


def _items(title: str, values: Iterable[str]) -> str:
    rows = "".join(f"<li>{e(v)}</li>" for v in values)
    return f"<div><b>{title}</b><ul style='margin:2px 0 6px 0'>{rows}</ul></div>" if rows else ""


def _durations(sim: Simulation | None) -> str:
    if sim is None:
        return ""
    spans = sim.phase_durations()
    parts = [f"{p.label} {clock(spans[p].total_seconds())}" for p in Phase if p in spans]
    total = sim.total_duration
    if total is not None:
        parts.insert(0, f"total {clock(total.total_seconds())}")
    return f'<div class="twyn-durations">{" · ".join(parts)}</div>' if parts else ""


def result_html(result: SimulationResult) -> str:
    """The result view: title, durations, the analysis and a chart of the metrics."""
    analysis = result.analysis
    return (
        f'<div class="twyn-result">'
        f'<div style="font-weight:600;font-size:1.1em">{e(result.title or result.id)}</div>'
        f"{_durations(result.simulation)}"
        f'<p class="twyn-summary">{e(analysis.executive_summary)}</p>'
        f"{_items('Key drivers', analysis.key_drivers)}"
        f"{_items('Risks', analysis.risks)}"
        f"{_items('Recommendations', analysis.recommendations)}"
        f'<div class="twyn-chart">{metrics_svg(result.metrics)}</div>'
        f"</div>"
    )


def ended_html(snapshot: WatchSnapshot) -> str:
    """What a watch that ended without a result shows: the error and, on FAILED, the phase."""
    sim = snapshot.simulation
    if snapshot.state is WatchState.FAILED and sim is not None:
        phase = sim.failed_phase
        where = f" in the {phase.label} phase" if phase else ""
        log = sim.error_log or "the server gave no error_log"
        return (
            f'<div class="twyn-failure" style="color:#c62828">'
            f"<b>Simulation failed{e(where)}</b>"
            f'<pre class="twyn-error-log" style="white-space:pre-wrap">{e(log)}</pre></div>'
        )
    message = str(snapshot.error) if snapshot.error is not None else outcome_text(snapshot)
    return f'<div class="twyn-failure" style="color:#c62828">{e(message)}</div>'


def summary_html(snapshot: WatchSnapshot, elapsed: float | None) -> str:
    """A static summary for saved and exported notebooks (no widget state needed)."""
    state = outcome_text(snapshot)
    color = _STATE_COLORS.get(snapshot.state, "inherit")
    head = (
        f'<div class="twyn-static" style="border-left:4px solid {color};padding-left:8px">'
        f"<b>{e(title_of(snapshot))}</b> · <code>{e(str(snapshot.status or ''))}</code> · "
        f'<span style="color:{color}">{state}</span> · elapsed {clock(elapsed)}'
    )
    if snapshot.result is not None:
        return head + result_html(snapshot.result) + "</div>"
    return head + ended_html(snapshot) + "</div>"
