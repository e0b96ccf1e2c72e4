"""The docs' quickstart and guides, replayed call by call as their curl examples make them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import requests

from twyn_widgets.emulator import Emulator

from .conftest import SPEED

DOCS_INTERVAL = 5 / SPEED
"""The docs' 5 s poll, at the emulator's speed."""

STATUSES = [
    "PENDING",
    "PROCESSING_CONFIG",
    "COMPLETED_CONFIG",
    "PROCESSING_SIMULATION",
    "COMPLETED_SIMULATION",
    "PROCESSING_ANALYSIS",
    "COMPLETED_ANALYSIS",
]


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_quickstart_walkthrough(server: Emulator) -> None:
    _, key = server.new_tenant("Quickstart")
    base = server.base_url

    # Step 1: test the key.  curl https://api.twyn.it/v1/keys -H "X-API-Key: $TWYN_API_KEY"
    keys = requests.get(f"{base}/keys", headers={"X-API-Key": key}, timeout=30)
    assert keys.status_code == 200
    assert keys.json()["total"] == 1

    # Step 2: create.  curl -X POST .../v1/simulations -H "X-API-Key: ..."
    #   -H "Content-Type: application/json" -d '{"prompt": "..."}'
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    created = requests.post(
        f"{base}/simulations",
        headers=headers,
        json={
            "prompt": "What happens if we increase prices by 15%? "
            "How will it affect customer churn and revenue?"
        },
        timeout=30,
    )
    assert created.status_code == 201
    sim: dict[str, Any] = created.json()
    for field in (
        "id",
        "status",
        "title",
        "prompt",
        "tags",
        "tenant_id",
        "created_at",
        "updated_at",
    ):
        assert field in sim
    assert sim["status"] == "PENDING"
    assert sim["tags"] == []
    assert sim["lifecycle"]["states"][0]["name"] == "PENDING"

    # Step 3: poll every 5 s (scaled) until COMPLETED_ANALYSIS or FAILED.
    seen = [sim["status"]]
    deadline = time.monotonic() + 600 / SPEED + 2
    while seen[-1] not in ("COMPLETED_ANALYSIS", "FAILED"):
        assert time.monotonic() < deadline
        time.sleep(DOCS_INTERVAL)
        polled = requests.get(f"{base}/simulations/{sim['id']}", headers=headers, timeout=30)
        assert polled.status_code == 200
        seen.append(polled.json()["status"])
    assert seen[-1] == "COMPLETED_ANALYSIS"
    order = [STATUSES.index(status) for status in seen]
    assert order == sorted(order)

    # Step 4: results.
    results = requests.get(f"{base}/simulations/{sim['id']}/results", headers=headers, timeout=30)
    assert results.status_code == 200
    body = results.json()
    assert body["id"] == sim["id"]
    assert body["status"] == "COMPLETED_ANALYSIS"
    config = body["config"]
    assert config["step_unit"] in {"day", "week", "month", "quarter", "year"}
    group = config["agent_groups"][0]
    assert {"id", "name", "description", "number_of_agents", "variables", "actions"} <= set(group)
    first_step = body["metrics"]["by_group"][0]["timeline"][0]
    assert first_step["step"] == 0
    assert set(first_step["variables"]) == set(group["variables"])
    assert set(first_step["actions"]) == set(group["actions"])
    assert body["analysis"]["report_markdown"].startswith("# Full Analysis Report")

    # List, as in the curl examples: ?status=COMPLETED_ANALYSIS&limit=10
    listed = requests.get(
        f"{base}/simulations?status=COMPLETED_ANALYSIS&limit=10", headers=headers, timeout=30
    ).json()
    assert [item["id"] for item in listed["items"]] == [sim["id"]]
    assert listed["limit"] == 10
    assert listed["total"] == 1


def test_guides_scenarios_with_config_and_keys(server: Emulator) -> None:
    _, key = server.new_tenant("Guides")
    base = server.base_url
    headers = {"X-API-Key": key, "Content-Type": "application/json"}

    scenario = requests.post(
        f"{base}/scenarios",
        headers=headers,
        json={
            "name": "Q4 2025 Pricing Strategy",
            "description": "Testing various pricing scenarios for Q4 rollout",
        },
        timeout=30,
    ).json()
    sim = requests.post(
        f"{base}/simulations/with-config",
        headers=headers,
        json={
            "prompt": "Reference prompt",
            "title": "Custom config run",
            "tags": ["pricing", "q4-2025"],
            "scenario_id": scenario["id"],
            "metadata": {"department": "product", "analyst": "jane@company.com"},
            "config": {
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
                        },
                        "actions": {
                            "churn": {"type": "binary", "description": "Cancel subscription"}
                        },
                    }
                ],
            },
        },
        timeout=30,
    )
    assert sim.status_code == 201
    assert sim.json()["scenario_id"] == scenario["id"]
    tagged = requests.get(f"{base}/simulations?tag=pricing", headers=headers, timeout=30).json()
    assert tagged["total"] == 1

    renamed = requests.put(
        f"{base}/scenarios/{scenario['id']}",
        headers=headers,
        json={"name": "Q4 2025 Pricing (final)"},
        timeout=30,
    )
    assert renamed.json()["name"] == "Q4 2025 Pricing (final)"

    new_key = requests.post(
        f"{base}/keys",
        headers=headers,
        json={"name": "Development Server", "rate_limit": 500, "expires_in_days": 90},
        timeout=30,
    ).json()
    assert _at(new_key["expires_at"]) - _at(new_key["created_at"]) == timedelta(days=90)
    disabled = requests.patch(
        f"{base}/keys/{new_key['key_id']}", headers=headers, json={"is_active": False}, timeout=30
    )
    assert disabled.json()["is_active"] is False
    assert (
        requests.delete(f"{base}/keys/{new_key['key_id']}", headers=headers, timeout=30).status_code
        == 204
    )
    assert (
        requests.delete(
            f"{base}/scenarios/{scenario['id']}", headers=headers, timeout=30
        ).status_code
        == 204
    )
