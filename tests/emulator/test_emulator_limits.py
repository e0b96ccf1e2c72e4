"""No client input gets a 500: invalid strings and numbers, inconsistent distributions and
oversized bodies or configs answer 4xx with a readable location and a short excerpt, and the
largest allowed results are built without stalling the server."""

from __future__ import annotations

import copy
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twyn_widgets.emulator import Emulator, start
from twyn_widgets.emulator._domain._analysis import generate_analysis
from twyn_widgets.emulator._domain._metrics import generate_metrics
from twyn_widgets.emulator._guard._body_limit import MAX_BODY_BYTES
from twyn_widgets.emulator._http._results import encode_results
from twyn_widgets.emulator._http._schemas import (
    MAX_ACTIONS,
    MAX_FIELD_NAME,
    MAX_GROUPS,
    MAX_MAGNITUDE,
    MAX_PROMPT,
    MAX_STEPS,
    MAX_TIMELINE_CELLS,
    MAX_VARIABLES,
    SimulationConfig,
)

from .conftest import Api, control
from .test_emulator_api import CONFIG

LONE = "\\ud800"
"""A lone surrogate as a JSON escape: valid JSON syntax, not valid Unicode."""

MAX_ERROR_BYTES = 4_000
"""A 422 answer never gets longer than this, whatever the input."""


def raw(api: Api, method: str, path: str, text: str) -> requests.Response:
    """Send a JSON text as it is (so it can hold escapes ``json.dumps`` would never write)."""
    return api.request(
        method, path, data=text.encode(), headers={"Content-Type": "application/json"}
    )


def config_text(**changes: Any) -> str:
    """The docs' config as JSON text, with fields of its first group replaced by raw text."""
    text = json.dumps(CONFIG)
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text


def assert_422_at(response: requests.Response, *loc: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text[:300]
    assert len(response.content) <= MAX_ERROR_BYTES
    errors = response.json()["detail"]
    found = [error for error in errors if error["loc"][: len(loc)] == list(loc)]
    assert found, errors
    assert all(set(error) <= {"loc", "msg", "type", "input"} for error in errors)
    return found[0]


# Lone surrogates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text", "loc"),
    [
        ("/simulations", f'{{"prompt": "hello {LONE} world"}}', ["body", "prompt"]),
        ("/simulations", f'{{"prompt": "p", "title": "{LONE}"}}', ["body", "title"]),
        ("/simulations", f'{{"prompt": "p", "tags": ["ok", "{LONE}"]}}', ["body", "tags", 1]),
        ("/simulations", f'{{"prompt": "p", "scenario_id": "{LONE}"}}', ["body", "scenario_id"]),
        ("/simulations", f'{{"prompt": "p", "metadata": {{"k": "{LONE}"}}}}', ["body", "metadata"]),
        ("/simulations", f'{{"prompt": "p", "metadata": {{"{LONE}": 1}}}}', ["body", "metadata"]),
        ("/scenarios", f'{{"name": "{LONE}"}}', ["body", "name"]),
        ("/scenarios", f'{{"name": "n", "description": "{LONE}"}}', ["body", "description"]),
        ("/keys", f'{{"name": "key {LONE}"}}', ["body", "name"]),
        (
            "/simulations/with-config",
            f'{{"prompt": "p", "config": {config_text(customers=f"c{LONE}")}}}',
            ["body", "config", "agent_groups", 0, "id"],
        ),
        (
            "/simulations/with-config",
            f'{{"prompt": "p", "config": {config_text(Customers=f"C{LONE}")}}}',
            ["body", "config", "agent_groups", 0, "name"],
        ),
        (
            "/simulations/with-config",
            f'{{"prompt": "p", "config": {config_text(satisfaction=f"s{LONE}")}}}',
            ["body", "config", "agent_groups", 0, "variables"],
        ),
        (
            "/simulations/with-config",
            f'{{"prompt": "p", "config": {config_text(**{"Cancel subscription": LONE})}}}',
            ["body", "config", "agent_groups", 0, "actions", "churn", "description"],
        ),
    ],
)
def test_lone_surrogates_in_bodies_are_422(api: Api, path: str, text: str, loc: list[Any]) -> None:
    response = raw(api, "POST", path, text)
    assert_422_at(response, *loc)
    response.content.decode("utf-8")  # strict: what comes back is valid UTF-8


def test_lone_surrogates_in_updates_and_configs_are_422(api: Api, server: Emulator) -> None:
    scenario = api.post("/scenarios", json={"name": "ok"}).json()
    assert_422_at(raw(api, "PUT", f"/scenarios/{scenario['id']}", f'{{"name": "{LONE}"}}'), "body")
    key_id = api.get("/keys").json()["keys"][0]["key_id"]
    assert_422_at(raw(api, "PATCH", f"/keys/{key_id}", f'{{"name": "{LONE}"}}'), "body", "name")
    sim = api.create()
    assert_422_at(
        raw(api, "PUT", f"/simulations/{sim['id']}/config", config_text(tenure=f"t{LONE}")),
        "body",
        "agent_groups",
        0,
        "variables",
    )
    assert_422_at(
        raw(api, "POST", f"/simulations/{sim['id']}/architect", f'{{"prompt": "{LONE}"}}'),
        "body",
        "prompt",
    )
    tenant = requests.post(
        f"{server.root_url}/_emulator/tenants",
        data=f'{{"name": "{LONE}"}}'.encode(),
        headers={"X-Emulator-Token": server.control_token, "Content-Type": "application/json"},
        timeout=10,
    )
    assert_422_at(tenant, "body", "name")


def test_undecodable_path_ids_are_404_not_500(api: Api) -> None:
    for raw_id in ("%ED%A0%80", "%FF%FE", "%00"):
        response = api.get(f"/simulations/{raw_id}")
        assert response.status_code == 404
        response.json()


def test_a_long_unknown_id_is_quoted_as_an_excerpt(api: Api) -> None:
    response = api.get("/simulations/" + "a" * 5000)
    assert response.status_code == 404
    assert len(response.json()["detail"]) < 200


# Numbers and distributions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('"mean": 0.75', '"mean": NaN', "mean"),
        ('"mean": 0.75', '"mean": Infinity', "mean"),
        ('"std": 0.15', '"std": -Infinity', "std"),
        ('"std": 0.15', '"std": 1e400', "std"),
        ('"min": 0.3', '"min": NaN', "min"),
        ('"max": 0.9', '"max": Infinity', "max"),
        ('"value": 12', '"value": NaN', "value"),
        ('"value": 12', '"value": 1e13', "value"),
        ('"std": 0.15', '"std": -0.1', "std"),
    ],
)
def test_non_finite_or_out_of_range_numbers_are_422(
    api: Api, old: str, new: str, field: str
) -> None:
    text = f'{{"prompt": "p", "config": {config_text(**{old: new})}}}'
    error = assert_422_at(
        raw(api, "POST", "/simulations/with-config", text),
        "body",
        "config",
        "agent_groups",
        0,
        "variables",
    )
    assert error["loc"][-1] == field


def test_uniform_min_above_max_is_422(api: Api) -> None:
    text = config_text(**{'"min": 0.3': '"min": 0.95'})
    error = assert_422_at(
        raw(api, "POST", "/simulations/with-config", f'{{"prompt": "p", "config": {text}}}'),
        "body",
        "config",
        "agent_groups",
        0,
        "variables",
        "price_sensitivity",
    )
    assert "must not exceed max" in error["msg"]
    same = copy.deepcopy(CONFIG)
    same["agent_groups"][0]["variables"]["price_sensitivity"]["min"] = 0.9
    assert api.post("/simulations/with-config", json={"prompt": "p", "config": same}).ok


def test_metadata_with_nan_is_422(api: Api) -> None:
    response = raw(api, "POST", "/simulations", '{"prompt": "p", "metadata": {"x": NaN}}')
    assert_422_at(response, "body", "metadata")


# Caps -----------------------------------------------------------------------------------------


def test_prompt_of_10000_characters_and_no_more(api: Api) -> None:
    assert api.post("/simulations", json={"prompt": "p" * MAX_PROMPT}).status_code == 201
    response = api.post("/simulations", json={"prompt": "q" * (MAX_PROMPT + 1)})
    error = assert_422_at(response, "body", "prompt")
    assert len(error["input"]) <= 60
    assert len(response.content) < 1_000


def _config(groups: int = 1, variables: int = 1, actions: int = 1, steps: int = 10) -> Any:
    return {
        "step_unit": "week",
        "number_of_steps": steps,
        "agent_groups": [
            {
                "id": f"g{index}",
                "name": f"Group {index}",
                "number_of_agents": 10,
                "variables": {
                    f"v{item}": {"type": "normal", "mean": 0.5, "std": 0.1}
                    for item in range(variables)
                },
                "actions": {
                    f"a{item}": {"type": "binary", "description": ""} for item in range(actions)
                },
            }
            for index in range(groups)
        ],
    }


@pytest.mark.parametrize(
    ("config", "loc"),
    [
        (_config(groups=MAX_GROUPS + 1), ["body", "config", "agent_groups"]),
        (_config(variables=MAX_VARIABLES + 1), ["body", "config", "agent_groups", 0, "variables"]),
        (_config(actions=MAX_ACTIONS + 1), ["body", "config", "agent_groups", 0, "actions"]),
        (_config(steps=MAX_STEPS + 1), ["body", "config", "number_of_steps"]),
        (
            _config(groups=MAX_GROUPS, variables=MAX_VARIABLES, actions=MAX_ACTIONS, steps=100),
            ["body", "config"],
        ),
    ],
)
def test_configs_over_the_caps_are_422(api: Api, config: Any, loc: list[Any]) -> None:
    assert_422_at(
        api.post("/simulations/with-config", json={"prompt": "p", "config": config}), *loc
    )


def test_config_caps_on_names_and_agents(api: Api) -> None:
    config = _config()
    config["agent_groups"][0]["variables"] = {
        "v" * (MAX_FIELD_NAME + 1): {"type": "normal", "mean": 1, "std": 0}
    }
    assert_422_at(
        api.post("/simulations/with-config", json={"prompt": "p", "config": config}),
        "body",
        "config",
        "agent_groups",
        0,
        "variables",
    )
    config = _config()
    config["agent_groups"][0]["number_of_agents"] = 1_000_001
    assert_422_at(
        api.post("/simulations/with-config", json={"prompt": "p", "config": config}),
        "body",
        "config",
        "agent_groups",
        0,
        "number_of_agents",
    )


def test_the_timeline_budget_message_gives_the_numbers(api: Api) -> None:
    config = _config(groups=10, variables=10, actions=10, steps=200)
    error = assert_422_at(api.put("/simulations/whatever/config", json=config), "body")
    assert "40,000" in error["msg"]


def test_a_body_over_1_mb_is_413(api: Api) -> None:
    big = {"prompt": "x" * (MAX_BODY_BYTES + 10)}
    response = api.post("/simulations", json=big)
    assert response.status_code == 413
    assert "1,000,000 bytes" in response.json()["detail"]
    assert response.headers["X-RateLimit-Limit"]
    assert len(response.content) < 200


def test_a_chunked_body_over_1_mb_is_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"prompt": "'
        for _ in range(20):
            yield b"x" * 60_000
        yield b'"}'

    response = api.post("/simulations", data=chunks(), headers={"Content-Type": "application/json"})
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 413


def test_a_body_just_under_1_mb_reaches_validation(api: Api) -> None:
    body = json.dumps({"prompt": "x" * (MAX_BODY_BYTES - 100)})
    response = raw(api, "POST", "/simulations", body)
    assert response.status_code == 422
    assert len(response.content) < 1_000


def test_a_422_never_echoes_the_input(api: Api) -> None:
    many = {"prompt": "p", "tags": list(range(100_000))}
    response = api.post("/simulations", json=many)
    assert response.status_code == 422
    assert len(response.content) <= MAX_ERROR_BYTES
    broken = raw(api, "POST", "/simulations", '{"prompt": "' + "y" * 500_000)
    assert broken.status_code == 422
    assert len(broken.content) <= MAX_ERROR_BYTES


def test_malformed_or_deeply_nested_json_is_4xx(api: Api) -> None:
    for text in ('{"prompt": ', "[" * 100_000 + "]" * 100_000, '{"prompt": "p"} trailing'):
        response = raw(api, "POST", "/simulations", text)
        assert 400 <= response.status_code < 500, response.status_code


def test_repeated_tag_parameter_is_422(api: Api) -> None:
    api.create(tags=["a", "b"])
    response = api.get("/simulations?tag=a&tag=b")
    assert_422_at(response, "query", "tag")
    assert api.get("/simulations?tag=a").json()["total"] == 1


# The largest allowed results ------------------------------------------------------------------


def largest_config() -> dict[str, Any]:
    """The config with the largest results body the caps allow."""
    per_step = 1 + MAX_VARIABLES + MAX_ACTIONS
    steps = MAX_TIMELINE_CELLS // per_step - 1

    def name(prefix: str, index: int) -> str:
        return f"{prefix}{index}".ljust(MAX_FIELD_NAME, "x")

    return {
        "step_unit": "day",
        "number_of_steps": steps,
        "agent_groups": [
            {
                "id": "g" * 100,
                "name": "G" * 200,
                "description": "d" * 2_000,
                "number_of_agents": 1_000_000,
                "variables": {
                    name("v", index): {
                        "type": "uniform",
                        "min": -MAX_MAGNITUDE,
                        "max": MAX_MAGNITUDE,
                    }
                    for index in range(MAX_VARIABLES)
                },
                "actions": {
                    name("a", index): {"type": "discrete", "description": "x" * 2_000}
                    for index in range(MAX_ACTIONS)
                },
            }
        ],
    }


@dataclass
class Served:
    """An emulator in a child process: its own interpreter, so its own GIL."""

    root_url: str
    api_key: str
    control_token: str


ATTEMPTS = 5
"""Builds measured at most: the machine may be busy with other work during one of them."""
MIN_PROBES = 3
"""Health probes that must answer during a build for it to count."""


@pytest.fixture
def big() -> Iterator[tuple[Served, list[str]]]:
    """An emulator process holding finished simulations of the largest allowed config.

    A separate process, so that what is measured is the server's own responsiveness, not the
    test's threads competing with it for one interpreter lock.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "twyn_widgets.emulator", "--port", "0", "--speed", "2000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        fields: dict[str, str] = {}
        while "seed" not in fields:
            line = process.stdout.readline()
            assert line, "the emulator did not start"
            name, _, value = line.strip().partition(": ")
            fields[name.strip()] = value.strip()
        served = Served(
            fields["base URL"].removesuffix("/v1"), fields["API key"], fields["X-Emulator-Token"]
        )
        headers = {"X-API-Key": served.api_key}
        ids = []
        for _ in range(ATTEMPTS):
            created = requests.post(
                f"{served.root_url}/v1/simulations/with-config",
                json={"prompt": "largest", "config": largest_config()},
                headers=headers,
                timeout=30,
            )
            assert created.status_code == 201, created.text[:300]
            ids.append(created.json()["id"])
        deadline = time.monotonic() + 10
        for sim_id in ids:
            while True:
                status = requests.get(
                    f"{served.root_url}/v1/simulations/{sim_id}", headers=headers, timeout=10
                ).json()["status"]
                if status == "COMPLETED_ANALYSIS":
                    break
                assert time.monotonic() < deadline, status
                time.sleep(0.02)
        yield served, ids
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]


def test_the_largest_allowed_config_is_accepted_and_one_more_cell_is_not(api: Api) -> None:
    config = largest_config()
    SimulationConfig.model_validate(config)
    config["number_of_steps"] += 1
    response = api.post("/simulations/with-config", json={"prompt": "p", "config": config})
    assert_422_at(response, "body", "config")


def _probe_during_build(emulator: Served, sim_id: str) -> tuple[list[float], float, bytes]:
    """Fetch one simulation's results (its first build) while another thread probes health."""
    latencies: list[float] = []
    building = threading.Event()
    done = threading.Event()

    def probe() -> None:
        with requests.Session() as session:
            session.headers["X-Emulator-Token"] = emulator.control_token
            url = f"{emulator.root_url}/_emulator/health"
            session.get(url, timeout=10)  # connect before the build starts
            building.wait(10)
            while not done.is_set():
                started = time.perf_counter()
                assert session.get(url, timeout=10).status_code == 200
                latencies.append(time.perf_counter() - started)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        building.set()
        started = time.perf_counter()
        response = requests.get(
            f"{emulator.root_url}/v1/simulations/{sim_id}/results",
            headers={"X-API-Key": emulator.api_key},
            timeout=60,
        )
        took = time.perf_counter() - started
    finally:
        done.set()
        prober.join()
    assert response.status_code == 200
    return latencies, took, response.content


def test_health_answers_within_100_ms_while_the_largest_results_are_built(
    big: tuple[Served, list[str]], record_property: Any
) -> None:
    emulator, ids = big
    worst: list[float] = []
    tried: list[tuple[int, float]] = []
    for attempt, sim_id in enumerate(ids):
        latencies, took, content = _probe_during_build(emulator, sim_id)
        tried.append((len(latencies), round(took, 3)))
        # Why three probes: a build on the event loop holds every probe until it ends, so at
        # most one answers while it runs; three or more answered show the loop free. A quick
        # build on a fast machine can end before three, and then tells nothing either way.
        if len(latencies) < MIN_PROBES:
            continue
        worst.append(max(latencies))
        record_property(f"build_seconds_{attempt}", round(took, 3))
        record_property(f"probe_max_ms_{attempt}", round(max(latencies) * 1000, 1))
        record_property(f"probe_median_ms_{attempt}", round(statistics.median(latencies) * 1000, 1))
        if max(latencies) < 0.100:
            break
    record_property("results_bytes", len(content))
    assert worst, f"no build saw {MIN_PROBES} probes answered (probes, seconds): {tried}"
    # One clean build shows the loop stays free; a build on the loop would block every one.
    assert min(worst) < 0.100, [round(value * 1000) for value in worst]
    assert 2_000_000 < len(content) <= 4_000_000
    body = json.loads(content)
    assert len(body["metrics"]["by_group"][0]["timeline"]) == body["config"]["number_of_steps"] + 1


def test_results_are_built_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build made slow on purpose (0.5 s) must not hold up the server's other answers."""
    from twyn_widgets.emulator._http import _results as results

    real_build = results._build

    def slow_build(*args: Any) -> Any:
        time.sleep(0.5)  # stands in for a heavy build; it holds the event loop if run on it
        return real_build(*args)

    monkeypatch.setattr(results, "_build", slow_build)
    with start(speed=2000, seed=3) as emu:
        headers = {"X-API-Key": emu.api_key}
        sim_id = requests.post(
            f"{emu.base_url}/simulations", json={"prompt": "p"}, headers=headers, timeout=10
        ).json()["id"]
        deadline = time.monotonic() + 10
        while (
            requests.get(
                f"{emu.base_url}/simulations/{sim_id}", headers=headers, timeout=10
            ).json()["status"]
            != "COMPLETED_ANALYSIS"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        answers: list[int] = []
        fetch = threading.Thread(
            target=lambda: answers.append(
                requests.get(
                    f"{emu.base_url}/simulations/{sim_id}/results", headers=headers, timeout=10
                ).status_code
            )
        )
        latencies: list[float] = []
        with requests.Session() as session:
            session.headers["X-Emulator-Token"] = emu.control_token
            health = f"{emu.root_url}/_emulator/health"
            session.get(health, timeout=10)
            fetch.start()
            time.sleep(0.1)  # the build is under way
            while fetch.is_alive():
                started = time.perf_counter()
                assert session.get(health, timeout=10).status_code == 200
                latencies.append(time.perf_counter() - started)
        fetch.join()
    assert answers == [200]
    assert len(latencies) >= 5, latencies
    # On the loop, the probe in flight would wait out the 0.5 s; half of that leaves room for a
    # busy machine (the 100 ms figure is measured on the real build in its own process above).
    assert max(latencies) < 0.250, [round(value * 1000) for value in latencies]


# Every valid config gives a valid results body ------------------------------------------------

_numbers = st.floats(min_value=-MAX_MAGNITUDE, max_value=MAX_MAGNITUDE, allow_nan=False)
_small = st.floats(min_value=0.0, max_value=MAX_MAGNITUDE, allow_nan=False)


@st.composite
def _variables(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["normal", "uniform", "initial_value"]))
    if kind == "normal":
        return {"type": kind, "mean": draw(_numbers), "std": draw(_small)}
    if kind == "uniform":
        low, high = sorted((draw(_numbers), draw(_numbers)))
        return {"type": kind, "min": low, "max": high}
    return {"type": kind, "value": draw(_numbers)}


_group = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=5),
        "name": st.text(min_size=1, max_size=5),
        "number_of_agents": st.integers(1, 1_000_000),
        "variables": st.dictionaries(st.text(min_size=1, max_size=4), _variables(), max_size=3),
        "actions": st.dictionaries(
            st.text(min_size=1, max_size=4),
            st.fixed_dictionaries({"type": st.sampled_from(["binary", "discrete", "continuous"])}),
            max_size=3,
        ),
    }
)
_configs = st.fixed_dictionaries(
    {
        "step_unit": st.sampled_from(["day", "week", "month", "quarter", "year"]),
        "number_of_steps": st.integers(1, 30),
        "agent_groups": st.lists(_group, min_size=1, max_size=3),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_configs)
def test_every_valid_config_gives_finite_json_results(config: dict[str, Any]) -> None:
    valid = SimulationConfig.model_validate(config).model_dump()
    timelines = generate_metrics(valid)
    report = generate_analysis(valid, timelines)
    body = encode_results({"config": valid}, timelines, report)
    json.loads(body, parse_constant=lambda name: pytest.fail(f"{name} in results"))


def test_control_api_refuses_surrogates_in_fault_paths(server: Emulator) -> None:
    response = requests.post(
        f"{server.root_url}/_emulator/faults",
        data=f'{{"kind": "drop", "path": "{LONE}"}}'.encode(),
        headers={"X-Emulator-Token": server.control_token, "Content-Type": "application/json"},
        timeout=10,
    )
    assert_422_at(response, "body", "path")
    assert control(server, "GET", "faults").json()["faults"] == []
