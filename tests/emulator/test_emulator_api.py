"""Every /v1 endpoint of the docs' catalogue, with the documented status codes and bodies."""

from __future__ import annotations

import re
from typing import Any

import requests

from twyn_widgets.emulator import Emulator

from .conftest import Api

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SIMULATION_FIELDS = {
    "id",
    "status",
    "title",
    "prompt",
    "tags",
    "tenant_id",
    "scenario_id",
    "created_at",
    "updated_at",
    "lifecycle",
    "error_log",
}
CONFIG: dict[str, Any] = {
    "step_unit": "week",
    "number_of_steps": 24,
    "agent_groups": [
        {
            "id": "customers",
            "name": "Customers",
            "description": "SaaS customers",
            "number_of_agents": 1000,
            "variables": {
                "satisfaction": {"type": "normal", "mean": 0.75, "std": 0.15},
                "price_sensitivity": {"type": "uniform", "min": 0.3, "max": 0.9},
                "tenure": {"type": "initial_value", "value": 12},
            },
            "actions": {
                "churn": {"type": "binary", "description": "Cancel subscription"},
                "plan_choice": {"type": "discrete", "description": "Choose a plan"},
                "spend": {"type": "continuous", "description": "Monthly spend"},
            },
        }
    ],
}


def test_create_answers_201_pending_with_generated_title(api: Api) -> None:
    response = api.post(
        "/simulations",
        json={"prompt": "What happens to churn if we increase prices by 15%?", "tags": ["q4"]},
    )
    assert response.status_code == 201
    sim = response.json()
    assert set(sim) == SIMULATION_FIELDS
    assert sim["status"] == "PENDING"
    assert sim["lifecycle"]["states"] == [{"name": "PENDING", "at": sim["created_at"]}]
    assert sim["title"]
    assert len(sim["title"].split()) <= 5
    assert sim["tags"] == ["q4"]
    assert sim["error_log"] is None
    assert sim["scenario_id"] is None
    assert ISO_MS.match(sim["created_at"])
    assert ISO_MS.match(sim["updated_at"])
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", sim["id"]
    )


def test_create_keeps_a_given_title_and_hides_metadata(api: Api) -> None:
    sim = api.create("Anything at all", title="My Title", metadata={"jira_ticket": "X-1"})
    assert sim["title"] == "My Title"
    assert "metadata" not in sim
    assert "metadata" not in api.sim(sim["id"])


def test_create_is_not_idempotent(api: Api) -> None:
    first = api.create("same prompt")
    second = api.create("same prompt")
    assert first["id"] != second["id"]


def test_get_simulation_returns_the_same_object(api: Api) -> None:
    sim = api.create()
    again = api.sim(sim["id"])
    assert again["id"] == sim["id"]
    assert set(again) == SIMULATION_FIELDS


def test_missing_prompt_is_a_fastapi_422(api: Api) -> None:
    response = api.post("/simulations", json={})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert detail[0]["loc"] == ["body", "prompt"]
    assert {"loc", "msg", "type"} <= set(detail[0])


def test_unknown_simulation_is_404_with_the_docs_wording(api: Api) -> None:
    response = api.get("/simulations/abc123")
    assert response.status_code == 404
    assert response.json() == {"detail": "Simulation with ID abc123 not found"}
    for path in ("/simulations/abc123/results", "/simulations/abc123/config"):
        assert api.get(path).json() == {"detail": "Simulation with ID abc123 not found"}


def test_another_tenants_simulation_is_403(api: Api, server: Emulator) -> None:
    theirs = Api(server, server.api_key).create()
    for path in ("", "/results", "/config"):
        response = api.get(f"/simulations/{theirs['id']}{path}")
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Access denied: simulation belongs to different tenant"
        }
    assert api.put(f"/simulations/{theirs['id']}/config", json=CONFIG).status_code == 403
    assert api.post(f"/simulations/{theirs['id']}/architect", json={}).status_code == 403


def test_missing_or_invalid_key_is_401_without_rate_headers(server: Emulator) -> None:
    for headers in ({}, {"X-API-Key": "twyn_test_" + "0" * 64}, {"X-API-Key": ""}):
        response = requests.get(f"{server.base_url}/simulations", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid or missing API key"}
        assert "X-RateLimit-Limit" not in response.headers


def test_get_needs_no_content_type(api: Api) -> None:
    response = requests.get(f"{api.base}/keys", headers={"X-API-Key": api.api_key}, timeout=10)
    assert response.status_code == 200
    assert "content-type" not in {name.lower() for name in response.request.headers}


def test_results_before_completion_is_409_not_complete(api: Api) -> None:
    sim = api.create()
    response = api.get(f"/simulations/{sim['id']}/results")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "SIMULATION_NOT_COMPLETE"
    assert body["message"] == "Simulation is still running"
    assert body["status"] in {"PENDING", "PROCESSING_CONFIG", "COMPLETED_CONFIG"}


def test_results_when_complete_has_every_documented_field(api: Api) -> None:
    sim = api.create(tags=["done"])
    api.wait(sim["id"], {"COMPLETED_ANALYSIS"})
    response = api.get(f"/simulations/{sim['id']}/results")
    assert response.status_code == 200
    results = response.json()
    assert set(results) == {
        "id",
        "status",
        "title",
        "prompt",
        "tags",
        "tenant_id",
        "results_version",
        "config",
        "metrics",
        "analysis",
    }
    assert results["status"] == "COMPLETED_ANALYSIS"
    assert results["results_version"] == 1
    assert results["tags"] == ["done"]
    assert set(results["config"]) == {"step_unit", "number_of_steps", "agent_groups"}
    assert set(results["analysis"]) == {
        "executive_summary",
        "key_drivers",
        "risks",
        "recommendations",
        "report_markdown",
    }
    assert results["analysis"]["report_markdown"].startswith("# ")
    timeline = results["metrics"]["by_group"][0]["timeline"]
    assert [step["step"] for step in timeline] == list(
        range(results["config"]["number_of_steps"] + 1)
    )


def test_with_config_answers_201_and_keeps_the_config(frozen_api: Api) -> None:
    response = frozen_api.post(
        "/simulations/with-config",
        json={"prompt": "Reference prompt", "title": "Custom", "config": CONFIG},
    )
    assert response.status_code == 201
    sim = response.json()
    assert sim["status"] == "PENDING"
    assert sim["title"] == "Custom"
    frozen_api.finish(sim["id"])
    config = frozen_api.get(f"/simulations/{sim['id']}/config").json()
    assert (
        config["agent_groups"][0]["variables"]["satisfaction"]
        == CONFIG["agent_groups"][0]["variables"]["satisfaction"]
    )
    results = frozen_api.get(f"/simulations/{sim['id']}/results").json()
    assert results["config"]["number_of_steps"] == 24
    assert len(results["metrics"]["by_group"][0]["timeline"]) == 25


def test_with_config_rejects_an_invalid_config_with_422(api: Api) -> None:
    bad = {**CONFIG, "step_unit": "fortnight"}
    response = api.post("/simulations/with-config", json={"prompt": "x", "config": bad})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:3] == ["body", "config", "step_unit"]


def test_config_is_409_before_the_architect_completes(api: Api) -> None:
    sim = api.create()
    response = api.get(f"/simulations/{sim['id']}/config")
    assert response.status_code == 409
    assert set(response.json()) == {"error", "message", "status"}
    put = api.put(f"/simulations/{sim['id']}/config", json=CONFIG)
    assert put.status_code == 409
    assert put.json()["error"] == "SIMULATION_NOT_COMPLETE"


def test_put_config_returns_the_simulation_back_at_completed_config(frozen_api: Api) -> None:
    sim = frozen_api.create()
    assert frozen_api.clock is not None
    frozen_api.clock.advance(122.5)  # into PROCESSING_SIMULATION
    response = frozen_api.put(f"/simulations/{sim['id']}/config", json=CONFIG)
    assert response.status_code == 200
    assert response.json()["status"] == "COMPLETED_CONFIG"
    assert frozen_api.get(f"/simulations/{sim['id']}/results").status_code == 409
    assert (
        frozen_api.get(f"/simulations/{sim['id']}/config").json()["agent_groups"][0]["id"]
        == "customers"
    )


def test_architect_rerun_restarts_at_processing_config(frozen_api: Api) -> None:
    sim = frozen_api.create()
    assert frozen_api.clock is not None
    frozen_api.clock.advance(122.5)  # into PROCESSING_SIMULATION
    response = frozen_api.post(
        f"/simulations/{sim['id']}/architect",
        json={
            "prompt": "Employees and remote work over 12 months",
            "max_turns": 30,
            "model": "gpt-4o",
        },
    )
    assert response.status_code == 200
    assert response.json()["status"] == "PROCESSING_CONFIG"
    frozen_api.finish(sim["id"])
    config = frozen_api.get(f"/simulations/{sim['id']}/config").json()
    assert config["step_unit"] == "month"
    assert config["number_of_steps"] == 12
    assert config["agent_groups"][0]["id"] == "employees"


def test_architect_rerun_accepts_an_empty_body(api: Api) -> None:
    sim = api.create()
    assert api.post(f"/simulations/{sim['id']}/architect").status_code == 200


def _ids(items: list[Any]) -> list[str]:
    return [item["id"] for item in items]


def test_list_is_newest_first_with_the_items_envelope(api: Api) -> None:
    created = [api.create(f"prompt {index}")["id"] for index in range(3)]
    body = api.get("/simulations").json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert (body["total"], body["limit"], body["offset"]) == (3, 20, 0)
    assert _ids(body["items"]) == created[::-1]
    assert set(body["items"][0]) == SIMULATION_FIELDS


def test_list_paginates_with_limit_and_offset(api: Api) -> None:
    created = [api.create(f"prompt {index}")["id"] for index in range(5)][::-1]
    pages = []
    offset = 0
    while True:
        page = api.get("/simulations", params={"limit": 2, "offset": offset}).json()
        pages += _ids(page["items"])
        assert page["total"] == 5
        assert page["limit"] == 2
        assert page["offset"] == offset
        if len(page["items"]) < 2:
            break
        offset += 2
    assert pages == created


def test_list_limit_outside_1_to_100_is_422(api: Api) -> None:
    for limit in (0, 101):
        assert api.get("/simulations", params={"limit": limit}).status_code == 422
    assert api.get("/simulations", params={"offset": -1}).status_code == 422
    assert api.get("/simulations", params={"limit": 100}).status_code == 200


def test_list_filters_combine_with_and(frozen_api: Api) -> None:
    assert frozen_api.clock is not None
    tagged = frozen_api.create("tagged one", tags=["alpha", "beta"])
    frozen_api.clock.advance(0.5)
    middle = frozen_api.create("untagged")
    frozen_api.clock.advance(0.5)
    done = frozen_api.create("finished", tags=["alpha"])
    frozen_api.finish(done["id"])
    assert _ids(frozen_api.get("/simulations", params={"tag": "beta"}).json()["items"]) == [
        tagged["id"]
    ]
    alpha = frozen_api.get(
        "/simulations", params={"tag": "alpha", "status": "COMPLETED_ANALYSIS"}
    ).json()
    assert set(_ids(alpha["items"])) == {tagged["id"], done["id"]}
    after = frozen_api.get("/simulations", params={"created_after": middle["created_at"]}).json()
    assert _ids(after["items"]) == [done["id"]]
    before = frozen_api.get("/simulations", params={"created_before": middle["created_at"]}).json()
    assert _ids(before["items"]) == [tagged["id"]]
    window = frozen_api.get(
        "/simulations",
        params={"created_after": "2000-01-01T00:00:00Z", "created_before": "2000-12-31T00:00:00Z"},
    ).json()
    assert window == {"items": [], "total": 0, "limit": 20, "offset": 0}
    assert frozen_api.get("/simulations", params={"created_after": "not a date"}).status_code == 422


def test_scenarios_crud(api: Api) -> None:
    created = api.post(
        "/scenarios", json={"name": "Q4 2025 Pricing Strategy", "description": "Testing prices"}
    )
    assert created.status_code == 201
    scenario = created.json()
    assert set(scenario) == {"id", "tenant_id", "name", "description", "created_at", "updated_at"}
    listed = api.get("/scenarios").json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == scenario["id"]
    assert set(listed) == {"items", "total", "limit", "offset"}
    assert api.get(f"/scenarios/{scenario['id']}").json() == scenario
    updated = api.put(f"/scenarios/{scenario['id']}", json={"name": "Renamed"}).json()
    assert updated["name"] == "Renamed"
    assert updated["description"] == "Testing prices"
    assert api.delete(f"/scenarios/{scenario['id']}").status_code == 204
    again = api.delete(f"/scenarios/{scenario['id']}")
    assert again.status_code == 404
    assert again.json() == {"detail": f"Scenario with ID {scenario['id']} not found"}


def test_deleting_a_scenario_keeps_its_simulations_with_null_scenario_id(api: Api) -> None:
    scenario = api.post("/scenarios", json={"name": "Folder"}).json()
    sim = api.create(scenario_id=scenario["id"])
    assert sim["scenario_id"] == scenario["id"]
    api.delete(f"/scenarios/{scenario['id']}")
    assert api.sim(sim["id"])["scenario_id"] is None


def test_unknown_or_foreign_scenario_id_is_refused(api: Api, server: Emulator) -> None:
    assert api.post("/simulations", json={"prompt": "x", "scenario_id": "nope"}).status_code == 404
    other = Api(server, server.api_key)
    theirs = other.post("/scenarios", json={"name": "Theirs"}).json()
    response = api.post("/simulations", json={"prompt": "x", "scenario_id": theirs["id"]})
    assert response.status_code == 403
    assert api.get(f"/scenarios/{theirs['id']}").json() == {
        "detail": "Access denied: scenario belongs to different tenant"
    }


def test_keys_crud(api: Api) -> None:
    listed = api.get("/keys").json()
    assert set(listed) == {"keys", "total"}
    assert listed["total"] == 1
    assert set(listed["keys"][0]) == {
        "key_id",
        "tenant_id",
        "name",
        "is_active",
        "rate_limit",
        "created_at",
        "expires_at",
        "last_used_at",
        "usage_count",
    }
    created = api.post(
        "/keys", json={"name": "Development Server", "rate_limit": 500, "expires_in_days": 90}
    )
    assert created.status_code == 201
    key = created.json()
    assert set(key) == {
        "key_id",
        "api_key",
        "tenant_id",
        "name",
        "rate_limit",
        "expires_at",
        "created_at",
    }
    assert re.fullmatch(r"twyn_test_[0-9a-f]{64}", key["api_key"])
    assert key["key_id"].startswith("key_")
    assert key["rate_limit"] == 500
    assert ISO_MS.match(key["expires_at"])
    info = api.get(f"/keys/{key['key_id']}").json()
    assert info["is_active"] is True
    assert info["usage_count"] == 0
    assert "api_key" not in info
    assert api.get("/keys").json()["total"] == 2

    new = Api(api.emulator, key["api_key"])
    assert new.get("/keys").status_code == 200
    assert new.get("/keys").headers["X-RateLimit-Limit"] == "500"
    used = api.get(f"/keys/{key['key_id']}").json()
    assert used["usage_count"] == 2
    assert used["last_used_at"] is not None

    patched = api.patch(f"/keys/{key['key_id']}", json={"is_active": False, "name": "Off"})
    assert patched.status_code == 200
    assert patched.json()["is_active"] is False
    assert patched.json()["name"] == "Off"
    assert new.get("/keys").status_code == 401
    api.patch(f"/keys/{key['key_id']}", json={"is_active": True})
    assert new.get("/keys").status_code == 200

    assert api.delete(f"/keys/{key['key_id']}").status_code == 204
    assert api.delete(f"/keys/{key['key_id']}").status_code == 404
    assert new.get("/keys").json() == {"detail": "Invalid or missing API key"}
    assert api.get("/keys/key_unknown").status_code == 404
    new.close()


def test_expired_key_is_401(frozen_api: Api) -> None:
    assert frozen_api.clock is not None
    key = frozen_api.post("/keys", json={"name": "Short", "expires_in_days": 1}).json()
    short = Api(frozen_api.emulator, key["api_key"])
    assert short.get("/keys").status_code == 200
    frozen_api.clock.advance(86400.0)
    assert short.get("/keys").json() == {"detail": "Invalid or missing API key"}
    short.close()


def test_another_tenants_key_is_403(api: Api, server: Emulator) -> None:
    theirs = Api(server, server.api_key).get("/keys").json()["keys"][0]["key_id"]
    response = api.get(f"/keys/{theirs}")
    assert response.status_code == 403
    assert api.delete(f"/keys/{theirs}").status_code == 403
