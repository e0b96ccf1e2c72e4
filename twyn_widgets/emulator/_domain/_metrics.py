"""The emulated Simulator: smooth, plausible metrics timelines derived from a config.

A pure function of the config (seeded from its canonical JSON), so the same config always
gives the same metrics. A group whose description states a change in a cost ("facing a 10%
price increase", as the Architect writes it) reacts to it: the cost itself moves by that
much, the group's mood moves against it, and its actions follow, by an amount that grows
with the size of the change (so a sweep of increases ends with more churn for larger ones).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from ._asks import Lever, read_lever
from ._seeding import canonical, seeded_rng

JSON = dict[str, Any]


def _variable_start(spec: Mapping[str, Any]) -> tuple[float, float, tuple[float, float] | None]:
    """Return (initial value, natural scale, clamp bounds) of a variable spec."""
    kind = spec.get("type")
    if kind == "normal":
        mean, std = float(spec["mean"]), abs(float(spec["std"]))
        scale = std or max(abs(mean) * 0.1, 0.01)
        bounded = 0.0 <= mean <= 1.0 and std <= 0.5
        return mean, scale, (0.0, 1.0) if bounded else ((0.0, math.inf) if mean >= 0 else None)
    if kind == "uniform":
        low, high = float(spec["min"]), float(spec["max"])
        low, high = min(low, high), max(low, high)
        scale = (high - low) / 2 or max(abs(low) * 0.1, 0.01)
        bounded = low >= 0.0 and high <= 1.0
        return (
            (low + high) / 2,
            scale,
            (0.0, 1.0) if bounded else ((0.0, math.inf) if low >= 0 else None),
        )
    value = float(spec.get("value", 0.0))
    scale = max(abs(value) * 0.25, 0.05)
    bounded = 0.0 <= value <= 1.0
    return value, scale, (0.0, 1.0) if bounded else ((0.0, math.inf) if value >= 0 else None)


def _s_curve(x: float, steepness: float, middle: float) -> float:
    """A logistic curve rescaled so that it goes from 0 at x=0 to 1 at x=1."""
    first = 1 / (1 + math.exp(steepness * middle))
    last = 1 / (1 + math.exp(-steepness * (1 - middle)))
    return (1 / (1 + math.exp(-steepness * (x - middle))) - first) / (last - first)


def _clamp(value: float, bounds: tuple[float, float] | None) -> float:
    if bounds is None:
        return value
    return min(max(value, bounds[0]), bounds[1])


def _tidy(value: float) -> float:
    """Round to a readable precision: 4 decimals for small numbers, 2 for large ones."""
    return round(value, 2 if abs(value) >= 100 else 4)


def generate_metrics(config: Mapping[str, Any]) -> JSON:
    """Compute smooth, plausible metrics timelines from a config, deterministically.

    Parameters
    ----------
    config
        A SimulationConfig.

    Returns
    -------
    dict
        ``{"by_group": [{"group_id", "timeline": [{"step", "variables", "actions"}]}],
        "global": {...}}`` with one timeline entry for each step from 0 to ``number_of_steps``.
        Binary actions are rates in [0, 1], discrete actions are the number of agents who
        changed their choice, continuous actions are the average value per agent.
    """
    rng = seeded_rng("metrics", canonical(config))
    steps = int(config["number_of_steps"])
    by_group: list[JSON] = []
    total_agents = 0
    for group in config["agent_groups"]:
        agents = int(group.get("number_of_agents", 0))
        total_agents += agents
        lever = read_lever(str(group.get("description") or ""))
        curves: dict[str, list[float]] = {}
        drive: list[float] = [0.0] * (steps + 1)
        for index, (name, spec) in enumerate(group.get("variables", {}).items()):
            start, scale, bounds = _variable_start(spec)
            direction = rng.choice((-1.0, 1.0))
            amplitude = direction * scale * rng.uniform(0.4, 1.4)
            steepness, middle = rng.uniform(4.0, 9.0), rng.uniform(0.3, 0.7)
            wobble, cycles, phase = (
                scale * rng.uniform(0.02, 0.08),
                rng.uniform(1.0, 3.0),
                rng.uniform(0, 6.3),
            )
            if lever is not None:
                amplitude, wobble = _under_lever(
                    lever, name, start, scale, amplitude, wobble, first=index == 0
                )
            values = []
            for step in range(steps + 1):
                x = step / steps if steps else 0.0
                value = start + amplitude * _s_curve(x, steepness, middle)
                value += wobble * math.sin(2 * math.pi * cycles * x + phase) - wobble * math.sin(
                    phase
                )
                values.append(_tidy(_clamp(value, bounds)))
            curves[name] = values
            if index == 0:
                drive = [(value - start) / scale for value in values]
        actions: dict[str, list[float]] = {}
        for name, spec in group.get("actions", {}).items():
            kind = str(spec.get("type"))
            actions[name] = (
                _action_curve(name, kind, drive, agents, rng)
                if lever is None
                else _steady_action_curve(str(group["id"]), name, kind, drive, agents)
            )
        timeline = [
            {
                "step": step,
                "variables": {name: values[step] for name, values in curves.items()},
                "actions": {name: values[step] for name, values in actions.items()},
            }
            for step in range(steps + 1)
        ]
        by_group.append({"group_id": group["id"], "timeline": timeline})
    return {
        "by_group": by_group,
        "global": {"number_of_agents": total_agents, "number_of_steps": steps},
    }


_RISE_WITH_DRIVER = frozenset(
    {"upgrade", "get_vaccinated", "support_policy", "subscribe", "adoption"}
)
"""Binary actions that grow with the group's main variable (the others move against it)."""

_RISE_UNDER_STRAIN = frozenset({"price_sensitivity", "support_tickets", "workload"})
"""Variables that grow when a group is strained (the others, satisfaction first, fall)."""


def _under_lever(
    lever: Lever,
    name: str,
    start: float,
    scale: float,
    amplitude: float,
    wobble: float,
    *,
    first: bool,
) -> tuple[float, float]:
    """The (amplitude, wobble) of a variable in a group that faces a change in a cost.

    The cost itself (a ``price`` variable under a price change) moves by exactly the stated
    share, without wobble. Every other variable moves with the group's fortune, by an amount
    that scales with the lever's strength; the first one (the one actions follow) by a fixed
    multiple of it and with little wobble, so a larger change always ends further away.
    """
    if name == lever.noun:
        return start * lever.direction * lever.size, 0.0
    sign = lever.pressure * (-1 if name in _RISE_UNDER_STRAIN else 1)
    if first:
        return sign * scale * 1.2 * lever.strength, min(wobble, 0.03 * scale)
    return sign * abs(amplitude) * lever.strength, wobble


def _action_curve(
    name: str, kind: str, drive: Sequence[float], agents: int, rng: random.Random
) -> list[float]:
    """Derive an action's timeline from the group's first variable (``drive``).

    Actions react to the main variable: when it falls (satisfaction, trust, ...), binary
    actions such as churn become more frequent, while "positive" ones such as upgrades fade.
    """
    coupling = rng.uniform(0.3, 0.8)
    if kind == "binary" and name in _RISE_WITH_DRIVER:
        base = rng.uniform(0.01, 0.12)
        return [_tidy(_clamp(base * (1 + coupling * d), (0.0, 1.0))) for d in drive]
    if kind == "binary":
        base = rng.uniform(0.01, 0.12)
        return [_tidy(_clamp(base * (1 - coupling * d), (0.0, 1.0))) for d in drive]
    if kind == "discrete":
        base = max(1.0, agents * rng.uniform(0.01, 0.08))
        return [float(max(0, round(base * (1 + coupling * abs(d))))) for d in drive]
    base = rng.uniform(10.0, 500.0)
    return [_tidy(max(0.0, base * (1 + coupling * d * 0.5))) for d in drive]


def _steady_action_curve(
    group_id: str, name: str, kind: str, drive: Sequence[float], agents: int
) -> list[float]:
    """An action's timeline in a group that faces a change in a cost.

    Its starting level comes from the group and action names alone, not from the whole
    config, and its coupling to the group's first variable is fixed, so runs of one sweep
    ("5%, 10%, 15% price increase") start from the same churn and differ only by how hard
    the change pushes them.
    """
    rng = seeded_rng("action", group_id, name)
    if kind == "binary":
        base = rng.uniform(0.02, 0.08)
        sign = 1 if name in _RISE_WITH_DRIVER else -1
        return [_tidy(_clamp(base * math.exp(0.8 * sign * d), (0.0, 1.0))) for d in drive]
    if kind == "discrete":
        base = max(1.0, agents * rng.uniform(0.01, 0.08))
        return [float(max(0, round(base * (1 + 0.5 * abs(d))))) for d in drive]
    base = rng.uniform(10.0, 500.0)
    return [_tidy(max(0.0, base * (1 + 0.5 * d))) for d in drive]
