"""All the HTML the package shows, in one place: escaping, the palette, truncation, state to
style.

Every string from the server is escaped here and only here; the watcher, the board, the
launcher, the static summaries saved in notebooks and ``SimulationResult._repr_html_`` are all
built from these functions. At run time this module imports nothing of the package but
``_humanize`` (models, snapshots and estimates are only read), so the models can use it for their
HTML repr without an import cycle and without loading the widgets.

Colours come from JupyterLab's theme variables (``--jp-*``) with fallbacks for places that do not
define them (GitHub, nbviewer, VS Code). Text always uses the theme's content colours, which
invert between the light and the dark theme; a state's colour (green, red, orange, teal) is only
ever the fill of a bar or a mark beside the text, because JupyterLab's accent colours do not
invert and would fall below a readable contrast on one of the two backgrounds.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._humanize import duration

if TYPE_CHECKING:
    from ._estimate import Estimate
    from .models import Metrics, Phase, Simulation, SimulationResult
    from .polling import WatchSnapshot, WatchState

__all__ = [
    "TITLE_LIMIT",
    "BoardRow",
    "StateStyle",
    "board_html",
    "e",
    "ended_html",
    "finals_html",
    "form_error_html",
    "metrics_svg",
    "outcome_text",
    "phase_text",
    "report_html",
    "result_html",
    "state_style",
    "status_html",
    "title_of",
    "truncate",
    "watcher_static_html",
]

e = html.escape

# -- palette ------------------------------------------------------------------------------------

# Why a line height of our own: ipywidgets' HTML widget sets its content's line height to the
# height of an input row (28 px), which spreads every wrapped line of a table or a paragraph.
LINE = "line-height:1.45"

TEXT = "var(--jp-content-font-color1, #212121)"
MUTED = "var(--jp-ui-font-color1, #424242)"
SURFACE = "var(--jp-layout-color1, #ffffff)"
PANEL = "var(--jp-layout-color2, #f5f5f5)"
TRACK = "var(--jp-layout-color3, #e0e0e0)"
BORDER = "var(--jp-border-color2, #e0e0e0)"
MONO = "var(--jp-code-font-family, monospace)"

SUCCESS = "var(--jp-success-color1, #4caf50)"
DANGER = "var(--jp-error-color1, #f44336)"
WARNING = "var(--jp-warn-color1, #ff9800)"
# The colour of ipywidgets' "info" bar, so the watcher's running bar and the board's match.
INFO = "var(--jp-info-color1, #0097a7)"

SERIES = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
"""Line colours of the charts (strokes, never text)."""

TITLE_LIMIT = 60
"""Characters of a title shown before it is cut with an ellipsis (full text on hover)."""

ERROR_LIMIT = 160
"""Characters of an error log shown in a board row before the rest is folded away."""


@dataclass(frozen=True, slots=True)
class StateStyle:
    """How a watch state looks: its word, the colour of its bar and mark, ipywidgets' style."""

    word: str
    accent: str
    bar_style: str


# Keyed by the states' values (WatchState is a str enum): no import of the polling layer.
_STYLES = {
    "watching": StateStyle("running", INFO, "info"),
    "retrying": StateStyle("retrying", WARNING, "warning"),
    "rate-limited": StateStyle("rate limited", WARNING, "warning"),
    "succeeded": StateStyle("done", SUCCESS, "success"),
    "failed": StateStyle("failed", DANGER, "danger"),
    "error": StateStyle("error", DANGER, "danger"),
    "timed-out": StateStyle("timed out", WARNING, "warning"),
    "stopped": StateStyle("stopped watching", WARNING, "warning"),
}
_FAILED, _SUCCEEDED = "failed", "succeeded"


def state_style(state: WatchState) -> StateStyle:
    """The one mapping from a watch state to its word, colour and bar style."""
    return _STYLES.get(str(state), _STYLES["watching"])


# -- text ---------------------------------------------------------------------------------------


def truncate(text: str, limit: int = TITLE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis (unescaped)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def title_of(snapshot: WatchSnapshot) -> str:
    """The simulation's title, else its id (unescaped: callers escape)."""
    sim = snapshot.simulation
    return (sim.title if sim is not None and sim.title else "") or snapshot.simulation_id


def outcome_text(snapshot: WatchSnapshot) -> str:
    """A few words on how the watch stands: ``running``, ``done``, ``failed``..."""
    return state_style(snapshot.state).word


def phase_text(phase: Phase | None) -> str:
    """``Simulator, 2 of 3``, or an empty string."""
    return "" if phase is None else f"{phase.label}, {phase.number} of {len(type(phase))}"


def _mark(accent: str) -> str:
    """A small dot in the state's colour: colour beside the text, never as the text's colour."""
    return (
        f'<span aria-hidden="true" style="display:inline-block;width:0.6em;height:0.6em;'
        f'border-radius:50%;background:{accent};margin-right:0.35em"></span>'
    )


def id_html(simulation_id: str) -> str:
    """The id in its short form; a click selects the whole id, and a copy takes all of it."""
    # Why one element: the full id is the text, cut visually to 8 characters; user-select:all
    # makes one click select (and a copy take) the whole id, and the title shows it on hover.
    return (
        f'<code class="twyn-id" title="{e(simulation_id)}" style="display:inline-block;'
        f"max-width:8ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;"
        f'vertical-align:bottom;user-select:all;color:{MUTED};font-family:{MONO}">'
        f"{e(simulation_id)}</code>"
    )


# -- the watcher --------------------------------------------------------------------------------


def status_html(snapshot: WatchSnapshot, est: Estimate, elapsed: float | None) -> str:
    """The live lines: title and id, then phase, status, elapsed, ETA, outcome and any notice."""
    status = str(snapshot.status) if snapshot.status is not None else "waiting for first answer"
    style = state_style(snapshot.state)
    eta = ""
    if est.eta is not None and not snapshot.done:
        eta = f' · <span class="twyn-eta">about {duration(est.eta)} left</span>'
    notice = ""
    if snapshot.notice:
        notice = (
            f'<div class="twyn-notice" style="color:{TEXT}">{_mark(style.accent)}'
            f"{e(snapshot.notice)}</div>"
        )
    title = title_of(snapshot)
    return (
        f'<div style="color:{TEXT};{LINE}">'
        f'<div><span class="twyn-title" style="font-weight:600" title="{e(title)}">'
        f"{e(truncate(title))}</span> {id_html(snapshot.simulation_id)}</div>"
        f'<div class="twyn-line">'
        f'<span class="twyn-phase">{e(phase_text(snapshot.phase)) or "&ndash;"}</span> · '
        f'<span class="twyn-status"><code style="color:{TEXT}">{e(status)}</code></span> · '
        f'<span class="twyn-elapsed">elapsed {duration(elapsed)}</span>{eta} · '
        f'<span class="twyn-outcome">{_mark(style.accent)}{e(style.word)}</span>'
        f"</div>{notice}</div>"
    )


def _items(title: str, values: Iterable[str]) -> str:
    rows = "".join(f"<li>{e(v)}</li>" for v in values)
    return f"<div><b>{title}</b><ul style='margin:2px 0 6px 0'>{rows}</ul></div>" if rows else ""


def durations_text(sim: Simulation | None) -> str:
    """``total 6 min 40 s · Architect 1 min 30 s · ...`` from the lifecycle (unescaped)."""
    if sim is None:
        return ""
    spans = sim.phase_durations()
    parts = [
        f"{p.label} {duration(spans[p].total_seconds())}"
        for p in sorted(spans, key=lambda p: p.number)
    ]
    total = sim.total_duration
    if total is not None:
        parts.insert(0, f"total {duration(total.total_seconds())}")
    return " · ".join(parts)


@functools.cache
def _markdown_renderer() -> Callable[[str], str] | None:
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return None
    # Why these options: raw HTML off, so markup in a report shows as text (markdown-it also
    # refuses javascript: and data: links); images off, so a report cannot make the browser
    # fetch from another site.
    md = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")
    render: Callable[[str], str] = md.render
    return render


def report_html(markdown: str) -> str:
    """The Analyst's ``report_markdown`` rendered, folded under "Full report".

    Rendered with markdown-it-py when it is installed (the ``notebooks`` extra brings it), else
    shown as preformatted text; either way no markup from the report runs.
    """
    if not markdown.strip():
        return ""
    render = _markdown_renderer()
    body = (
        render(markdown)
        if render is not None
        else (
            f'<pre style="white-space:pre-wrap;color:{TEXT};background:transparent">'
            f"{e(markdown)}</pre>"
        )
    )
    return (
        f'<details class="twyn-report" style="margin:4px 0 8px 0;color:{TEXT}">'
        f"<summary><b>Full report</b></summary>"
        f'<div class="twyn-report-body" style="border-left:3px solid {BORDER};'
        f'padding-left:10px">{body}</div></details>'
    )


def result_html(result: SimulationResult) -> str:
    """The result view: title, durations, the analysis, the report and the metrics' charts."""
    analysis = result.analysis
    spans = durations_text(result.simulation)
    title = result.title or result.id
    return (
        f'<div class="twyn-result" style="color:{TEXT};{LINE}">'
        f'<div style="font-weight:600;font-size:1.1em">{e(title)}</div>'
        f'<div class="twyn-durations" style="color:{MUTED}">{e(spans)}</div>'
        f'<p class="twyn-summary">{e(analysis.executive_summary)}</p>'
        f"{_items('Key drivers', analysis.key_drivers)}"
        f"{_items('Risks', analysis.risks)}"
        f"{_items('Recommendations', analysis.recommendations)}"
        f"{report_html(analysis.report_markdown)}"
        f'<div class="twyn-chart">{metrics_svg(result.metrics)}</div>'
        f"</div>"
    )


def ended_html(snapshot: WatchSnapshot) -> str:
    """What a watch that ended without a result shows: the error and, on FAILED, the phase."""
    sim = snapshot.simulation
    box = f"border-left:4px solid {DANGER};padding-left:8px;color:{TEXT};{LINE}"
    if snapshot.state == _FAILED and sim is not None:
        phase = sim.failed_phase
        where = f" in the {phase.label} phase" if phase else ""
        log = sim.error_log or "the server gave no error_log"
        return (
            f'<div class="twyn-failure" style="{box}">'
            f"<b>Simulation failed{e(where)}</b>"
            f'<pre class="twyn-error-log" style="white-space:pre-wrap;color:{TEXT};'
            f'background:transparent">{e(log)}</pre></div>'
        )
    message = str(snapshot.error) if snapshot.error is not None else outcome_text(snapshot)
    accent = state_style(snapshot.state).accent
    return (
        f'<div class="twyn-failure" style="border-left:4px solid {accent};padding-left:8px;'
        f'color:{TEXT}">{e(message)}</div>'
    )


def _bar(progress: float, accent: str, height: str = "10px", cls: str = "twyn-row-bar") -> str:
    width = max(0.0, min(1.0, progress)) * 100
    return (
        f'<div style="background:{TRACK};height:{height};border-radius:3px">'
        f'<div class="{cls}" style="width:{width:.1f}%;height:{height};'
        f'border-radius:3px;background:{accent}"></div></div>'
    )


def watcher_static_html(
    snapshot: WatchSnapshot, est: Estimate, elapsed: float | None, progress: float
) -> str:
    """The watcher as static HTML, for the notebook file once it has ended.

    The same parts as the live widget (bar, lines, result or error) with no widget state
    needed, so a saved notebook reopens showing the outcome.
    """
    style = state_style(snapshot.state)
    body = result_html(snapshot.result) if snapshot.result is not None else ended_html(snapshot)
    return (
        f'<div class="twyn-watcher twyn-static" data-state="{e(str(snapshot.state))}" '
        f'style="max-width:900px;color:{TEXT}">'
        f'<div style="display:flex;align-items:center;gap:8px">'
        f'<span class="twyn-static-percent" style="width:3em;text-align:right">'
        f"{progress * 100:.0f}%</span>"
        f'<div style="flex:1">{_bar(progress, style.accent, "14px", "twyn-static-bar")}</div>'
        f"</div>"
        f"{status_html(snapshot, est, elapsed)}{body}</div>"
    )


# -- the board ----------------------------------------------------------------------------------


# Why every cell states its alignment and padding: saved as text/html, the board is styled by
# JupyterLab's rendered-HTML rules, which right-align and centre table cells.
_CELL = "text-align:left;vertical-align:top;padding:4px 8px 4px 0"


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One row of a board: a snapshot with the numbers the board worked out for it."""

    snapshot: WatchSnapshot
    progress: float
    elapsed: float | None


def _row_outcome(snapshot: WatchSnapshot) -> str:
    style = state_style(snapshot.state)
    word = f"{_mark(style.accent)}{e(style.word)}"
    sim = snapshot.simulation
    if snapshot.state == _FAILED and sim is not None:
        phase = sim.failed_phase
        where = f" in the {phase.label}" if phase else ""
        log = sim.error_log or "the server gave no error_log"
        short = truncate(log.replace("\n", " "), ERROR_LIMIT)
        detail = (
            f'<details class="twyn-row-error"><summary>{e(short)}</summary>'
            f'<pre style="white-space:pre-wrap;color:{TEXT};background:transparent">'
            f"{e(log)}</pre></details>"
            if short != log
            else f'<div class="twyn-row-error">{e(log)}</div>'
        )
        return f"{word}{e(where)}{detail}"
    if snapshot.notice and not snapshot.done:
        return (
            f'{word}<div class="twyn-row-notice" style="color:{MUTED}">{e(snapshot.notice)}</div>'
        )
    if snapshot.done and snapshot.error is not None and snapshot.state != _FAILED:
        return f'{word}<div class="twyn-row-error">{e(str(snapshot.error))}</div>'
    return word


def board_html(rows: Sequence[BoardRow]) -> str:
    """The counts line and the table of a board, every server string escaped."""
    counts = {"running": 0, "done": 0, "failed": 0, "other": 0}
    cells = []
    for i, row in enumerate(rows, 1):
        snap = row.snapshot
        state = snap.state
        if not state.is_final:
            counts["running"] += 1
        elif state == _SUCCEEDED:
            counts["done"] += 1
        elif state in (_FAILED, "error"):
            counts["failed"] += 1
        else:
            counts["other"] += 1
        title = title_of(snap)
        cells.append(
            f'<tr class="twyn-row" data-state="{e(str(state))}" '
            f'style="border-top:1px solid {BORDER};vertical-align:top">'
            f'<td style="{_CELL}">{i}</td>'
            f'<td class="twyn-row-title" style="{_CELL};min-width:12em" title="{e(title)}">'
            f'<span class="twyn-row-name">{e(truncate(title))}</span><br>'
            f"{id_html(snap.simulation_id)}</td>"
            f'<td class="twyn-row-phase" style="{_CELL};white-space:nowrap">'
            f"{e(phase_text(snap.phase)) or '&ndash;'}</td>"
            f'<td style="{_CELL};min-width:140px;padding-top:8px">'
            f"{_bar(row.progress, state_style(state).accent)}</td>"
            f'<td class="twyn-row-elapsed" style="{_CELL};white-space:nowrap">'
            f"{duration(row.elapsed)}</td>"
            f'<td class="twyn-row-outcome" style="{_CELL};min-width:14em;max-width:28em">'
            f"{_row_outcome(snap)}</td></tr>"
        )
    other = f", {counts['other']} stopped or timed out" if counts["other"] else ""
    summary = (
        f'<div class="twyn-counts" style="color:{TEXT}"><b>{len(rows)} simulations</b>: '
        f"{counts['running']} running, {counts['done']} done, {counts['failed']} failed{other}"
        f"</div>"
    )
    head = "".join(
        f'<th style="{_CELL}">{h}</th>'
        for h in ("#", "Title", "Phase", "Progress", "Elapsed", "Outcome")
    )
    table = (
        f'<table class="twyn-board-table" style="border-collapse:collapse;width:100%;'
        f'color:{TEXT};{LINE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(cells)}</tbody></table>"
    )
    return summary + table


def finals_html(titles: Mapping[str, str], finals: Mapping[str, Mapping[str, float]]) -> str:
    """The table of final values under an ended board: a row per succeeded simulation, a
    column per ``group/metric`` (the numbers ``tw.compare`` gives), scrolling sideways."""
    if not finals:
        return ""
    columns = list(dict.fromkeys(name for values in finals.values() for name in values))
    if not columns:
        return ""
    cell = "padding:2px 8px;text-align:right;white-space:nowrap"
    head = "".join(f'<th style="{cell}">{e(c)}</th>' for c in columns)
    body = "".join(
        f'<tr style="border-top:1px solid {BORDER}">'
        f'<td style="padding:2px 8px;text-align:left;white-space:nowrap" title="{e(sim_id)}">'
        f"{e(truncate(titles.get(sim_id, sim_id)))}</td>"
        + "".join(
            f'<td style="{cell}">{values[c]:.4g}</td>'
            if c in values
            else f'<td style="{cell}"></td>'
            for c in columns
        )
        + "</tr>"
        for sim_id, values in finals.items()
    )
    return (
        f'<div class="twyn-finals" style="margin-top:8px;color:{TEXT}">'
        f"<b>Final values</b> (as <code>tw.compare(results)</code> gives them)"
        # Why a width of 0 that grows to the container's: a block that only scrolls still
        # gives its container its table's width where the container shrink-wraps (Voila's
        # output area), which pushed the board's own columns off-screen.
        f'<div style="overflow-x:auto;width:0;min-width:100%">'
        f'<table style="border-collapse:collapse;color:{TEXT}">'
        f'<thead><tr><th style="text-align:left;padding:2px 8px">Simulation</th>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table></div></div>"
    )


def board_static_html(rows: Sequence[BoardRow], finals: str = "") -> str:
    """The board as static HTML, for the notebook file once every row has ended."""
    return (
        f'<div class="twyn-board twyn-static" style="color:{TEXT}">{board_html(rows)}{finals}</div>'
    )


# -- charts -------------------------------------------------------------------------------------

_W, _H, _PAD = 220, 70, 4
# Why a fixed width and a two-line label: panels sit in rows, and a label wider than its chart
# would push the next one out of line; a long name is cut with an ellipsis (the full name in
# its tooltip), the values always show on the second line.
_PANEL_BOX = f"display:inline-block;vertical-align:top;width:{_W + 2}px;margin:2px 8px 6px 0"
_PANEL_LABEL = (
    f"font-size:11px;line-height:1.35;color:{TEXT};white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis"
)


def _panel(name: str, values: list[float], color: str) -> str:
    finite = [v for v in values if not math.isnan(v)]
    label = e(name)
    if len(finite) < 2:
        return (
            f'<div class="twyn-panel" style="{_PANEL_BOX}">'
            f'<div style="{_PANEL_LABEL}" title="{label}"><b>{label}</b><br>no data</div></div>'
        )
    lo, hi = min(finite), max(finite)
    span = (hi - lo) or 1.0
    step = (_W - 2 * _PAD) / (len(values) - 1)
    points = " ".join(
        f"{_PAD + i * step:.1f},{_H - _PAD - (v - lo) / span * (_H - 2 * _PAD):.1f}"
        for i, v in enumerate(values)
        if not math.isnan(v)
    )
    return (
        f'<div class="twyn-panel" style="{_PANEL_BOX}">'
        f'<div style="{_PANEL_LABEL}" title="{label}"><b>{label}</b><br>'
        f"{finite[0]:.3g} &rarr; {finite[-1]:.3g}</div>"
        f'<svg width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{label}" style="background:{PANEL};border:1px solid {BORDER}">'
        f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/></svg>'
        f"</div>"
    )


def metrics_svg(metrics: Metrics, *, max_panels: int = 24) -> str:
    """HTML with one small line chart per variable and action, grouped by agent group.

    Inline SVG needs no JavaScript and survives nbconvert and GitHub's renderer when saved as
    ``text/html``.
    """
    parts: list[str] = []
    panels = 0
    for group in metrics.by_group:
        variables, actions = group.names
        if not group.timeline:
            continue
        parts.append(
            f'<div class="twyn-group"><div style="font-weight:600;margin-top:4px">'
            f"{e(group.group_id)} ({len(group.timeline)} steps)</div>"
        )
        for i, name in enumerate([*variables, *actions]):
            if panels >= max_panels:
                break
            kind = "action" if i >= len(variables) else "variable"
            parts.append(_panel(f"{name} ({kind})", group.series(name), SERIES[i % len(SERIES)]))
            panels += 1
        parts.append("</div>")
    return "".join(parts) or "<div>No metrics.</div>"


# -- the launcher -------------------------------------------------------------------------------


def form_error_html(message: str, details: Sequence[str]) -> str:
    """An error under a form: the message and, for a 422, the fields it names (all escaped)."""
    items = "".join(f"<li>{e(d)}</li>" for d in details)
    listing = f"<ul style='margin:2px 0'>{items}</ul>" if items else ""
    return (
        f'<div class="twyn-launch-error" style="border-left:4px solid {DANGER};'
        f'padding-left:8px;color:{TEXT}">{e(message)}{listing}</div>'
    )
