"""Plain data for the Twyn v1 API: statuses, phases, simulations, results, rate limits.

No I/O here. Parsers are tolerant of missing optional fields and strict about required ones:
a required field missing or of the wrong type raises :class:`~twyn_widgets.errors.ProtocolError`
naming it. Unknown status strings (a future API) are kept as they are, never a crash.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import InvalidIdError, ProtocolError

if TYPE_CHECKING:
    import pandas as pd

    from .client import TwynClient

__all__ = [
    "Analysis",
    "GroupMetrics",
    "LifecycleEntry",
    "Metrics",
    "Phase",
    "RateLimit",
    "Scenario",
    "Simulation",
    "SimulationPage",
    "SimulationRef",
    "SimulationResult",
    "Status",
    "TimeStep",
    "check_id",
    "parse_timestamp",
    "simulation_id",
]


class Status(str, enum.Enum):
    """A simulation status: the eight documented ones, or any other string the server sends.

    ``Status("QUEUED")`` gives a status that is not one of the members but compares, hashes and
    prints as its string, so a future API status is shown as it is and never crashes.
    """

    PENDING = "PENDING"
    PROCESSING_CONFIG = "PROCESSING_CONFIG"
    COMPLETED_CONFIG = "COMPLETED_CONFIG"
    PROCESSING_SIMULATION = "PROCESSING_SIMULATION"
    COMPLETED_SIMULATION = "COMPLETED_SIMULATION"
    PROCESSING_ANALYSIS = "PROCESSING_ANALYSIS"
    COMPLETED_ANALYSIS = "COMPLETED_ANALYSIS"
    FAILED = "FAILED"

    @classmethod
    def _missing_(cls, value: object) -> Status | None:
        # Why: an Enum refuses unknown values; the API may add statuses, so an unknown
        # string becomes a pseudo-member that behaves as the plain string.
        if isinstance(value, str) and value:
            member = str.__new__(cls, value)
            member._name_ = value
            member._value_ = value
            return member
        return None

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_known(self) -> bool:
        """Whether this is one of the eight documented statuses."""
        return self.value in _KNOWN

    @property
    def is_terminal(self) -> bool:
        """Whether polling stops here (COMPLETED_ANALYSIS or FAILED)."""
        return self.value in ("COMPLETED_ANALYSIS", "FAILED")

    @property
    def is_success(self) -> bool:
        """Whether this is COMPLETED_ANALYSIS."""
        return self.value == "COMPLETED_ANALYSIS"

    @property
    def phase(self) -> Phase | None:
        """The phase this status belongs to, as the docs map them; ``None`` for FAILED/unknown."""
        return _STATUS_PHASE.get(self.value)

    @property
    def order(self) -> int:
        """Position in the documented pipeline (0-6); -1 for FAILED and unknown statuses."""
        return _ORDER.get(self.value, -1)


_KNOWN = frozenset(s.value for s in Status)
_ORDER = {
    s: i
    for i, s in enumerate(
        (
            "PENDING",
            "PROCESSING_CONFIG",
            "COMPLETED_CONFIG",
            "PROCESSING_SIMULATION",
            "COMPLETED_SIMULATION",
            "PROCESSING_ANALYSIS",
            "COMPLETED_ANALYSIS",
        )
    )
}


class Phase(enum.Enum):
    """The three phases of a simulation, with the durations the docs give (seconds)."""

    ARCHITECT = ("Architect", 1, 60.0, 120.0, "PROCESSING_CONFIG", "COMPLETED_CONFIG")
    SIMULATOR = ("Simulator", 2, 120.0, 240.0, "PROCESSING_SIMULATION", "COMPLETED_SIMULATION")
    ANALYST = ("Analyst", 3, 60.0, 120.0, "PROCESSING_ANALYSIS", "COMPLETED_ANALYSIS")

    def __init__(
        self, label: str, number: int, min_s: float, max_s: float, processing: str, completed: str
    ) -> None:
        self.label = label
        self.number = number
        self.min_seconds = min_s
        self.max_seconds = max_s
        self.processing_status = Status(processing)
        self.completed_status = Status(completed)

    @property
    def expected_seconds(self) -> float:
        """The middle of the documented range, in real seconds."""
        return (self.min_seconds + self.max_seconds) / 2

    def __str__(self) -> str:
        return self.label


_STATUS_PHASE: dict[str, Phase] = {
    "PENDING": Phase.ARCHITECT,
    "PROCESSING_CONFIG": Phase.ARCHITECT,
    "COMPLETED_CONFIG": Phase.ARCHITECT,
    "PROCESSING_SIMULATION": Phase.SIMULATOR,
    "COMPLETED_SIMULATION": Phase.SIMULATOR,
    "PROCESSING_ANALYSIS": Phase.ANALYST,
    "COMPLETED_ANALYSIS": Phase.ANALYST,
}

# --- field readers: strict about required fields, tolerant of optional ones -----------------

_T = TypeVar("_T")


def _require(data: Mapping[str, Any], name: str, kind: type[_T], where: str) -> _T:
    if not isinstance(data, Mapping):
        raise ProtocolError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if name not in data or data[name] is None:
        raise ProtocolError(f"{where}: required field {name!r} is missing")
    value = data[name]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ProtocolError(
            f"{where}: field {name!r} should be {kind.__name__}, got {type(value).__name__}"
        )
    return value


def _optional(data: Mapping[str, Any], name: str, kind: type[_T], where: str) -> _T | None:
    if data.get(name) is None:
        return None
    return _require(data, name, kind, where)


def _str_list(data: Mapping[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = data.get(name)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ProtocolError(f"{where}: field {name!r} should be a list")
    return tuple(str(v) for v in value)


def parse_timestamp(text: str, where: str = "timestamp") -> datetime:
    """Parse ISO-8601 (``Z`` or an offset; naive means UTC) to an aware UTC datetime."""
    if not isinstance(text, str):
        raise ProtocolError(f"{where}: expected an ISO-8601 string, got {type(text).__name__}")
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ProtocolError(f"{where}: {text!r} is not an ISO-8601 timestamp") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _time(data: Mapping[str, Any], name: str, where: str) -> datetime:
    return parse_timestamp(_require(data, name, str, where), f"{where}.{name}")


def _optional_time(data: Mapping[str, Any], name: str, where: str) -> datetime | None:
    value = _optional(data, name, str, where)
    return None if value is None else parse_timestamp(value, f"{where}.{name}")


# --- reprs ---------------------------------------------------------------------------------

REPR_LIMIT = 200
"""The longest ``repr`` of a simulation, a result, metrics or an analysis: one line."""


def _short(text: str, limit: int) -> str:
    """``repr`` of ``text`` cut to ``limit`` characters (an ellipsis marks the cut)."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def one_line_repr(kind: str, /, **parts: object) -> str:
    """``Name(a=1, b='x')`` on one line of at most :data:`REPR_LIMIT` characters.

    Strings are shown with ``repr`` (so a newline shows as ``\\n``), ids cut to 40 characters
    and other strings to 50; ``None`` parts are left out.
    """
    shown = []
    for key, value in parts.items():
        if value is None:
            continue
        if isinstance(value, str):
            value = _short(value, 40 if key == "id" else 50)
        shown.append(f"{key}={value}")
    text = f"{kind}({', '.join(shown)})"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 2] + "…)"


# --- simulations ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LifecycleEntry:
    """One entry of ``lifecycle.states``: a status and when it was entered (UTC)."""

    status: Status
    at: datetime


@dataclass(frozen=True, slots=True)
class Simulation:
    """A simulation as ``GET /v1/simulations/{id}`` returns it.

    ``raw`` keeps the whole JSON object, so fields this version does not model are not lost.
    ``client`` is the :class:`~twyn_widgets.TwynClient` that returned it (``None`` for one
    built by hand): watchers, boards and ``%twyn_wait`` use it, so a simulation is always
    watched on the server it came from. It takes no part in equality, repr or pickling.
    """

    id: str
    status: Status
    title: str
    prompt: str
    tags: tuple[str, ...] = ()
    tenant_id: str | None = None
    scenario_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    lifecycle: tuple[LifecycleEntry, ...] = ()
    error_log: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    client: TwynClient | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        # Why short: a simulation is often the last line of a cell; the prompt and the raw
        # JSON would fill the screen. The fields stay one attribute away.
        return one_line_repr(
            "Simulation",
            id=self.id,
            title=self.title,
            status=str(self.status),
            phase=None if self.phase is None else self.phase.label,
            **{"len(lifecycle)": len(self.lifecycle), "len(tags)": len(self.tags)},
        )

    def __getstate__(self) -> tuple[Any, ...]:
        # Why: a client holds sessions, threads and the key; a pickled simulation is data only.
        return tuple(None if f.name == "client" else getattr(self, f.name) for f in fields(self))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for f, value in zip(fields(self), state, strict=True):
            object.__setattr__(self, f.name, value)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], client: TwynClient | None = None) -> Simulation:
        """Build a simulation from the API's JSON object (``client``: the one that fetched it).

        Raises
        ------
        ProtocolError
            A required field (``id``, ``status``) is missing or of the wrong type.
        """
        where = "simulation"
        sim_id = _require(data, "id", str, where)
        where = f"simulation {sim_id}"
        lifecycle: list[LifecycleEntry] = []
        states = data.get("lifecycle")
        if states is not None:
            if not isinstance(states, Mapping) or not isinstance(states.get("states", []), list):
                raise ProtocolError(f"{where}: 'lifecycle' should be {{'states': [...]}}")
            for i, entry in enumerate(states.get("states") or []):
                spot = f"{where}.lifecycle.states[{i}]"
                lifecycle.append(
                    LifecycleEntry(
                        Status(_require(entry, "name", str, spot)), _time(entry, "at", spot)
                    )
                )
        return cls(
            id=sim_id,
            status=Status(_require(data, "status", str, where)),
            title=_optional(data, "title", str, where) or "",
            prompt=_optional(data, "prompt", str, where) or "",
            tags=_str_list(data, "tags", where),
            tenant_id=_optional(data, "tenant_id", str, where),
            scenario_id=_optional(data, "scenario_id", str, where),
            created_at=_optional_time(data, "created_at", where),
            updated_at=_optional_time(data, "updated_at", where),
            lifecycle=tuple(lifecycle),
            error_log=_optional(data, "error_log", str, where),
            raw=dict(data),
            client=client,
        )

    @property
    def phase(self) -> Phase | None:
        """The current phase; for FAILED, the phase that failed."""
        return self.status.phase or self.failed_phase

    @property
    def failed_phase(self) -> Phase | None:
        """The phase that failed: the last PROCESSING_* entry before FAILED (FAILED is appended)."""
        if self.status is not Status.FAILED:
            return None
        for entry in reversed(self.lifecycle):
            phase = entry.status.phase
            if phase is not None and entry.status == phase.processing_status:
                return phase
        return None

    def entered(self, status: Status | str) -> datetime | None:
        """When the simulation last entered ``status``, from the lifecycle."""
        for entry in reversed(self.lifecycle):
            if entry.status == status:
                return entry.at
        return None

    @property
    def started_at(self) -> datetime | None:
        """When the simulation was created (first lifecycle entry, else ``created_at``)."""
        return self.lifecycle[0].at if self.lifecycle else self.created_at

    @property
    def finished_at(self) -> datetime | None:
        """When it reached COMPLETED_ANALYSIS or FAILED, or ``None`` while running."""
        if not self.status.is_terminal:
            return None
        return self.entered(self.status)

    def phase_durations(self) -> dict[Phase, timedelta]:
        """Each finished phase's duration, as the docs compute it.

        That is ``at(COMPLETED_X) - at(PROCESSING_X)`` for each phase X that has both.
        """
        out: dict[Phase, timedelta] = {}
        for phase in Phase:
            start = self.entered(phase.processing_status)
            end = self.entered(phase.completed_status)
            if start is not None and end is not None and end >= start:
                out[phase] = end - start
        return out

    @property
    def total_duration(self) -> timedelta | None:
        """From creation to COMPLETED_ANALYSIS or FAILED, or ``None`` while running."""
        start, end = self.started_at, self.finished_at
        return end - start if start is not None and end is not None else None


@dataclass(frozen=True, slots=True)
class SimulationPage:
    """One page of ``GET /v1/simulations``: ``{items, total, limit, offset}``."""

    items: tuple[Simulation, ...]
    total: int
    limit: int
    offset: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any], client: TwynClient | None = None) -> SimulationPage:
        """Build a page from the list endpoint's JSON (``client``: the one that fetched it)."""
        items = _require(data, "items", list, "simulation list")
        return cls(
            items=tuple(Simulation.from_json(item, client) for item in items),
            total=_optional(data, "total", int, "simulation list") or len(items),
            limit=_optional(data, "limit", int, "simulation list") or len(items),
            offset=_optional(data, "offset", int, "simulation list") or 0,
        )

    def next_offset(self, offset: int) -> int | None:
        """The ``offset`` of the page after this one, asked for at ``offset``; ``None`` at the end.

        The one paging rule, shared by ``TwynClient.iter_simulations`` and the poller's list
        calls: the next page starts after this page's items, and there is none once a page
        comes back empty or the items so far reach ``total``.
        """
        following = offset + len(self.items)
        return None if not self.items or following >= self.total else following


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Analysis:
    """The Analyst's write-up."""

    executive_summary: str = ""
    key_drivers: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    recommendations: tuple[str, ...] = ()
    report_markdown: str = ""

    def __repr__(self) -> str:
        return one_line_repr(
            "Analysis",
            executive_summary=self.executive_summary,
            **{
                "len(key_drivers)": len(self.key_drivers),
                "len(risks)": len(self.risks),
                "len(recommendations)": len(self.recommendations),
                "len(report_markdown)": len(self.report_markdown),
            },
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Analysis:
        """Build from the ``analysis`` object; every field is optional."""
        if data is None:
            return cls()
        where = "analysis"
        if not isinstance(data, Mapping):
            raise ProtocolError(f"{where}: expected a JSON object")
        return cls(
            executive_summary=_optional(data, "executive_summary", str, where) or "",
            key_drivers=_str_list(data, "key_drivers", where),
            risks=_str_list(data, "risks", where),
            recommendations=_str_list(data, "recommendations", where),
            report_markdown=_optional(data, "report_markdown", str, where) or "",
        )


def _numbers(data: Any, where: str) -> dict[str, float]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ProtocolError(f"{where}: expected an object of numbers")
    out: dict[str, float] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProtocolError(f"{where}.{key}: expected a number, got {type(value).__name__}")
        out[str(key)] = float(value)
    return out


@dataclass(frozen=True, slots=True)
class TimeStep:
    """One step of a group's timeline: variable values and action rates or values."""

    step: int
    variables: Mapping[str, float]
    actions: Mapping[str, float]
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class GroupMetrics:
    """The timeline of one agent group."""

    group_id: str
    timeline: tuple[TimeStep, ...]

    def series(self, name: str) -> list[float]:
        """The values of one variable or action over the timeline (NaN where absent)."""
        out = []
        for step in self.timeline:
            value = step.variables.get(name, step.actions.get(name))
            out.append(float("nan") if value is None else value)
        return out

    @property
    def names(self) -> tuple[list[str], list[str]]:
        """The variable names and the action names seen in the timeline, in first-seen order."""
        variables: dict[str, None] = {}
        actions: dict[str, None] = {}
        for step in self.timeline:
            variables.update(dict.fromkeys(step.variables))
            actions.update(dict.fromkeys(step.actions))
        return list(variables), list(actions)


@dataclass(frozen=True, slots=True)
class Metrics:
    """``metrics``: a timeline per agent group, plus the optional untyped ``global`` part."""

    by_group: tuple[GroupMetrics, ...] = ()
    global_: Any = None

    def __repr__(self) -> str:
        return one_line_repr("Metrics", steps=self.steps, **{"len(by_group)": len(self.by_group)})

    @property
    def steps(self) -> int:
        """The longest group timeline's number of steps."""
        return max((len(group.timeline) for group in self.by_group), default=0)

    def to_frame(self, simulation_id: str = "") -> pd.DataFrame:
        """The metrics as a tidy long pandas DataFrame: one row per group, step and metric.

        Parameters
        ----------
        simulation_id
            The value of the ``simulation_id`` column (:meth:`SimulationResult.to_frame`
            gives the result's id).

        Returns
        -------
        pandas.DataFrame
            Exactly the columns ``simulation_id``, ``group``, ``step``, ``metric``, ``kind``
            and ``value``: ``step`` is int64, ``value`` float64 (NaN stays NaN), ``kind`` is
            ``"variable"`` or ``"action"``; ``simulation_id``, ``group``, ``metric`` and
            ``kind`` are categoricals. Rows follow the timeline: group by group, step by step,
            variables then actions.

        Raises
        ------
        ImportError
            pandas is not installed (``pip install 'twyn-widgets[pandas]'``).
        """
        from ._frames import metrics_frame

        return metrics_frame(self, simulation_id)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Metrics:
        """Build from the ``metrics`` object."""
        if data is None:
            return cls()
        groups = []
        for i, group in enumerate(_require(data, "by_group", list, "metrics")):
            where = f"metrics.by_group[{i}]"
            steps = []
            for j, step in enumerate(_require(group, "timeline", list, where)):
                spot = f"{where}.timeline[{j}]"
                steps.append(
                    TimeStep(
                        step=_require(step, "step", int, spot),
                        variables=_numbers(step.get("variables"), f"{spot}.variables"),
                        actions=_numbers(step.get("actions"), f"{spot}.actions"),
                        timestamp=_optional(step, "timestamp", str, spot),
                    )
                )
            groups.append(GroupMetrics(_require(group, "group_id", str, where), tuple(steps)))
        return cls(by_group=tuple(groups), global_=data.get("global"))

    def group(self, group_id: str) -> GroupMetrics:
        """The metrics of one agent group, by id."""
        for group in self.by_group:
            if group.group_id == group_id:
                return group
        raise KeyError(group_id)


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What ``GET /v1/simulations/{id}/results`` returns for a finished simulation.

    ``config`` is kept as the API's JSON object (its schema is documented but open-ended);
    ``simulation`` is the last status snapshot, when the result came from a watch, for the
    lifecycle and the per-phase durations.
    """

    id: str
    status: Status
    title: str
    prompt: str
    config: Mapping[str, Any]
    metrics: Metrics
    analysis: Analysis
    tags: tuple[str, ...] = ()
    tenant_id: str | None = None
    results_version: int = 1
    simulation: Simulation | None = field(default=None, compare=False)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], simulation: Simulation | None = None
    ) -> SimulationResult:
        """Build from the results endpoint's JSON (and the last simulation snapshot, if any)."""
        where = "results"
        sim_id = _require(data, "id", str, where)
        config = data.get("config")
        if config is not None and not isinstance(config, Mapping):
            raise ProtocolError(f"results {sim_id}: 'config' should be an object")
        return cls(
            id=sim_id,
            status=Status(_optional(data, "status", str, where) or "COMPLETED_ANALYSIS"),
            title=_optional(data, "title", str, where) or (simulation.title if simulation else ""),
            prompt=_optional(data, "prompt", str, where)
            or (simulation.prompt if simulation else ""),
            config=dict(config or {}),
            metrics=Metrics.from_json(data.get("metrics")),
            analysis=Analysis.from_json(data.get("analysis")),
            tags=_str_list(data, "tags", where),
            tenant_id=_optional(data, "tenant_id", str, where),
            results_version=_optional(data, "results_version", int, where) or 1,
            simulation=simulation,
            raw=dict(data),
        )

    def __repr__(self) -> str:
        # Why short: ``res`` as a cell's last line printed 4,797 characters of config and
        # timeline; the notebook shows _repr_html_, terminals this line.
        return one_line_repr(
            "SimulationResult",
            id=self.id,
            title=self.title,
            status=str(self.status),
            **{
                "len(metrics.by_group)": len(self.metrics.by_group),
                "metrics.steps": self.metrics.steps,
                "len(analysis.key_drivers)": len(self.analysis.key_drivers),
            },
        )

    def _repr_html_(self) -> str:
        """The watcher's result view: title, durations, analysis and charts."""
        # Why a late import: only a notebook asking for HTML pays for the renderer. It imports
        # nothing of the models at run time, so this is no import cycle.
        from ._render import result_html

        return result_html(self)

    def to_frame(self) -> pd.DataFrame:
        """The metrics as a tidy long pandas DataFrame, one row per group, step and metric.

        Returns
        -------
        pandas.DataFrame
            Exactly the columns ``simulation_id``, ``group``, ``step``, ``metric``, ``kind``
            (``"variable"`` or ``"action"``) and ``value``; see :meth:`Metrics.to_frame`.
            ``pd.concat([r.to_frame() for r in results])`` stacks several runs.

        Raises
        ------
        ImportError
            pandas is not installed (``pip install 'twyn-widgets[pandas]'``).

        Examples
        --------
        ``df = result.to_frame()``, then
        ``df[df.metric == "churn"].pivot(index="step", columns="group", values="value")``
        is one column per group, one row per step.
        """
        return self.metrics.to_frame(simulation_id=self.id)

    @property
    def agent_groups(self) -> list[Mapping[str, Any]]:
        """The config's agent groups (each a JSON object with id, name, variables, actions)."""
        groups = self.config.get("agent_groups")
        return [g for g in groups if isinstance(g, Mapping)] if isinstance(groups, list) else []


# --- other resources -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    """A scenario: a folder of simulations."""

    id: str
    name: str
    description: str | None = None
    tenant_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from the API's scenario object."""
        where = "scenario"
        return cls(
            id=_require(data, "id", str, where),
            name=_optional(data, "name", str, where) or "",
            description=_optional(data, "description", str, where),
            tenant_id=_optional(data, "tenant_id", str, where),
            created_at=_optional_time(data, "created_at", where),
            updated_at=_optional_time(data, "updated_at", where),
        )


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The last ``X-RateLimit-*`` headers seen: the key's budget, what is left, when it resets."""

    limit: int | None
    remaining: int | None
    reset: float | None
    """Unix epoch seconds (real time, never scaled)."""

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        """Read the three headers (case-insensitive mapping); ``None`` when none is present."""

        def number(name: str) -> float | None:
            value = headers.get(name)
            if value is None:
                return None
            try:
                return float(value)
            except ValueError:
                return None

        limit = number("X-RateLimit-Limit")
        remaining = number("X-RateLimit-Remaining")
        reset = number("X-RateLimit-Reset")
        if limit is None and remaining is None and reset is None:
            return None
        return cls(
            limit=None if limit is None else int(limit),
            remaining=None if remaining is None else int(remaining),
            reset=reset,
        )

    def seconds_to_reset(self, now: float) -> float | None:
        """Seconds from the epoch time ``now`` to the reset, or ``None`` when unknown."""
        return None if self.reset is None else max(0.0, self.reset - now)


# --- ids -------------------------------------------------------------------------------------

SimulationRef = str | Simulation | Mapping[str, Any]
"""What the client accepts for a simulation: its id, a :class:`Simulation`, or the API's dict."""

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,127}")


def check_id(value: object, what: str) -> str:
    """``value`` if it is a safe id for a URL path, else :class:`InvalidIdError` naming ``what``."""
    __tracebackhide__ = True  # the caller's line shows (see twyn_widgets._tracebacks)
    if not isinstance(value, str) or not _ID.fullmatch(value):
        shown = repr(value)[:40] + ("..." if len(repr(value)) > 40 else "")
        raise InvalidIdError(
            f"{what} {shown} is not a valid id (letters, digits, '-' and '_', 1-128 characters)"
        )
    return value


def simulation_id(simulation: SimulationRef) -> str:
    """The validated id of a simulation given as an id, a :class:`Simulation` or the API's dict.

    Raises
    ------
    InvalidIdError
        The id could reach another path (``/``, ``..``, ``?``, ``#``, ``%``, spaces, control
        characters, non-ASCII, over 128 characters): refused before any request.
    """
    __tracebackhide__ = True
    if isinstance(simulation, Simulation):
        return check_id(simulation.id, "simulation id")
    if isinstance(simulation, Mapping):
        return check_id(simulation.get("id"), "simulation id")
    return check_id(simulation, "simulation id")
