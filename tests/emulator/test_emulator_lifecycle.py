"""Lifecycle: order, timestamps, with-config, config edits, Architect re-runs and failures.

Most tests use the ``frozen`` emulator (speed 1, hand-moved clock), so the documented phase
durations can be checked exactly and nothing waits; one runs on the wall clock at speed.
"""

from __future__ import annotations

import itertools
import re
import time
from datetime import datetime
from typing import Any

import pytest

from twyn_widgets.emulator import Emulator, EmulatorError

from .conftest import SPEED, Api, FakeClock
from .test_emulator_api import CONFIG

PIPELINE = [
    "PENDING",
    "PROCESSING_CONFIG",
    "COMPLETED_CONFIG",
    "PROCESSING_SIMULATION",
    "COMPLETED_SIMULATION",
    "PROCESSING_ANALYSIS",
    "COMPLETED_ANALYSIS",
]
RANGES = {
    "PROCESSING_CONFIG": (60.0, 120.0),
    "PROCESSING_SIMULATION": (120.0, 240.0),
    "PROCESSING_ANALYSIS": (60.0, 120.0),
}


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def names(sim: Any) -> list[str]:
    return [state["name"] for state in sim["lifecycle"]["states"]]


def times(sim: Any) -> list[float]:
    return [epoch(state["at"]) for state in sim["lifecycle"]["states"]]


def test_full_pipeline_order_and_documented_durations(frozen_api: Api, clock: FakeClock) -> None:
    sim = frozen_api.create()
    assert frozen_api.sim(sim["id"])["status"] == "PENDING"
    clock.advance(1.0)
    assert frozen_api.sim(sim["id"])["status"] == "PROCESSING_CONFIG"
    done = frozen_api.finish(sim["id"])
    assert done["status"] == "COMPLETED_ANALYSIS"
    assert names(done) == PIPELINE
    stamps = times(done)
    assert stamps[0] == pytest.approx(epoch(sim["created_at"]))
    assert stamps == sorted(stamps)
    for index, name in enumerate(PIPELINE[:-1]):
        gap = stamps[index + 1] - stamps[index]
        if name in RANGES:
            low, high = RANGES[name]
            assert low - 0.002 <= gap <= high + 0.002, (name, gap)
        else:
            assert gap == pytest.approx(1.0, abs=0.002), (name, gap)
    assert done["updated_at"] == done["lifecycle"]["states"][-1]["at"]
    assert done["error_log"] is None


def test_lifecycle_is_append_only(frozen_api: Api, clock: FakeClock) -> None:
    sim = frozen_api.create()
    seen: list[Any] = []
    for _ in range(12):
        seen.append(frozen_api.sim(sim["id"])["lifecycle"]["states"])
        clock.advance(40.0)
    for earlier, later in itertools.pairwise(seen):
        assert later[: len(earlier)] == earlier
    assert [state["name"] for state in seen[-1]] == PIPELINE


def test_with_config_skips_the_architect(frozen_api: Api, clock: FakeClock) -> None:
    response = frozen_api.post("/simulations/with-config", json={"prompt": "ref", "config": CONFIG})
    sim = response.json()
    clock.advance(1.0)
    assert frozen_api.sim(sim["id"])["status"] == "COMPLETED_CONFIG"
    assert frozen_api.get(f"/simulations/{sim['id']}/config").status_code == 200
    done = frozen_api.finish(sim["id"])
    assert names(done) == [name for name in PIPELINE if name != "PROCESSING_CONFIG"]


def test_put_config_resets_to_completed_config_and_reruns(
    frozen_api: Api, clock: FakeClock
) -> None:
    sim = frozen_api.create()
    clock.advance(122.5)  # PENDING 1 s + Architect at most 120 s + COMPLETED_CONFIG 1 s
    assert frozen_api.sim(sim["id"])["status"] == "PROCESSING_SIMULATION"
    before = frozen_api.sim(sim["id"])["lifecycle"]["states"]
    response = frozen_api.put(f"/simulations/{sim['id']}/config", json=CONFIG)
    assert response.status_code == 200
    reset = response.json()
    assert reset["status"] == "COMPLETED_CONFIG"
    assert reset["lifecycle"]["states"][: len(before)] == before
    assert reset["lifecycle"]["states"][len(before)]["name"] == "COMPLETED_CONFIG"
    assert (
        frozen_api.get(f"/simulations/{sim['id']}/results").json()["status"] == "COMPLETED_CONFIG"
    )
    done = frozen_api.finish(sim["id"])
    assert names(done)[len(before) :] == PIPELINE[2:]
    results = frozen_api.get(f"/simulations/{sim['id']}/results").json()
    assert results["config"]["agent_groups"][0]["variables"]["tenure"]["value"] == 12
    assert results["metrics"]["by_group"][0]["group_id"] == "customers"


def test_terminal_statuses_stay_terminal(frozen_api: Api, clock: FakeClock) -> None:
    done = frozen_api.create()
    frozen_api.finish(done["id"])
    failed = frozen_api.create("Churn study [fail:simulator]")
    assert frozen_api.finish(failed["id"])["status"] == "FAILED"
    results = frozen_api.get(f"/simulations/{done['id']}/results").json()
    for sim, code in ((done, "SIMULATION_COMPLETE"), (failed, "SIMULATION_FAILED")):
        before = frozen_api.sim(sim["id"])
        for method, path, body in (
            ("PUT", "config", CONFIG),
            ("POST", "architect", {"prompt": "again"}),
            ("POST", "architect", None),
        ):
            response = frozen_api.request(method, f"/simulations/{sim['id']}/{path}", json=body)
            assert response.status_code == 409, (method, path)
            answer = response.json()
            assert set(answer) == {"error", "message", "status"}
            assert answer["error"] == code
            assert answer["status"] == before["status"]
        clock.advance(1000.0)
        assert frozen_api.sim(sim["id"]) == before
    assert frozen_api.get(f"/simulations/{done['id']}/results").json() == results


def test_put_config_before_completed_config_is_409(frozen_api: Api, clock: FakeClock) -> None:
    sim = frozen_api.create()
    clock.advance(1.0)
    response = frozen_api.put(f"/simulations/{sim['id']}/config", json=CONFIG)
    assert response.status_code == 409
    assert response.json() == {
        "error": "SIMULATION_NOT_COMPLETE",
        "message": "Simulation is still running: the config is ready once the Architect completes",
        "status": "PROCESSING_CONFIG",
    }


def test_only_documented_error_codes(frozen_api: Api, clock: FakeClock) -> None:
    """Before the config exists, and after a failure, the codes are the docs' own."""
    sim = frozen_api.create("Churn [fail:architect]")
    early = frozen_api.get(f"/simulations/{sim['id']}/config")
    assert early.status_code == 409
    assert early.json()["error"] == "SIMULATION_NOT_COMPLETE"
    assert early.json()["status"] == "PENDING"
    frozen_api.finish(sim["id"])
    late = frozen_api.get(f"/simulations/{sim['id']}/config")
    assert late.status_code == 409
    assert late.json()["error"] == "SIMULATION_FAILED"
    assert late.json()["status"] == "FAILED"


def test_architect_rerun_appends_processing_config(frozen_api: Api, clock: FakeClock) -> None:
    sim = frozen_api.create()
    clock.advance(122.5)
    running = frozen_api.sim(sim["id"])
    assert running["status"] == "PROCESSING_SIMULATION"
    rerun = frozen_api.post(f"/simulations/{sim['id']}/architect", json={"prompt": "again"}).json()
    assert names(rerun) == [*names(running), "PROCESSING_CONFIG"]
    assert epoch(rerun["lifecycle"]["states"][-1]["at"]) == pytest.approx(clock(), abs=0.002)
    assert frozen_api.get(f"/simulations/{sim['id']}/config").status_code == 409
    again = frozen_api.finish(sim["id"])
    assert names(again) == [*names(running), *PIPELINE[1:]]


def test_with_config_simulation_keeps_its_config_on_architect_rerun(
    frozen_api: Api, clock: FakeClock
) -> None:
    sim = frozen_api.post("/simulations/with-config", json={"prompt": "ref", "config": CONFIG})
    sim_id = sim.json()["id"]
    clock.advance(2.0)
    before = frozen_api.sim(sim_id)
    response = frozen_api.post(f"/simulations/{sim_id}/architect", json={"prompt": "redesign"})
    assert response.status_code == 409
    assert response.json()["status"] == before["status"]
    assert "config" in response.json()["detail"]
    assert frozen_api.sim(sim_id)["lifecycle"] == before["lifecycle"]
    frozen_api.finish(sim_id)
    assert frozen_api.get(f"/simulations/{sim_id}/config").json() == CONFIG


@pytest.mark.parametrize(
    ("phase", "processing", "config_after"),
    [
        ("architect", "PROCESSING_CONFIG", 409),
        ("simulator", "PROCESSING_SIMULATION", 200),
        ("analyst", "PROCESSING_ANALYSIS", 200),
    ],
)
def test_failing_prompt_fails_in_that_phase(
    frozen_api: Api, clock: FakeClock, phase: str, processing: str, config_after: int
) -> None:
    sim = frozen_api.create(f"Price rise and churn [fail:{phase}]")
    while frozen_api.sim(sim["id"])["status"] != processing:
        clock.advance(5.0)
    running = frozen_api.sim(sim["id"])
    assert running["error_log"] is None
    failed = frozen_api.finish(sim["id"])
    assert failed["status"] == "FAILED"
    assert names(failed)[-2:] == [processing, "FAILED"]
    stamps = times(failed)
    low, high = RANGES[processing]
    assert low / 2 - 0.002 <= stamps[-1] - stamps[-2] <= high / 2 + 0.002
    assert isinstance(failed["error_log"], str)
    assert failed["error_log"].lower().startswith(phase)
    results = frozen_api.get(f"/simulations/{sim['id']}/results")
    assert results.status_code == 409
    body = results.json()
    assert body["error"] == "SIMULATION_FAILED"
    assert body["status"] == "FAILED"
    assert set(body) == {"error", "message", "status"}
    assert frozen_api.get(f"/simulations/{sim['id']}/config").status_code == config_after


def test_a_failure_planned_for_later_survives_a_config_edit(frozen_api: Api) -> None:
    sim = frozen_api.create("Remote work policy for employees [fail:simulator]")
    frozen_api.clock.advance(122.5)  # type: ignore[union-attr]
    assert frozen_api.sim(sim["id"])["status"] == "PROCESSING_SIMULATION"
    assert frozen_api.put(f"/simulations/{sim['id']}/config", json=CONFIG).status_code == 200
    failed = frozen_api.finish(sim["id"])
    assert failed["status"] == "FAILED"
    assert names(failed)[-2:] == ["PROCESSING_SIMULATION", "FAILED"]
    # The canned message names the config in use when the phase failed, not the first one.
    quoted = set(re.findall(r"'([^']+)'", failed["error_log"]))
    assert "customers" in quoted
    assert quoted <= {"customers", "satisfaction", "price_sensitivity", "tenure"}


def test_control_fail_now_in_the_current_phase(
    frozen_api: Api, frozen: Emulator, clock: FakeClock
) -> None:
    sim = frozen_api.create()
    clock.advance(122.5)
    frozen.fail(sim["id"], error_log="numerical instability at step 3")
    failed = frozen_api.sim(sim["id"])
    assert failed["status"] == "FAILED"
    assert failed["error_log"] == "numerical instability at step 3"
    assert names(failed)[-2:] == ["PROCESSING_SIMULATION", "FAILED"]
    clock.advance(1000.0)
    assert frozen_api.sim(sim["id"])["status"] == "FAILED"


def test_control_fail_between_phases_blames_the_next_one(frozen_api: Api, frozen: Emulator) -> None:
    sim = frozen_api.post("/simulations/with-config", json={"prompt": "p", "config": CONFIG}).json()
    frozen.fail(sim["id"])
    failed = frozen_api.sim(sim["id"])
    assert names(failed) == ["PENDING", "PROCESSING_SIMULATION", "FAILED"]
    assert failed["error_log"].startswith("Simulator")


def test_control_fail_at_a_later_phase_waits_for_it(
    frozen_api: Api, frozen: Emulator, clock: FakeClock
) -> None:
    sim = frozen_api.create()
    clock.advance(1.0)
    frozen.fail(sim["id"], phase="analyst")
    seen: list[str] = []
    while not seen or seen[-1] != "FAILED":
        clock.advance(5.0)
        seen.append(frozen_api.sim(sim["id"])["status"])
    assert "PROCESSING_ANALYSIS" in seen
    failed = frozen_api.sim(sim["id"])
    assert names(failed) == [*PIPELINE[:-1], "FAILED"]
    assert failed["error_log"].startswith("Analyst")


def test_control_fail_of_a_finished_simulation_is_refused(
    frozen_api: Api, frozen: Emulator
) -> None:
    sim = frozen_api.create()
    frozen_api.finish(sim["id"])
    with pytest.raises(EmulatorError, match="409"):
        frozen.fail(sim["id"])
    with pytest.raises(EmulatorError, match="404"):
        frozen.fail("no-such-simulation")


def test_forced_status_lasts_its_duration(
    frozen_api: Api, frozen: Emulator, clock: FakeClock
) -> None:
    sim = frozen_api.create()
    clock.advance(2.0)
    real = frozen_api.sim(sim["id"])
    frozen.force_status(sim["id"], "QUEUED", duration=10.0)
    forced = frozen_api.sim(sim["id"])
    assert forced["status"] == "QUEUED"
    assert forced["lifecycle"] == real["lifecycle"]
    listed = frozen_api.get("/simulations", params={"status": "QUEUED"}).json()
    assert [item["id"] for item in listed["items"]] == [sim["id"]]
    clock.advance(10.0)
    assert frozen_api.sim(sim["id"])["status"] == "PROCESSING_CONFIG"


def test_forced_status_without_duration_stays(frozen_api: Api, frozen: Emulator) -> None:
    sim = frozen_api.create()
    frozen_api.finish(sim["id"])
    frozen.force_status(sim["id"], "PROCESSING_SIMULATION")
    assert frozen_api.finish(sim["id"])["status"] == "PROCESSING_SIMULATION"
    frozen.force_status(sim["id"], "FAILED")
    forced_failure = frozen_api.sim(sim["id"])
    assert isinstance(forced_failure["error_log"], str)


def test_deleted_simulation_answers_404(frozen_api: Api, frozen: Emulator) -> None:
    sim = frozen_api.create()
    frozen.delete_simulation(sim["id"])
    assert frozen_api.get(f"/simulations/{sim['id']}").status_code == 404
    with pytest.raises(EmulatorError, match="404"):
        frozen.delete_simulation(sim["id"])


def test_real_clock_run_at_speed(api: Api) -> None:
    started = time.monotonic()
    sim = api.create()
    done = api.wait(sim["id"], {"COMPLETED_ANALYSIS"}, timeout=5.0)
    elapsed = time.monotonic() - started
    assert names(done) == PIPELINE
    stamps = times(done)
    total = stamps[-1] - stamps[0]
    assert (240 + 3) / SPEED - 0.01 <= total <= (480 + 3) / SPEED + 0.01
    assert elapsed < 3.0


def test_a_config_given_by_put_is_kept_on_architect_rerun(
    frozen_api: Api, clock: FakeClock
) -> None:
    sim = frozen_api.create("Employees and remote work")
    clock.advance(122.5)
    assert frozen_api.put(f"/simulations/{sim['id']}/config", json=CONFIG).status_code == 200
    response = frozen_api.post(f"/simulations/{sim['id']}/architect", json={})
    assert response.status_code == 409
    assert set(response.json()) == {"detail", "status"}
    assert frozen_api.get(f"/simulations/{sim['id']}/config").json() == CONFIG
