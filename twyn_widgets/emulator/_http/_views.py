"""JSON views of the store's records, in the shapes of the docs' data models."""

from __future__ import annotations

from typing import Any

from .._domain import FAILED, ApiKey, EmulatorState, ScenarioRecord, SimulationRecord, iso_ms

FORCED_FAILURE = "Simulation failed (status forced by the emulator control API)"

JSON = dict[str, Any]


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else iso_ms(epoch)


def simulation_view(state: EmulatorState, simulation: SimulationRecord, now: float) -> JSON:
    """Render a Simulation object as seen at ``now``.

    ``error_log`` and ``scenario_id`` are always present: a string on FAILED and null
    otherwise, and null when the simulation is in no scenario.
    """
    timeline = simulation.timeline
    status = state.status(simulation, now)
    error_log: str | None = None
    if status == FAILED:
        real_failure = state.real_status(simulation, now) == FAILED
        error_log = timeline.error_log if real_failure and timeline.error_log else FORCED_FAILURE
    return {
        "id": simulation.id,
        "status": status,
        "title": simulation.title,
        "prompt": simulation.prompt,
        "tags": list(simulation.tags),
        "tenant_id": simulation.tenant_id,
        "scenario_id": simulation.scenario_id,
        "created_at": iso_ms(simulation.created_at),
        "updated_at": iso_ms(max(simulation.modified_at, timeline.last_at(now))),
        "lifecycle": {
            "states": [
                {"name": entry.name, "at": iso_ms(entry.at)} for entry in timeline.visible(now)
            ]
        },
        "error_log": error_log,
    }


def results_head(state: EmulatorState, simulation: SimulationRecord, now: float) -> JSON:
    """Render SimulationResults without ``metrics`` and ``analysis`` (``results_version`` 1)."""
    return {
        "id": simulation.id,
        "status": state.status(simulation, now),
        "title": simulation.title,
        "prompt": simulation.prompt,
        "tags": list(simulation.tags),
        "tenant_id": simulation.tenant_id,
        "results_version": 1,
        "config": simulation.config,
    }


def scenario_view(scenario: ScenarioRecord) -> JSON:
    """Render a Scenario."""
    return {
        "id": scenario.id,
        "tenant_id": scenario.tenant_id,
        "name": scenario.name,
        "description": scenario.description,
        "created_at": iso_ms(scenario.created_at),
        "updated_at": iso_ms(scenario.updated_at),
    }


def key_info_view(key: ApiKey) -> JSON:
    """Render APIKeyInfo (never the secret)."""
    return {
        "key_id": key.key_id,
        "tenant_id": key.tenant_id,
        "name": key.name,
        "is_active": key.is_active,
        "rate_limit": key.rate_limit,
        "created_at": iso_ms(key.created_at),
        "expires_at": _iso(key.expires_at),
        "last_used_at": _iso(key.last_used_at),
        "usage_count": key.usage_count,
    }


def key_created_view(key: ApiKey) -> JSON:
    """Render the answer to a key creation: the only place the plaintext key appears."""
    return {
        "key_id": key.key_id,
        "api_key": key.secret,
        "tenant_id": key.tenant_id,
        "name": key.name,
        "rate_limit": key.rate_limit,
        "expires_at": _iso(key.expires_at),
        "created_at": iso_ms(key.created_at),
    }
