"""The emulated Analyst: a report written from a config and its metrics.

Deterministic: the same inputs always give the same summary, drivers, risks,
recommendations and Markdown report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._asks import asked_metrics

JSON = dict[str, Any]


@dataclass(frozen=True)
class _Movement:
    group: str
    name: str
    first: float
    last: float
    peak: float
    peak_step: int
    kind: str

    @property
    def change(self) -> float:
        return (self.last - self.first) / abs(self.first) if self.first else self.last - self.first


def _num(value: float) -> str:
    """Format a number for prose: thousands separators for large values, 3 decimals for small."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def _percent(value: float) -> str:
    return f"{abs(value) * 100:.0f}%"


def _label(name: str) -> str:
    return name.replace("_", " ")


def _movements(config: Mapping[str, Any], metrics: Mapping[str, Any]) -> list[_Movement]:
    """Summarise how every variable and action moved over the run."""
    names = {group["id"]: group.get("name", group["id"]) for group in config["agent_groups"]}
    kinds: dict[tuple[str, str], str] = {}
    for group in config["agent_groups"]:
        for name, spec in group.get("actions", {}).items():
            kinds[(group["id"], name)] = str(spec.get("type"))
    found: list[_Movement] = []
    for group in metrics["by_group"]:
        timeline = group["timeline"]
        label = str(names.get(group["group_id"], group["group_id"]))
        for section in ("variables", "actions"):
            for name in timeline[0][section]:
                series = [float(step[section][name]) for step in timeline]
                peak_step = max(range(len(series)), key=lambda index: series[index])
                kind = (
                    "variable"
                    if section == "variables"
                    else kinds.get((group["group_id"], name), "")
                )
                found.append(
                    _Movement(
                        label, name, series[0], series[-1], series[peak_step], peak_step, kind
                    )
                )
    return found


def _driver(move: _Movement, steps: int, unit: str) -> str:
    """One key driver: how far a metric moved over the run."""
    return (
        f"{move.group}: {_label(move.name)} {'rose' if move.last >= move.first else 'fell'} "
        f"{_percent(move.change)} over {steps} {unit}s ({_num(move.first)} -> {_num(move.last)})"
    )


def _focus_sentence(move: _Movement, unit: str) -> str:
    """A sentence of the summary about a metric the prompt asked about."""
    verb = "rises" if move.last > move.first else "falls" if move.last < move.first else "holds"
    if move.kind == "binary":
        where = f"from {move.first * 100:.1f}% to {move.last * 100:.1f}% of agents per {unit}"
        if move.peak_step > 0 and move.peak > move.last:
            where += f", peaking at {move.peak * 100:.1f}% in {unit} {move.peak_step}"
    else:
        where = f"from {_num(move.first)} to {_num(move.last)} ({_percent(move.change)})"
    if verb == "holds":
        where = f"at {_num(move.first)}"
    return f"{_label(move.name).capitalize()} among {move.group.lower()} {verb} {where}."


def generate_analysis(
    config: Mapping[str, Any], metrics: Mapping[str, Any], prompt: str = ""
) -> JSON:
    """Write the Analyst's report from a config and its metrics, deterministically.

    Parameters
    ----------
    config
        The SimulationConfig that was run.
    metrics
        The metrics produced by :func:`generate_metrics`.
    prompt
        The simulation's prompt: the summary and the key drivers start with the metrics it
        asks about (churn, spend, ...) that the first group has.

    Returns
    -------
    dict
        ``{"executive_summary", "key_drivers", "risks", "recommendations", "report_markdown"}``.
    """
    unit = str(config["step_unit"])
    steps = int(config["number_of_steps"])
    groups = config["agent_groups"]
    agents = sum(int(group.get("number_of_agents", 0)) for group in groups)
    moves = _movements(config, metrics)
    variables = sorted(
        (move for move in moves if move.kind == "variable"), key=lambda move: -abs(move.change)
    )
    binaries = sorted(
        (move for move in moves if move.kind == "binary"), key=lambda move: -move.peak
    )
    others = [move for move in moves if move.kind in ("discrete", "continuous")]

    main = str(groups[0].get("name", groups[0]["id"])) if groups else ""
    asked = asked_metrics(prompt)
    focus = sorted(
        (move for move in moves if move.group == main and move.name in asked),
        key=lambda move: asked.index(move.name),
    )
    drivers = [_driver(move, steps, unit) for move in focus]
    drivers += [_driver(move, steps, unit) for move in variables if move not in focus][:3]
    risks = [
        f"{move.group}: {_label(move.name)} peaks at {move.peak * 100:.1f}% of agents per {unit} "
        f"in {unit} {move.peak_step}"
        if move.peak_step > 0
        else f"{move.group}: {_label(move.name)} is highest at the start ({move.peak * 100:.1f}% "
        f"of agents per {unit}) and only eases to {move.last * 100:.1f}%"
        for move in binaries[:2]
    ]
    risks += [
        f"{move.group}: {_label(move.name)} falls {_percent(move.change)} by the end of the run"
        for move in variables
        if move.last < move.first
    ][: max(0, 3 - len(risks))]
    if not risks:
        risks = [
            "No variable deteriorates over the horizon; results may understate downside scenarios"
        ]
    recommendations = [
        f"Track {_label(move.name)} among {move.group.lower()} every {unit} and act before "
        f"{unit} {max(1, move.peak_step - 2)}, when it climbs towards its peak"
        if move.peak_step > steps // 4
        else f"Address {_label(move.name)} among {move.group.lower()} from the first {unit}: "
        "it is highest early in the run"
        for move in binaries[:2]
    ]
    recommendations += [
        f"Plan capacity for {move.group.lower()} {_label(move.name)} moving from "
        f"{_num(move.first)} to {_num(move.last)} per {unit}"
        for move in others[:2]
    ]
    recommendations.append(
        f"Re-run the simulation with a sensitivity sweep on {_label(variables[0].name)}"
        if variables
        else "Re-run the simulation with more variables to explore sensitivities"
    )

    group_names = ", ".join(str(group.get("name", group["id"])) for group in groups)
    headline = _driver(variables[0], steps, unit) if variables else "no variable moved noticeably"
    summary = (
        f"Over {steps} {unit}s, {agents} agents in {len(groups)} group"
        f"{'s' if len(groups) != 1 else ''} ({group_names}) were simulated."
    )
    for move in focus:
        summary += f" {_focus_sentence(move, unit)}"
    summary += f" The largest shift: {headline}."
    if binaries and binaries[0] not in focus:
        top = binaries[0]
        when = f"in {unit} {top.peak_step}" if top.peak_step else "at the start"
        summary += (
            f" {_label(top.name).capitalize()} among {top.group.lower()} peaks at "
            f"{top.peak * 100:.1f}% {when}."
        )
    report = _report(config, metrics, summary, drivers, risks, recommendations)
    return {
        "executive_summary": summary,
        "key_drivers": drivers,
        "risks": risks,
        "recommendations": recommendations,
        "report_markdown": report,
    }


def _report(
    config: Mapping[str, Any],
    metrics: Mapping[str, Any],
    summary: str,
    drivers: Sequence[str],
    risks: Sequence[str],
    recommendations: Sequence[str],
) -> str:
    """Assemble the Markdown report."""
    lines = ["# Full Analysis Report", "", "## Executive Summary", "", summary, "", "## Setup", ""]
    lines += [
        f"- Horizon: {config['number_of_steps']} {config['step_unit']}s",
        "",
        "| Group | Agents | Variables | Actions |",
        "|---|---:|---|---|",
    ]
    for group in config["agent_groups"]:
        variables = ", ".join(group.get("variables", {})) or "-"
        actions = ", ".join(group.get("actions", {})) or "-"
        name = group.get("name", group["id"])
        lines.append(f"| {name} | {group.get('number_of_agents', 0)} | {variables} | {actions} |")
    for title, items in (
        ("Key Drivers", drivers),
        ("Risks", risks),
        ("Recommendations", recommendations),
    ):
        lines += ["", f"## {title}", ""]
        lines += [f"{index}. {item}" for index, item in enumerate(items, 1)]
    lines += ["", "## Final Values", "", "| Group | Metric | Start | End |", "|---|---|---:|---:|"]
    for group in metrics["by_group"]:
        first, last = group["timeline"][0], group["timeline"][-1]
        for section in ("variables", "actions"):
            for name in first[section]:
                start, end = first[section][name], last[section][name]
                lines.append(f"| {group['group_id']} | {name} | {start:g} | {end:g} |")
    return "\n".join(lines) + "\n"
