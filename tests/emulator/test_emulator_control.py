"""The /_emulator control API: health, tenants, loopback only, raw shapes."""

from __future__ import annotations

import re

import pytest
import requests

from twyn_widgets.emulator import Emulator
from twyn_widgets.emulator.control import loopback_only
from twyn_widgets.emulator.errors import ApiError

from .conftest import SPEED, Api


def test_health(server: Emulator) -> None:
    response = requests.get(f"{server.root_url}/_emulator/health", timeout=10)
    assert response.json() == {"ok": True, "speed": SPEED}


def test_new_tenant_is_201_with_an_isolated_key(server: Emulator) -> None:
    response = requests.post(
        f"{server.root_url}/_emulator/tenants", json={"name": "Other Co"}, timeout=10
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"tenant_id", "api_key"}
    assert re.fullmatch(r"twyn_test_[0-9a-f]{64}", body["api_key"])
    other = Api(server, body["api_key"])
    keys = other.get("/keys").json()
    assert keys["total"] == 1
    assert keys["keys"][0]["tenant_id"] == body["tenant_id"]
    assert other.get("/simulations").json()["total"] == 0
    other.close()


def test_new_tenant_needs_no_body(server: Emulator) -> None:
    response = requests.post(f"{server.root_url}/_emulator/tenants", timeout=10)
    assert response.status_code == 201
    tenant_id, key = server.new_tenant()
    assert tenant_id != response.json()["tenant_id"]
    assert key.startswith("twyn_test_")


def test_control_api_needs_no_key_and_sets_no_rate_headers(server: Emulator) -> None:
    response = requests.get(f"{server.root_url}/_emulator/counters", timeout=10)
    assert response.status_code == 200
    assert set(response.json()) == {
        "requests_total",
        "requests",
        "connections_total",
        "connections_open",
    }
    assert "X-RateLimit-Limit" not in response.headers


def test_fail_answers_with_when_and_the_simulation(api: Api, server: Emulator) -> None:
    sim = api.create()
    response = requests.post(
        f"{server.root_url}/_emulator/simulations/{sim['id']}/fail",
        json={"error_log": "boom", "phase": None},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["failure"] == "now"
    assert response.json()["simulation"]["status"] == "FAILED"
    assert api.sim(sim["id"])["error_log"] == "boom"


def test_control_refuses_non_loopback_clients() -> None:
    class _Client:
        host = "10.1.2.3"

    class _Request:
        client = _Client()

    with pytest.raises(ApiError) as caught:
        loopback_only(_Request())  # type: ignore[arg-type]
    assert caught.value.status_code == 403
    _Client.host = "::1"
    loopback_only(_Request())  # type: ignore[arg-type]
