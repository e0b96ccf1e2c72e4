"""In-memory store: tenants, API keys, scenarios and simulations, with tenant checks.

Thread model: the store is only ever touched from the server's event loop thread (every
route is ``async def``, so FastAPI never runs one in its worker thread pool), which is why
it needs no lock. Helpers in other threads reach it over HTTP.

Every identifier and secret comes from one random generator seeded with the emulator seed,
so a given seed always hands out the same tenant, key and simulation ids in the same order
(the seed itself is random unless one is given). A server reachable from other machines
draws its key secrets from the OS's random source instead, whatever the seed.
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _content as content
from ._errors import (
    SIMULATION_COMPLETE,
    SIMULATION_FAILED,
    SIMULATION_NOT_COMPLETE,
    ApiError,
    conflict,
    forbidden,
    not_found,
)
from ._lifecycle import (
    ANALYST,
    COMPLETED_ANALYSIS,
    COMPLETED_CONFIG,
    FAILED,
    PENDING,
    PHASE_OF_PROCESSING,
    PHASES,
    PROCESSING_CONFIG,
    SIMULATOR,
    TERMINAL,
    Failure,
    Timeline,
    build_plan,
)
from ._timeutil import Clock, round_ms

DEFAULT_WINDOW = 3600.0
"""Rate-limit window: a fixed hour per key, of emulated time (divided by speed)."""

KEY_PREFIX = "twyn_test_"
"""The emulator issues test-environment keys: ``twyn_test_`` + 64 hex digits (documented)."""

DAY = 86400.0


@dataclass
class Tenant:
    """An account owning keys, scenarios and simulations."""

    id: str
    name: str
    created_at: float


@dataclass
class ApiKey:
    """An API key and its usage.

    ``window`` is the rate-limit window in real seconds when set through the control API;
    ``None`` means the documented hour, sped up like every other duration.
    """

    key_id: str
    secret: str
    tenant_id: str
    name: str
    rate_limit: int
    created_at: float
    expires_at: float | None = None
    is_active: bool = True
    last_used_at: float | None = None
    usage_count: int = 0
    window: float | None = None


@dataclass
class ScenarioRecord:
    """A scenario (a folder of simulations)."""

    id: str
    tenant_id: str
    name: str
    description: str | None
    created_at: float
    updated_at: float


@dataclass
class SimulationRecord:
    """A simulation: what was asked, its planned lifecycle and the config it runs."""

    id: str
    seq: int
    tenant_id: str
    prompt: str
    title: str
    tags: list[str]
    scenario_id: str | None
    metadata: dict[str, Any] | None
    created_at: float
    modified_at: float
    timeline: Timeline
    config: dict[str, Any]
    rng: random.Random
    failures: dict[str, Failure] = field(default_factory=dict)
    forced_status: str | None = None
    forced_until: float | None = None
    user_config: bool = False
    content_cache: tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None = None


class EmulatorState:
    """The emulator's data, and the operations the routes perform on it.

    Parameters
    ----------
    seed
        Seed of every id, secret and phase duration.
    speed
        Speed factor: phase durations are divided by it.
    rate_limit
        Default requests per window for new keys.
    clock
        Source of the current time (epoch seconds).
    random_secrets
        Draw key secrets from the OS's random source rather than from the seed.
    """

    def __init__(
        self,
        *,
        seed: int,
        speed: float,
        rate_limit: int,
        clock: Clock,
        random_secrets: bool = False,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.seed = seed
        self.speed = speed
        self.rate_limit = rate_limit
        self.clock = clock
        self._ids = random.Random(f"twyn-emulator:{seed}:ids")
        self._random_secrets = random_secrets
        self._seq = 0
        self.tenants: dict[str, Tenant] = {}
        self.keys: dict[str, ApiKey] = {}
        self._by_secret: dict[str, str] = {}
        self.scenarios: dict[str, ScenarioRecord] = {}
        self.simulations: dict[str, SimulationRecord] = {}

    def now(self) -> float:
        """Return the current time, rounded to the milliseconds the API reports."""
        return round_ms(self.clock())

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    # Tenants and keys ---------------------------------------------------------------------

    def new_tenant(self, name: str | None = None) -> tuple[Tenant, ApiKey]:
        """Create a tenant with one active key.

        Parameters
        ----------
        name
            Display name; generated when omitted.

        Returns
        -------
        tuple of Tenant and ApiKey
            The tenant and its first key.
        """
        tenant = Tenant(self._uuid(), name or f"Tenant {len(self.tenants) + 1}", self.now())
        self.tenants[tenant.id] = tenant
        key = self.create_key(tenant.id, name="Default key")
        return tenant, key

    def create_key(
        self,
        tenant_id: str,
        *,
        name: str,
        rate_limit: int | None = None,
        expires_in_days: int | None = None,
    ) -> ApiKey:
        """Issue a new ``twyn_test_`` key for a tenant."""
        now = self.now()
        key = ApiKey(
            key_id=f"key_{self._ids.getrandbits(48):012x}",
            secret=f"{KEY_PREFIX}{self._secret_hex()}",
            tenant_id=tenant_id,
            name=name,
            rate_limit=self.rate_limit if rate_limit is None else rate_limit,
            created_at=now,
            expires_at=None if expires_in_days is None else now + expires_in_days * DAY,
        )
        self.keys[key.key_id] = key
        self._by_secret[key.secret] = key.key_id
        return key

    def _secret_hex(self) -> str:
        """64 hex digits for a key secret."""
        if self._random_secrets:
            return secrets.token_hex(32)
        return f"{self._ids.getrandbits(256):064x}"

    def authenticate(self, secret: str | None) -> ApiKey | None:
        """Return the active, unexpired key with this secret, or ``None``."""
        if not secret:
            return None
        key = self.keys.get(self._by_secret.get(secret, ""))
        if key is None or not key.is_active:
            return None
        if key.expires_at is not None and key.expires_at <= self.clock():
            return None
        return key

    def key_by_secret(self, secret: str) -> ApiKey | None:
        """Return the key with this secret, active or not."""
        return self.keys.get(self._by_secret.get(secret, ""))

    def touch_key(self, key: ApiKey) -> None:
        """Record one authenticated use of a key."""
        key.usage_count += 1
        key.last_used_at = self.now()

    def get_key(self, tenant_id: str, key_id: str) -> ApiKey:
        """Return a tenant's key, or raise 404 (unknown) / 403 (another tenant's)."""
        key = self.keys.get(key_id)
        if key is None:
            raise not_found("API key", key_id)
        if key.tenant_id != tenant_id:
            raise forbidden("API key")
        return key

    def tenant_keys(self, tenant_id: str) -> list[ApiKey]:
        """Return a tenant's keys, oldest first."""
        return [key for key in self.keys.values() if key.tenant_id == tenant_id]

    def update_key(
        self, tenant_id: str, key_id: str, *, name: str | None, is_active: bool | None
    ) -> ApiKey:
        """Rename, disable or re-enable a key."""
        key = self.get_key(tenant_id, key_id)
        if name is not None:
            key.name = name
        if is_active is not None:
            key.is_active = is_active
        return key

    def delete_key(self, tenant_id: str, key_id: str) -> None:
        """Revoke a key permanently."""
        key = self.get_key(tenant_id, key_id)
        del self.keys[key.key_id]
        self._by_secret.pop(key.secret, None)

    # Scenarios ----------------------------------------------------------------------------

    def create_scenario(self, tenant_id: str, name: str, description: str | None) -> ScenarioRecord:
        """Create a scenario."""
        now = self.now()
        scenario = ScenarioRecord(self._uuid(), tenant_id, name, description, now, now)
        self.scenarios[scenario.id] = scenario
        return scenario

    def get_scenario(self, tenant_id: str, scenario_id: str) -> ScenarioRecord:
        """Return a tenant's scenario, or raise 404 / 403."""
        scenario = self.scenarios.get(scenario_id)
        if scenario is None:
            raise not_found("Scenario", scenario_id)
        if scenario.tenant_id != tenant_id:
            raise forbidden("scenario")
        return scenario

    def tenant_scenarios(self, tenant_id: str) -> list[ScenarioRecord]:
        """Return a tenant's scenarios, newest first."""
        found = [item for item in self.scenarios.values() if item.tenant_id == tenant_id]
        return found[::-1]

    def update_scenario(
        self, tenant_id: str, scenario_id: str, *, name: str | None, description: str | None
    ) -> ScenarioRecord:
        """Change a scenario's name and/or description."""
        scenario = self.get_scenario(tenant_id, scenario_id)
        if name is not None:
            scenario.name = name
        if description is not None:
            scenario.description = description
        scenario.updated_at = self.now()
        return scenario

    def delete_scenario(self, tenant_id: str, scenario_id: str) -> None:
        """Delete a scenario; its simulations stay, with ``scenario_id`` set to null."""
        scenario = self.get_scenario(tenant_id, scenario_id)
        del self.scenarios[scenario.id]
        now = self.now()
        for simulation in self.simulations.values():
            if simulation.scenario_id == scenario.id:
                simulation.scenario_id = None
                simulation.modified_at = now

    # Simulations --------------------------------------------------------------------------

    def create_simulation(
        self,
        tenant_id: str,
        *,
        prompt: str,
        title: str | None,
        tags: Sequence[str],
        scenario_id: str | None,
        metadata: dict[str, Any] | None,
        config: dict[str, Any] | None = None,
    ) -> SimulationRecord:
        """Create a simulation and plan its whole pipeline.

        Parameters
        ----------
        tenant_id
            Owner.
        prompt, title, tags, scenario_id, metadata
            As sent by the client; a missing title is generated from the prompt.
        config
            A user config (``with-config``): the Architect is skipped and the pipeline
            starts at COMPLETED_CONFIG.

        Returns
        -------
        SimulationRecord
            The new simulation, in ``PENDING``.
        """
        if scenario_id is not None:
            self.get_scenario(tenant_id, scenario_id)
        now = self.now()
        self._seq += 1
        rng = random.Random(f"twyn-emulator:{self.seed}:simulation:{self._seq}")
        failures = {phase: Failure(phase) for phase in content.fail_markers(prompt)}
        simulation = SimulationRecord(
            id=self._uuid(),
            seq=self._seq,
            tenant_id=tenant_id,
            prompt=prompt,
            title=title or content.make_title(prompt),
            tags=list(tags),
            scenario_id=scenario_id,
            metadata=metadata,
            created_at=now,
            modified_at=now,
            timeline=Timeline(),
            config=config if config is not None else content.generate_config(prompt),
            rng=rng,
            failures=failures,
            user_config=config is not None,
        )
        if config is None:
            self._plan(simulation, now, [PENDING], PHASES)
        else:
            self._plan(simulation, now, [PENDING, COMPLETED_CONFIG], (SIMULATOR, ANALYST))
        self.simulations[simulation.id] = simulation
        return simulation

    def _plan(
        self, simulation: SimulationRecord, start: float, head: Sequence[str], phases: Iterable[str]
    ) -> None:
        """Append a new pipeline run; a failure it uses is taken out of the waiting ones."""
        plan = build_plan(
            start,
            head,
            tuple(phases),
            rng=simulation.rng,
            speed=self.speed,
            failures=simulation.failures,
        )
        message = None
        if plan.failure is not None:
            simulation.failures.pop(plan.failure.phase, None)
            message = self._failure_text(simulation, plan.failure)
        simulation.timeline.extend(plan, message)

    def _failure_text(self, simulation: SimulationRecord, failure: Failure) -> str:
        """The failure's own message, or a canned one naming the config's groups and variables."""
        return failure.error_log or content.error_log_for(
            failure.phase, simulation.prompt, simulation.config
        )

    def _restart(self, simulation: SimulationRecord, now: float) -> None:
        """Drop the planned future, keeping a failure that had not happened yet."""
        pending = simulation.timeline.cut(now)
        if pending is not None:
            simulation.failures.setdefault(pending.phase, pending)
        simulation.content_cache = None
        simulation.modified_at = now

    def get_simulation(self, tenant_id: str, simulation_id: str) -> SimulationRecord:
        """Return a tenant's simulation, or raise 404 (unknown) / 403 (another tenant's)."""
        simulation = self.simulations.get(simulation_id)
        if simulation is None:
            raise not_found("Simulation", simulation_id)
        if simulation.tenant_id != tenant_id:
            raise forbidden("simulation")
        return simulation

    def real_status(self, simulation: SimulationRecord, now: float | None = None) -> str:
        """The status computed from the lifecycle, ignoring any forced status."""
        return simulation.timeline.status(self.clock() if now is None else now)

    def status(self, simulation: SimulationRecord, now: float | None = None) -> str:
        """The status reported to clients: a forced one while it lasts, else the real one."""
        moment = self.clock() if now is None else now
        if simulation.forced_status is not None:
            if simulation.forced_until is None or moment < simulation.forced_until:
                return simulation.forced_status
            simulation.forced_status = None
            simulation.forced_until = None
        return simulation.timeline.status(moment)

    def config_ready(self, simulation: SimulationRecord, now: float) -> bool:
        """Tell whether the config exists: a COMPLETED_CONFIG after the last Architect start."""
        latest = simulation.timeline.last_visible_of(
            now, frozenset({PROCESSING_CONFIG, COMPLETED_CONFIG})
        )
        return latest == COMPLETED_CONFIG

    def list_simulations(
        self,
        tenant_id: str,
        *,
        status: str | None,
        tag: str | None,
        created_after: float | None,
        created_before: float | None,
    ) -> list[SimulationRecord]:
        """Return a tenant's simulations matching every given filter, newest first.

        ``created_after`` and ``created_before`` are strict bounds, so a client can ask for
        what is new since the newest ``created_at`` it has seen.
        """
        now = self.clock()
        found = []
        for simulation in reversed(list(self.simulations.values())):
            if simulation.tenant_id != tenant_id:
                continue
            if status is not None and self.status(simulation, now) != status:
                continue
            if tag is not None and tag not in simulation.tags:
                continue
            if created_after is not None and simulation.created_at <= created_after:
                continue
            if created_before is not None and simulation.created_at >= created_before:
                continue
            found.append(simulation)
        return found

    def _ended(self, simulation: SimulationRecord, now: float) -> ApiError | None:
        """The 409 for a simulation in a terminal status (they stay terminal), else ``None``."""
        real = self.real_status(simulation, now)
        if real == FAILED:
            return conflict(
                SIMULATION_FAILED,
                f"Simulation failed: {simulation.timeline.error_log or 'unknown error'}",
                FAILED,
            )
        if real == COMPLETED_ANALYSIS:
            return conflict(
                SIMULATION_COMPLETE,
                "Simulation has completed; COMPLETED_ANALYSIS is final. Create a new simulation "
                "to change it",
                self.status(simulation, now),
            )
        return None

    def require_config(self, simulation: SimulationRecord) -> dict[str, Any]:
        """Return the config once the Architect has produced it, else raise 409.

        A simulation that failed before its config existed answers ``SIMULATION_FAILED``;
        one still designing it ``SIMULATION_NOT_COMPLETE`` with its current status.
        """
        now = self.clock()
        if self.config_ready(simulation, now):
            return simulation.config
        if self.real_status(simulation, now) == FAILED:
            ended = self._ended(simulation, now)
            assert ended is not None
            raise ended
        raise conflict(
            SIMULATION_NOT_COMPLETE,
            "Simulation is still running: the config is ready once the Architect completes",
            self.status(simulation, now),
        )

    def replace_config(self, simulation: SimulationRecord, config: dict[str, Any]) -> None:
        """Replace the config: back to COMPLETED_CONFIG, then Simulator and Analyst run again.

        Allowed from COMPLETED_CONFIG until the simulation ends.

        Raises
        ------
        ApiError
            409 with the structured body before COMPLETED_CONFIG and in the terminal
            statuses, COMPLETED_ANALYSIS and FAILED, which stay terminal.
        """
        ended = self._ended(simulation, self.clock())
        if ended is not None:
            raise ended
        self.require_config(simulation)
        now = self.now()
        self._restart(simulation, now)
        simulation.config = config
        simulation.user_config = True
        self._plan(simulation, now, [COMPLETED_CONFIG], (SIMULATOR, ANALYST))

    def rerun_architect(self, simulation: SimulationRecord, prompt: str | None) -> None:
        """Run the Architect again (from PROCESSING_CONFIG), then the rest of the pipeline.

        Raises
        ------
        ApiError
            409 with the structured body in the terminal statuses (COMPLETED_ANALYSIS,
            FAILED), and 409 ``{"detail", "status"}`` for a simulation that runs the user's
            own config (created with ``with-config`` or given one by ``PUT .../config``):
            a new design would silently replace that config.
        """
        now = self.now()
        ended = self._ended(simulation, now)
        if ended is not None:
            raise ended
        if simulation.user_config:
            raise ApiError(
                409,
                {
                    "detail": "This simulation runs a config you supplied; re-running the "
                    "Architect would replace it. Edit it with PUT .../config instead",
                    "status": self.status(simulation, now),
                },
            )
        self._restart(simulation, now)
        design_prompt = prompt or simulation.prompt
        if prompt is not None:
            for phase in content.fail_markers(prompt):
                simulation.failures[phase] = Failure(phase)
        simulation.config = content.generate_config(design_prompt)
        self._plan(simulation, now, [], PHASES)

    def require_results(self, simulation: SimulationRecord) -> str:
        """Return the status of a finished simulation, else raise 409 (running or failed)."""
        now = self.clock()
        real = self.real_status(simulation, now)
        if real == FAILED:
            ended = self._ended(simulation, now)
            assert ended is not None
            raise ended
        if real != COMPLETED_ANALYSIS:
            raise conflict(
                SIMULATION_NOT_COMPLETE,
                "Simulation is still running",
                self.status(simulation, now),
            )
        return self.status(simulation, now)

    # Control operations -------------------------------------------------------------------

    def lookup_simulation(self, simulation_id: str) -> SimulationRecord:
        """Return any tenant's simulation, or raise 404."""
        simulation = self.simulations.get(simulation_id)
        if simulation is None:
            raise not_found("Simulation", simulation_id)
        return simulation

    def fail(self, simulation: SimulationRecord, error_log: str | None, phase: str | None) -> str:
        """Make a simulation fail now, or when it reaches ``phase``.

        Returns
        -------
        str
            ``"now"``, ``"scheduled"`` (the plan reaches that phase later) or ``"deferred"``
            (the phase is not ahead in the current plan: it fails the next time it runs, after
            a config edit or an Architect re-run).

        Raises
        ------
        ApiError
            409 when the simulation already ended and no phase was given.
        """
        now = self.now()
        timeline = simulation.timeline
        real = timeline.status(now)
        running = PHASE_OF_PROCESSING.get(real)
        if phase is None or phase == running:
            if real in TERMINAL:
                raise conflict(
                    "SIMULATION_NOT_RUNNING",
                    "Simulation has already finished",
                    self.status(simulation, now),
                )
            blamed = running or timeline.upcoming_phase(now) or ANALYST
            message = error_log or content.error_log_for(
                blamed, simulation.prompt, simulation.config
            )
            timeline.fail_now(now, message, blamed)
            simulation.modified_at = now
            return "now"
        failure = Failure(phase, error_log)
        message = self._failure_text(simulation, failure)
        if real not in TERMINAL and timeline.fail_when_reached(now, failure, message):
            simulation.modified_at = now
            return "scheduled"
        simulation.failures[phase] = failure
        return "deferred"

    def force_status(
        self, simulation: SimulationRecord, status: str, duration: float | None
    ) -> None:
        """Report ``status`` instead of the real one for ``duration`` seconds (forever if None)."""
        simulation.forced_status = status
        simulation.forced_until = None if duration is None else self.clock() + duration

    def remove_simulation(self, simulation_id: str) -> None:
        """Forget a simulation entirely (later requests answer 404)."""
        if self.simulations.pop(simulation_id, None) is None:
            raise not_found("Simulation", simulation_id)
