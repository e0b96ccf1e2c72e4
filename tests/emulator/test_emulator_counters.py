"""Traffic counters: requests by route template, TCP connections, control traffic excluded."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from twyn_widgets.emulator import Emulator, start


@pytest.fixture
def quiet() -> Iterator[Emulator]:
    """An emulator of its own, so no other test's traffic shows in its counters."""
    with start(speed=100.0, seed=2) as emulator:
        yield emulator


def _settle(emulator: Emulator, open_connections: int) -> dict[str, object]:
    """Read the counters once the server has seen closed connections go (a few ms)."""
    deadline = time.monotonic() + 2.0
    while True:
        counters = emulator.counters()
        if counters["connections_open"] == open_connections or time.monotonic() > deadline:
            return counters
        time.sleep(0.01)


def test_requests_are_counted_by_method_and_route_template(quiet: Emulator) -> None:
    headers = {"X-API-Key": quiet.api_key}
    with requests.Session() as session:
        session.headers.update(headers)
        sim = session.post(f"{quiet.base_url}/simulations", json={"prompt": "x"}).json()
        for _ in range(3):
            session.get(f"{quiet.base_url}/simulations/{sim['id']}")
        session.get(f"{quiet.base_url}/simulations/{sim['id']}/results")
        session.get(f"{quiet.base_url}/simulations", params={"limit": 5})
        session.get(f"{quiet.base_url}/keys/key_nope")
    requests.get(f"{quiet.base_url}/simulations/whatever", timeout=10)  # 401, still counted
    counters = quiet.counters()
    assert counters["requests"] == {
        "GET /v1/keys/{key_id}": 1,
        "GET /v1/simulations": 1,
        "GET /v1/simulations/{id}": 4,
        "GET /v1/simulations/{id}/results": 1,
        "POST /v1/simulations": 1,
    }
    assert counters["requests_total"] == 8


def test_one_session_uses_one_connection(quiet: Emulator) -> None:
    quiet.reset_counters()
    with requests.Session() as session:
        for _ in range(10):
            session.get(f"{quiet.base_url}/keys", headers={"X-API-Key": quiet.api_key})
        during = quiet.counters()
        assert during["connections_total"] == 1
        assert during["connections_open"] == 1
    after = _settle(quiet, 0)
    assert after["connections_total"] == 1
    assert after["connections_open"] == 0
    assert after["requests_total"] == 10


def test_bare_requests_open_one_connection_each(quiet: Emulator) -> None:
    quiet.reset_counters()
    for _ in range(6):
        requests.get(f"{quiet.base_url}/keys", headers={"X-API-Key": quiet.api_key}, timeout=10)
    counters = _settle(quiet, 0)
    assert counters["connections_total"] == 6
    assert counters["connections_open"] == 0
    assert counters["requests"] == {"GET /v1/keys": 6}


def test_reading_and_resetting_counters_does_not_count(quiet: Emulator) -> None:
    quiet.reset_counters()
    for _ in range(5):
        quiet.counters()
        quiet.health()
    counters = _settle(quiet, 0)
    assert counters == {
        "requests_total": 0,
        "requests": {},
        "connections_total": 0,
        "connections_open": 0,
    }


def test_dropped_connections_are_counted(quiet: Emulator) -> None:
    quiet.reset_counters()
    quiet.inject("drop", count=3)
    for _ in range(3):
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"{quiet.base_url}/keys", headers={"X-API-Key": quiet.api_key}, timeout=10)
    counters = _settle(quiet, 0)
    assert counters["connections_total"] == 3
    assert counters["requests_total"] == 3
