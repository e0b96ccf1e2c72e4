"""The emulated Architect: titles, configs and failure messages derived from a prompt.

Everything here is a pure function of the prompt, seeded from a SHA-256 hash of it, so the
same prompt always designs the same simulation, in any process and under any
``PYTHONHASHSEED``. Failure markers such as ``[fail:simulator]`` are removed from a prompt
before it is used as a seed, so a failing prompt and its clean twin design the same
simulation. Metrics and the analysis are derived from the config (see :mod:`.metrics` and
:mod:`.analysis`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from .lifecycle import ANALYST, ARCHITECT, SIMULATOR
from .seeding import seeded_rng
from .templates import TEMPLATES, GroupTemplate

JSON = dict[str, Any]

FAIL_MARKER = re.compile(r"\[fail:(architect|simulator|analyst)\]", re.IGNORECASE)

STEP_UNITS = ("day", "week", "month", "quarter", "year")
_STEPS_BY_UNIT = {
    "day": (30, 90),
    "week": (12, 52),
    "month": (6, 24),
    "quarter": (4, 12),
    "year": (3, 10),
}
_UNIT_WORDS = {
    "day": ("day", "days", "daily"),
    "week": ("week", "weeks", "weekly"),
    "month": ("month", "months", "monthly"),
    "quarter": ("quarter", "quarters", "quarterly"),
    "year": ("year", "years", "yearly", "annual", "annually"),
}
_HORIZON = re.compile(r"\b(\d{1,4})[\s-]*(day|week|month|quarter|year)s?\b", re.IGNORECASE)

_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        """a an and are as at be by can could do does for from how if in into is it its of on or
        our should the their them they this to under was we what when where which who why will
        with would you your happens happen over after about simulate simulation model impact
        effect effects affect affects impacts than then""",
    )
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9%'\-]*")


def fail_markers(prompt: str) -> list[str]:
    """Return the phases named by ``[fail:<phase>]`` markers in a prompt, in order."""
    return [match.lower() for match in FAIL_MARKER.findall(prompt)]


def clean_prompt(prompt: str) -> str:
    """Return the prompt without failure markers and with collapsed whitespace."""
    return " ".join(FAIL_MARKER.sub(" ", prompt).split())


def make_title(prompt: str) -> str:
    """Generate a short title (at most five words) from a prompt.

    Parameters
    ----------
    prompt
        The simulation prompt.

    Returns
    -------
    str
        Up to four significant words of the prompt in title case, followed by ``Analysis``;
        ``Untitled Simulation`` when the prompt has no significant word.
    """
    words = [word.strip("'-") for word in _WORD.findall(clean_prompt(prompt))]
    keep = [word for word in words if word and word.lower() not in _STOPWORDS][:4]
    if not keep:
        return "Untitled Simulation"
    titled = [word if word.isupper() or not word.islower() else word.capitalize() for word in keep]
    return " ".join([*titled, "Analysis"])


def generate_config(prompt: str) -> JSON:
    """Design a plausible SimulationConfig from a prompt, deterministically.

    Parameters
    ----------
    prompt
        The simulation prompt (failure markers are ignored).

    Returns
    -------
    dict
        ``{"step_unit", "number_of_steps", "agent_groups"}`` with one to three agent groups;
        the first group has a variable of each type (normal, uniform, initial_value) and an
        action of each type (binary, discrete, continuous).
    """
    text = clean_prompt(prompt)
    rng = seeded_rng("config", text)
    lowered = text.lower()
    words = set(re.findall(r"[a-z]+", lowered))
    step_unit, steps = _horizon(lowered, words, rng)
    scored = sorted(
        TEMPLATES,
        key=lambda template: (-len(words.intersection(template.keywords)), rng.random()),
    )
    count = rng.choices((1, 2, 3), weights=(3, 4, 2))[0]
    groups = [
        _make_group(template, rng, full=index == 0) for index, template in enumerate(scored[:count])
    ]
    return {"step_unit": step_unit, "number_of_steps": steps, "agent_groups": groups}


def _horizon(lowered: str, words: set[str], rng: random.Random) -> tuple[str, int]:
    """Pick the step unit and number of steps, honouring "over 6 months"-style phrases."""
    match = _HORIZON.search(lowered)
    if match is not None:
        unit = match.group(2).lower()
        return unit, max(1, min(int(match.group(1)), 1000))
    for unit, unit_words in _UNIT_WORDS.items():
        if words.intersection(unit_words):
            low, high = _STEPS_BY_UNIT[unit]
            return unit, rng.randint(low, high)
    unit = rng.choices(STEP_UNITS, weights=(1, 4, 4, 1, 1))[0]
    low, high = _STEPS_BY_UNIT[unit]
    return unit, rng.randint(low, high)


def _make_group(template: GroupTemplate, rng: random.Random, *, full: bool) -> JSON:
    """Build one AgentGroup from a template."""
    variables: JSON = {}
    name, mean, std = rng.choice(template.normal)
    variables[name] = {"type": "normal", "mean": mean, "std": std}
    if full or rng.random() < 0.7:
        name, low, high = rng.choice(template.uniform)
        variables[name] = {"type": "uniform", "min": low, "max": high}
    if full or rng.random() < 0.5:
        name, value = rng.choice(template.initial)
        variables[name] = {"type": "initial_value", "value": value}
    actions: JSON = {}
    name, description = rng.choice(template.binary)
    actions[name] = {"type": "binary", "description": description}
    if full or rng.random() < 0.6:
        name, description = rng.choice(template.discrete)
        actions[name] = {"type": "discrete", "description": description}
    if full or rng.random() < 0.6:
        name, description = rng.choice(template.continuous)
        actions[name] = {"type": "continuous", "description": description}
    low, high = template.agents
    agents = rng.randint(low, high)
    if agents >= 100:
        agents = round(agents, -1 if agents < 1000 else -2)
    return {
        "id": template.id,
        "name": template.name,
        "description": template.description,
        "number_of_agents": agents,
        "variables": variables,
        "actions": actions,
    }


_ERRORS: Mapping[str, tuple[str, ...]] = {
    ARCHITECT: (
        "Architect failed: the prompt is too vague or contradictory to design a simulation. "
        "Describe the population, the decision being tested and the time horizon.",
        "Architect failed: unsupported scenario type; the prompt does not describe agents "
        "making decisions over time.",
        "Architect failed: configuration validation failed after 6 attempts: agent group "
        "'{group}' defines no usable actions.",
    ),
    SIMULATOR: (
        "Simulator failed: invalid configuration: variable '{variable}' of agent group "
        "'{group}' cannot be initialised from its distribution.",
        "Simulator failed: resource limits exceeded ({agents} agents x {steps} steps in agent "
        "group '{group}' is too large for one run).",
        "Simulator failed: numerical instability at step {step}: variable '{variable}' of agent "
        "group '{group}' diverged (NaN).",
    ),
    ANALYST: (
        "Analyst failed: insufficient data to analyse: the timeline of agent group '{group}' is "
        "too short to identify drivers.",
        "Analyst failed: analysis timeout after 120 seconds. This is usually temporary; retrying "
        "is safe.",
        "Analyst failed: temporary system error while writing the report; retrying is safe.",
    ),
}


def error_log_for(phase: str, prompt: str, config: Mapping[str, Any]) -> str:
    """Pick a plausible ``error_log`` for a phase, deterministically from the prompt.

    The messages follow the failure causes the docs list for each phase (Architect: vague
    prompt, unsupported scenario, config validation; Simulator: invalid config, resource
    limits, numerical instability; Analyst: insufficient data, timeout, system error), and
    name a group and a variable that the simulation's config really has.

    Parameters
    ----------
    phase
        ``architect``, ``simulator`` or ``analyst``.
    prompt
        The simulation's prompt (chooses among the messages).
    config
        The simulation's config, whose names the message uses.
    """
    rng = seeded_rng("error", phase, clean_prompt(prompt))
    groups = list(config.get("agent_groups") or [{}])
    group = groups[rng.randrange(len(groups))]
    names = list(group.get("variables") or {})
    # A group without variables gets only the messages that name none.
    choices = [text for text in _ERRORS[phase] if names or "{variable}" not in text]
    template = choices[rng.randrange(len(choices))]
    steps = int(config.get("number_of_steps", 1))
    return template.format(
        group=group.get("id", "agents"),
        variable=names[rng.randrange(len(names))] if names else "",
        agents=group.get("number_of_agents", 1),
        steps=steps,
        step=rng.randint(1, max(1, steps)),
    )
