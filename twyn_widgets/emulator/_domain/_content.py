"""The emulated Architect: titles, configs and failure messages derived from a prompt.

Everything here is a pure function of the prompt, seeded from a SHA-256 hash of it, so the
same prompt always designs the same simulation, in any process and under any
``PYTHONHASHSEED``. Failure markers such as ``[fail:simulator]`` are removed from a prompt
before it is used as a seed, so a failing prompt and its clean twin design the same
simulation. Metrics and the analysis are derived from the config (see :mod:`._metrics` and
:mod:`._analysis`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import _asks as asks
from ._lifecycle import ANALYST, ARCHITECT, SIMULATOR
from ._seeding import seeded_rng
from ._templates import TEMPLATES, GroupTemplate, MetricFamily

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

    Notes
    -----
    The first group is the population the prompt's words point to most (``customers`` for
    price, churn or spend questions); when the prompt names any population, only the ones
    it names follow. Every metric the prompt names (churn, retention, satisfaction, price,
    spend, revenue, upgrade, subscribe, adoption; see :data:`._templates.FAMILIES`) is in the
    first group, and a change in a cost ("a 10% price increase") is written into its
    description, where the Simulator reads it.
    """
    text = clean_prompt(prompt)
    rng = seeded_rng("config", text)
    lowered = text.lower()
    words = set(re.findall(r"[a-z]+", lowered))
    step_unit, steps = _horizon(lowered, words, rng)
    stems = asks.words_of(text)
    score = {template.id: len(stems & asks.template_words(template)) for template in TEMPLATES}
    scored = sorted(TEMPLATES, key=lambda template: (-score[template.id], rng.random()))
    count = rng.choices((1, 2, 3), weights=(3, 4, 2))[0]
    if score[scored[0].id]:
        # A prompt that names its population gets only the populations it names: a price
        # question about customers has no use for commuters.
        scored = [template for template in scored if score[template.id]]
    asked = asks.asked_families(text)
    groups = [
        _make_group(template, rng, full=index == 0, asked=asked if index == 0 else ())
        for index, template in enumerate(scored[:count])
    ]
    lever = asks.read_lever(text)
    if lever is not None:
        # Written where the Simulator reads it, as the real Architect describes the scenario.
        groups[0]["description"] = f"{scored[0].description}, facing {lever.phrase()}"
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


_SLOTS: tuple[tuple[str, str, float], ...] = (
    ("normal", "variables", 1.0),
    ("uniform", "variables", 0.7),
    ("initial_value", "variables", 0.5),
    ("binary", "actions", 1.0),
    ("discrete", "actions", 0.6),
    ("continuous", "actions", 0.6),
)
"""Each documented type: where it goes, and how likely a group other than the first has one."""


def _candidates(template: GroupTemplate, kind: str) -> tuple[tuple[Any, ...], ...]:
    """The template's candidates of one type: ``(name, parameters...)``."""
    field = "initial" if kind == "initial_value" else kind
    return tuple(getattr(template, field))


def _spec(kind: str, candidate: tuple[Any, ...]) -> JSON:
    """The config spec of one candidate, e.g. ``{"type": "normal", "mean": .., "std": ..}``."""
    if kind == "normal":
        return {"type": kind, "mean": candidate[1], "std": candidate[2]}
    if kind == "uniform":
        return {"type": kind, "min": candidate[1], "max": candidate[2]}
    if kind == "initial_value":
        return {"type": kind, "value": candidate[1]}
    return {"type": kind, "description": candidate[1]}


def _make_group(
    template: GroupTemplate,
    rng: random.Random,
    *,
    full: bool,
    asked: Sequence[MetricFamily] = (),
) -> JSON:
    """Build one AgentGroup from a template.

    A metric the prompt asks for (``asked``) takes the place of the random pick of its type,
    with the template's own spec when it has a candidate of that name.
    """
    parts: dict[str, JSON] = {"variables": {}, "actions": {}}
    for kind, part, chance in _SLOTS:
        candidates = _candidates(template, kind)
        wanted = [family for family in asked if family.kind == kind]
        if wanted:
            own = {candidate[0]: candidate for candidate in candidates}
            for family in wanted:
                spec = (
                    _spec(kind, own[family.metric]) if family.metric in own else dict(family.spec)
                )
                parts[part][family.metric] = spec
        elif full or chance >= 1.0 or rng.random() < chance:
            candidate = rng.choice(candidates)
            parts[part][candidate[0]] = _spec(kind, candidate)
    low, high = template.agents
    agents = rng.randint(low, high)
    if agents >= 100:
        agents = round(agents, -1 if agents < 1000 else -2)
    return {
        "id": template.id,
        "name": template.name,
        "description": template.description,
        "number_of_agents": agents,
        "variables": parts["variables"],
        "actions": parts["actions"],
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
