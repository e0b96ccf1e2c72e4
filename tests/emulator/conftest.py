"""Fixtures for the emulator's own tests: real servers on loopback, driven with ``requests``.

Two session servers: ``server`` runs on the wall clock at a high speed factor (a whole
simulation takes well under a second), ``frozen`` runs at speed 1 on a clock the tests move
by hand, so lifecycles and rate-limit windows are stepped through without any waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import requests

from twyn_widgets.emulator import Emulator, start

SPEED = 500.0
"""At 500x a simulation lasts (2 + 90 + 180 + 90) s / 500, about 0.7 s (at most 1 s)."""

FROZEN_START = 1763946000.0
"""2025-11-24T01:00:00Z, the moment of the docs' examples."""


class FakeClock:
    """A clock that only moves when told to (thread-safe enough: one float attribute)."""

    def __init__(self, start: float) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def control(emulator: Emulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    """Call the control API over HTTP with the instance's token, as its helpers do."""
    headers = {"X-Emulator-Token": emulator.control_token, **kwargs.pop("headers", {})}
    kwargs.setdefault("timeout", 10)
    if method in ("POST", "PUT", "PATCH") and "json" not in kwargs and "data" not in kwargs:
        kwargs["json"] = {}
    return requests.request(
        method, f"{emulator.root_url}/_emulator/{path}", headers=headers, **kwargs
    )


class Api:
    """A tiny HTTP helper bound to one emulator and one API key (one connection pool)."""

    def __init__(self, emulator: Emulator, api_key: str, clock: FakeClock | None = None) -> None:
        self.emulator = emulator
        self.clock = clock
        self.base = emulator.base_url
        self.api_key = api_key
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = api_key

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def create(
        self, prompt: str = "How will a 10% price increase affect churn?", **body: Any
    ) -> Any:
        response = self.post("/simulations", json={"prompt": prompt, **body})
        assert response.status_code == 201, response.text
        return response.json()

    def sim(self, sim_id: str) -> Any:
        response = self.get(f"/simulations/{sim_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, sim_id: str, statuses: Iterable[str], timeout: float = 5.0) -> Any:
        """Poll every 10 ms until the simulation reaches one of ``statuses``."""
        wanted = set(statuses)
        deadline = time.monotonic() + timeout
        while True:
            sim = self.sim(sim_id)
            if sim["status"] in wanted:
                return sim
            assert time.monotonic() < deadline, f"still {sim['status']}, wanted {wanted}"
            time.sleep(0.01)

    def finish(self, sim_id: str) -> Any:
        """Let a simulation run to its end: jump the fake clock, or wait on the real one."""
        if self.clock is not None:
            self.clock.advance(1000.0)
            return self.sim(sim_id)
        return self.wait(sim_id, {"COMPLETED_ANALYSIS", "FAILED"})

    def close(self) -> None:
        self.session.close()


@pytest.fixture(scope="session")
def server() -> Iterator[Emulator]:
    """A fast emulator on the wall clock."""
    with start(speed=SPEED, seed=11) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    """The hand-moved clock of the ``frozen`` emulator."""
    return FakeClock(FROZEN_START)


@pytest.fixture(scope="session")
def frozen(clock: FakeClock) -> Iterator[Emulator]:
    """A speed-1 emulator whose time moves only with ``clock.advance``."""
    with start(speed=1.0, seed=5, clock=clock) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clear_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """Leave no fault rule behind for the next test."""
    yield
    for name in ("server", "frozen"):
        if name in request.fixturenames:
            request.getfixturevalue(name).clear_faults()


@pytest.fixture
def api(server: Emulator) -> Iterator[Api]:
    """The fast emulator, as a brand-new tenant (so lists start empty)."""
    _, key = server.new_tenant()
    helper = Api(server, key)
    yield helper
    helper.close()


@pytest.fixture
def frozen_api(frozen: Emulator, clock: FakeClock) -> Iterator[Api]:
    """The frozen-clock emulator, as a brand-new tenant."""
    _, key = frozen.new_tenant()
    helper = Api(frozen, key, clock)
    yield helper
    helper.close()
