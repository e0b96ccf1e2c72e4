"""Pydantic models of the public v1 API: request bodies and documented response shapes.

Field names follow the docs' data models (SimulationConfig, AgentGroup, variables, actions,
Simulation, SimulationResults, Scenario, APIKeyInfo, ListResponse). Response models are
declared on the routes so that ``/docs`` and ``/openapi.json`` describe the same shapes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

StepUnit = Literal["day", "week", "month", "quarter", "year"]


class NormalVariable(BaseModel):
    """A variable drawn from a normal distribution."""

    type: Literal["normal"]
    mean: float
    std: float = Field(ge=0)


class UniformVariable(BaseModel):
    """A variable drawn uniformly between ``min`` and ``max``."""

    type: Literal["uniform"]
    min: float
    max: float


class InitialValueVariable(BaseModel):
    """A variable that starts at a fixed value."""

    type: Literal["initial_value"]
    value: float


Variable = Annotated[
    NormalVariable | UniformVariable | InitialValueVariable, Field(discriminator="type")
]


class Action(BaseModel):
    """Something agents can do at each step."""

    type: Literal["binary", "discrete", "continuous"]
    description: str = ""


class AgentGroup(BaseModel):
    """A population of similar agents."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""
    number_of_agents: int = Field(ge=1, le=1_000_000)
    variables: dict[str, Variable] = Field(default_factory=dict)
    actions: dict[str, Action] = Field(default_factory=dict)


class SimulationConfig(BaseModel):
    """The Architect's output: what is simulated, over how many steps."""

    step_unit: StepUnit
    number_of_steps: int = Field(ge=1, le=1000)
    agent_groups: list[AgentGroup] = Field(min_length=1)


class CreateSimulation(BaseModel):
    """Body of ``POST /v1/simulations``."""

    prompt: str = Field(min_length=1)
    title: str | None = None
    tags: list[str] = Field(default_factory=list)
    scenario_id: str | None = None
    metadata: dict[str, Any] | None = None


class CreateSimulationWithConfig(CreateSimulation):
    """Body of ``POST /v1/simulations/with-config`` (the Architect is skipped)."""

    config: SimulationConfig


class ArchitectRun(BaseModel):
    """Body of ``POST /v1/simulations/{id}/architect``; every field is optional."""

    prompt: str | None = Field(default=None, min_length=1)
    max_turns: int | None = Field(default=None, ge=1)
    model: str | None = None


class ScenarioCreate(BaseModel):
    """Body of ``POST /v1/scenarios``."""

    name: str = Field(min_length=1)
    description: str | None = None


class ScenarioUpdate(BaseModel):
    """Body of ``PUT /v1/scenarios/{id}``; omitted fields are kept."""

    name: str | None = Field(default=None, min_length=1)
    description: str | None = None


class KeyCreate(BaseModel):
    """Body of ``POST /v1/keys``."""

    name: str = Field(default="API key", min_length=1)
    rate_limit: int | None = Field(default=None, ge=1, le=10_000)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class KeyUpdate(BaseModel):
    """Body of ``PATCH /v1/keys/{key_id}``; omitted fields are kept."""

    name: str | None = Field(default=None, min_length=1)
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
