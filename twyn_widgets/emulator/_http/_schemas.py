"""Pydantic models of the public v1 API: request bodies and documented response shapes.

Field names follow the docs' data models (SimulationConfig, AgentGroup, variables, actions,
Simulation, SimulationResults, Scenario, APIKeyInfo, ListResponse). Response models are
declared on the routes so that ``/docs`` and ``/openapi.json`` describe the same shapes.

Request models refuse what no JSON encoder could send back and what would make results
unboundedly large: strings with lone surrogates, numbers that are not finite or beyond
:data:`MAX_MAGNITUDE`, inconsistent distributions, and anything over the caps below. Each of
these answers 422 with the location of the offending field.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

StepUnit = Literal["day", "week", "month", "quarter", "year"]

MAX_PROMPT = 10_000
"""Characters in a prompt, at most."""
MAX_TITLE = 200
MAX_NAME = 200
MAX_DESCRIPTION = 2_000
MAX_TAGS = 20
MAX_TAG = 100
MAX_ID = 100
MAX_FIELD_NAME = 64
"""Characters in a variable or action name, at most."""
MAX_GROUPS = 20
MAX_VARIABLES = 20
"""Variables per agent group, at most; actions have the same cap."""
MAX_ACTIONS = 20
MAX_STEPS = 1_000
MAX_AGENTS = 1_000_000
"""Agents per group, at most."""
MAX_TIMELINE_CELLS = 40_000
"""``(number_of_steps + 1) * sum over groups of (1 + variables + actions)``, at most.

This bounds the metrics timelines, and so the results body, to a few MB whatever the shape.
"""
MAX_MAGNITUDE = 1e12
"""Largest absolute value of a number in a config."""


def _valid_text(value: str) -> str:
    """Refuse strings that are not valid Unicode (a lone ``\\ud800``-``\\udfff`` escape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "string holds a lone surrogate (an unpaired \\ud800-\\udfff escape), "
            "which is not valid Unicode"
        ) from None
    return value


def _valid_json(value: Any) -> Any:
    """Refuse lone surrogates and non-finite numbers anywhere in free-form JSON.

    Iterative, so that deeply nested input cannot exhaust the interpreter's stack.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _valid_text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite (no NaN or Infinity)")
        elif isinstance(item, dict):
            for key, inner in item.items():
                _valid_text(str(key))
                pending.append(inner)
        elif isinstance(item, list):
            pending.extend(item)
    return value


_Valid = AfterValidator(_valid_text)
Text = Annotated[str, _Valid]
"""Any valid Unicode string (add a ``Field`` for its length)."""
Prompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT), _Valid]
Title = Annotated[str, Field(max_length=MAX_TITLE), _Valid]
Tag = Annotated[str, Field(max_length=MAX_TAG), _Valid]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME), _Valid]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION), _Valid]
Identifier = Annotated[str, Field(min_length=1, max_length=MAX_ID), _Valid]
FieldName = Annotated[str, Field(min_length=1, max_length=MAX_FIELD_NAME), _Valid]
Number = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)]
FreeJson = Annotated[dict[str, Any], AfterValidator(_valid_json)]


class Request(BaseModel):
    """Base of request bodies: non-finite numbers are refused everywhere."""

    model_config = ConfigDict(allow_inf_nan=False)


class NormalVariable(Request):
    """A variable drawn from a normal distribution."""

    type: Literal["normal"]
    mean: Number
    std: Annotated[float, Field(ge=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]


class UniformVariable(Request):
    """A variable drawn uniformly between ``min`` and ``max`` (``min <= max``)."""

    type: Literal["uniform"]
    min: Number
    max: Number

    @model_validator(mode="after")
    def _ordered(self) -> UniformVariable:
        if self.min > self.max:
            raise ValueError(f"min ({self.min:g}) must not exceed max ({self.max:g})")
        return self


class InitialValueVariable(Request):
    """A variable that starts at a fixed value."""

    type: Literal["initial_value"]
    value: Number


Variable = Annotated[
    NormalVariable | UniformVariable | InitialValueVariable, Field(discriminator="type")
]


class Action(Request):
    """Something agents can do at each step."""

    type: Literal["binary", "discrete", "continuous"]
    description: Description = ""


class AgentGroup(Request):
    """A population of similar agents."""

    id: Identifier
    name: Name
    description: Description = ""
    number_of_agents: int = Field(ge=1, le=MAX_AGENTS)
    variables: dict[FieldName, Variable] = Field(default_factory=dict, max_length=MAX_VARIABLES)
    actions: dict[FieldName, Action] = Field(default_factory=dict, max_length=MAX_ACTIONS)


class SimulationConfig(Request):
    """The Architect's output: what is simulated, over how many steps.

    At most :data:`MAX_GROUPS` groups, :data:`MAX_STEPS` steps and
    :data:`MAX_TIMELINE_CELLS` timeline cells in all.
    """

    step_unit: StepUnit
    number_of_steps: int = Field(ge=1, le=MAX_STEPS)
    agent_groups: list[AgentGroup] = Field(min_length=1, max_length=MAX_GROUPS)

    @model_validator(mode="after")
    def _bounded(self) -> SimulationConfig:
        cells = (self.number_of_steps + 1) * sum(
            1 + len(group.variables) + len(group.actions) for group in self.agent_groups
        )
        if cells > MAX_TIMELINE_CELLS:
            raise ValueError(
                f"config too large: (number_of_steps + 1) x (groups + variables + actions) is "
                f"{cells:,}, at most {MAX_TIMELINE_CELLS:,} are allowed"
            )
        return self


class CreateSimulation(Request):
    """Body of ``POST /v1/simulations``."""

    prompt: Prompt
    title: Title | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    scenario_id: Identifier | None = None
    metadata: FreeJson | None = None


class CreateSimulationWithConfig(CreateSimulation):
    """Body of ``POST /v1/simulations/with-config`` (the Architect is skipped)."""

    config: SimulationConfig


class ArchitectRun(Request):
    """Body of ``POST /v1/simulations/{id}/architect``; every field is optional."""

    prompt: Prompt | None = None
    max_turns: int | None = Field(default=None, ge=1, le=1_000)
    model: Identifier | None = None


class ScenarioCreate(Request):
    """Body of ``POST /v1/scenarios``."""

    name: Name
    description: Description | None = None


class ScenarioUpdate(Request):
    """Body of ``PUT /v1/scenarios/{id}``; omitted fields are kept."""

    name: Name | None = None
    description: Description | None = None


class KeyCreate(Request):
    """Body of ``POST /v1/keys``."""

    name: Name = "API key"
    rate_limit: int | None = Field(default=None, ge=1, le=10_000)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class KeyUpdate(Request):
    """Body of ``PATCH /v1/keys/{key_id}``; omitted fields are kept."""

    name: Name | None = None
    is_active: bool | None = None


class LifecycleEntry(BaseModel):
    """One entry of ``lifecycle.states``."""

    name: str
    at: str


class Lifecycle(BaseModel):
    """Append-only history of statuses."""

    states: list[LifecycleEntry]


class Simulation(BaseModel):
    """A simulation and where it is in its lifecycle."""

    id: str
    status: str
    title: str
    prompt: str
    tags: list[str]
    tenant_id: str
    scenario_id: str | None
    created_at: str
    updated_at: str
    lifecycle: Lifecycle
    error_log: str | None


class SimulationList(BaseModel):
    """``ListResponse<Simulation>``."""

    items: list[Simulation]
    total: int
    limit: int
    offset: int


class Analysis(BaseModel):
    """The Analyst's report."""

    executive_summary: str
    key_drivers: list[str]
    risks: list[str]
    recommendations: list[str]
    report_markdown: str


class SimulationResults(BaseModel):
    """Everything a finished simulation produced."""

    id: str
    status: str
    title: str
    prompt: str
    tags: list[str]
    tenant_id: str
    results_version: int
    config: SimulationConfig
    metrics: dict[str, Any]
    analysis: Analysis


class Scenario(BaseModel):
    """A folder of simulations."""

    id: str
    tenant_id: str
    name: str
    description: str | None
    created_at: str
    updated_at: str


class ScenarioList(BaseModel):
    """``ListResponse<Scenario>``."""

    items: list[Scenario]
    total: int
    limit: int
    offset: int


class KeyInfo(BaseModel):
    """``APIKeyInfo``: a key without its secret."""

    key_id: str
    tenant_id: str
    name: str
    is_active: bool
    rate_limit: int
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    usage_count: int


class KeyCreated(BaseModel):
    """Answer to ``POST /v1/keys``: the only time the plaintext ``api_key`` is shown."""

    key_id: str
    api_key: str
    tenant_id: str
    name: str
    rate_limit: int
    expires_at: str | None
    created_at: str


class KeyList(BaseModel):
    """Answer to ``GET /v1/keys`` (not the items/limit/offset envelope)."""

    keys: list[KeyInfo]
    total: int


class DetailError(BaseModel):
    """FastAPI-style error body."""

    detail: str


class StructuredError(BaseModel):
    """Structured error body used by 409 answers."""

    error: str
    message: str
    status: str


class RateLimitError(BaseModel):
    """Body of a 429 answer."""

    error: str
    message: str
    retry_after: int
