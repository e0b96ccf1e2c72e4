"""A dependency-free chart of the metrics timelines: inline SVG small multiples.

One panel per variable and per action of each agent group. SVG inside an HTML widget needs no
JavaScript build and survives nbconvert and GitHub's renderer when saved as ``text/html``.
"""

from __future__ import annotations

import html
import math

from ..models import Metrics

__all__ = ["metrics_svg"]

_W, _H, _PAD = 220, 70, 4
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _panel(name: str, values: list[float], color: str) -> str:
    finite = [v for v in values if not math.isnan(v)]
    label = html.escape(name)
    if len(finite) < 2:
        return f'<div class="twyn-panel"><b>{label}</b>: no data</div>'
    lo, hi = min(finite), max(finite)
    span = (hi - lo) or 1.0
    step = (_W - 2 * _PAD) / (len(values) - 1)
    points = " ".join(
        f"{_PAD + i * step:.1f},{_H - _PAD - (v - lo) / span * (_H - 2 * _PAD):.1f}"
        for i, v in enumerate(values)
        if not math.isnan(v)
    )
    return (
        f'<div class="twyn-panel" style="display:inline-block;margin:2px 8px 6px 0">'
        f'<div style="font-size:11px"><b>{label}</b> {finite[0]:.3g} &rarr; {finite[-1]:.3g}'
        f"</div>"
        f'<svg width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{label}" style="background:#fafafa;border:1px solid #ddd">'
        f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/></svg>'
        f"</div>"
    )


def metrics_svg(metrics: Metrics, *, max_panels: int = 24) -> str:
    """HTML with one small line chart per variable and action, grouped by agent group."""
    parts: list[str] = []
    panels = 0
    for group in metrics.by_group:
        variables, actions = group.names
        if not group.timeline:
            continue
        parts.append(
            f'<div class="twyn-group"><div style="font-weight:600;margin-top:4px">'
            f"{html.escape(group.group_id)} ({len(group.timeline)} steps)</div>"
        )
        for i, name in enumerate([*variables, *actions]):
            if panels >= max_panels:
                break
            kind = "action" if i >= len(variables) else "variable"
            parts.append(_panel(f"{name} ({kind})", group.series(name), _COLORS[i % 6]))
            panels += 1
        parts.append("</div>")
    return "".join(parts) or "<div>No metrics.</div>"
