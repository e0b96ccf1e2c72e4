"""Deterministic content: same prompt, same config; same config, same metrics and analysis."""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from twyn_widgets.emulator._domain import _content as content
from twyn_widgets.emulator._domain._analysis import generate_analysis
from twyn_widgets.emulator._domain._lifecycle import ARCHITECT, PHASES, Failure, build_plan
from twyn_widgets.emulator._domain._metrics import generate_metrics
from twyn_widgets.emulator._domain._seeding import canonical
from twyn_widgets.emulator._domain._timeutil import iso_ms
from twyn_widgets.emulator._http._schemas import Analysis, SimulationConfig

from .conftest import Api

ROOT = Path(__file__).resolve().parents[2]

PROMPTS = [
    "What happens to churn if we increase prices by 15%?",
    "Remote work policy and employee retention over 18 months",
    "City transit fare cut: commuters switching from cars",
    "Vaccination campaign during a flu outbreak, weekly",
    "x",
    "",
]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_generated_config_is_valid_and_rich(prompt: str) -> None:
    config = content.generate_config(prompt)
    SimulationConfig.model_validate(config)
    groups = config["agent_groups"]
    assert 1 <= len(groups) <= 3
    assert len({group["id"] for group in groups}) == len(groups)
    first = groups[0]
    assert {spec["type"] for spec in first["variables"].values()} == {
        "normal",
        "uniform",
        "initial_value",
    }
    assert {spec["type"] for spec in first["actions"].values()} == {
        "binary",
        "discrete",
        "continuous",
    }


def test_same_prompt_same_content_and_markers_are_ignored() -> None:
    prompt = PROMPTS[0]
    config = content.generate_config(prompt)
    assert content.generate_config(prompt) == config
    assert content.generate_config(prompt + " [fail:analyst]") == config
    assert content.generate_config(PROMPTS[1]) != config
    metrics = generate_metrics(config)
    assert generate_metrics(config) == metrics
    assert generate_analysis(config, metrics) == generate_analysis(config, metrics)


def test_content_does_not_depend_on_the_hash_seed() -> None:
    def sample() -> str:
        cfg = content.generate_config("price rise and churn")
        return canonical([cfg, generate_metrics(cfg)["by_group"][0]["timeline"][-1]])

    code = (
        "from twyn_widgets.emulator._domain import _content as c, _metrics as m, _seeding as s; "
        "cfg = c.generate_config('price rise and churn'); "
        "print(s.canonical([cfg, m.generate_metrics(cfg)['by_group'][0]['timeline'][-1]]))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=ROOT,
    ).stdout.strip()
    assert other == sample()


def test_horizon_phrases_set_step_unit_and_steps() -> None:
    assert content.generate_config("effect over 6 months")["step_unit"] == "month"
    assert content.generate_config("effect over 6 months")["number_of_steps"] == 6
    assert content.generate_config("a 24-week test")["number_of_steps"] == 24
    assert content.generate_config("daily demand")["step_unit"] == "day"


def test_metrics_are_smooth_bounded_timelines_from_step_0() -> None:
    config = content.generate_config(PROMPTS[0])
    metrics = generate_metrics(config)
    steps = config["number_of_steps"]
    for group, spec in zip(metrics["by_group"], config["agent_groups"], strict=False):
        assert group["group_id"] == spec["id"]
        timeline = group["timeline"]
        assert [entry["step"] for entry in timeline] == list(range(steps + 1))
        assert set(timeline[0]["variables"]) == set(spec["variables"])
        assert set(timeline[0]["actions"]) == set(spec["actions"])
        for name, action in spec["actions"].items():
            values = [entry["actions"][name] for entry in timeline]
            if action["type"] == "binary":
                assert all(0.0 <= value <= 1.0 for value in values)
        for name in spec["variables"]:
            values = [entry["variables"][name] for entry in timeline]
            spread = (max(values) - min(values)) or 1.0
            jumps = [abs(b - a) for a, b in itertools.pairwise(values)]
            assert max(jumps) <= 0.5 * spread, name


def test_analysis_has_every_field_and_a_markdown_report() -> None:
    config = content.generate_config(PROMPTS[1])
    analysis = generate_analysis(config, generate_metrics(config))
    Analysis.model_validate(analysis)
    assert analysis["key_drivers"]
    assert analysis["risks"]
    assert analysis["recommendations"]
    report = analysis["report_markdown"]
    assert report.startswith("# Full Analysis Report")
    for heading in ("## Executive Summary", "## Key Drivers", "## Risks", "## Recommendations"):
        assert heading in report


@pytest.mark.parametrize("prompt", PROMPTS)
def test_titles_have_at_most_five_words(prompt: str) -> None:
    title = content.make_title(prompt)
    assert 1 <= len(title.split()) <= 5
    assert "[fail" not in content.make_title("Churn study [fail:simulator]")


def test_failure_messages_follow_the_documented_causes() -> None:
    config = content.generate_config("prompt")
    for phase in PHASES:
        message = content.error_log_for(phase, "prompt", config)
        assert message.lower().startswith(phase)
        assert message == content.error_log_for(phase, "prompt", config)
    assert content.fail_markers("a [fail:Simulator] b [fail:analyst]") == ["simulator", "analyst"]


def _quoted_names(message: str) -> set[str]:
    return set(re.findall(r"'([^']+)'", message))


@pytest.mark.parametrize("prompt", [*PROMPTS, "Remote work and wages", "EV transit fares"])
def test_failure_messages_name_the_configs_own_groups_and_variables(prompt: str) -> None:
    config = content.generate_config(prompt)
    known = {group["id"] for group in config["agent_groups"]}
    for group in config["agent_groups"]:
        known |= set(group["variables"])
    named: set[str] = set()
    for phase in PHASES:
        for variant in range(12):
            message = content.error_log_for(phase, f"{prompt} {variant}", config)
            assert _quoted_names(message) <= known, message
            named |= _quoted_names(message)
    assert named


def test_failure_messages_for_a_group_without_variables_name_no_variable() -> None:
    config = {
        "step_unit": "week",
        "number_of_steps": 4,
        "agent_groups": [
            {"id": "bare", "name": "Bare", "number_of_agents": 3, "variables": {}, "actions": {}}
        ],
    }
    for variant in range(20):
        message = content.error_log_for("simulator", f"p{variant}", config)
        assert _quoted_names(message) <= {"bare"}, message
        assert "variable ''" not in message


def test_plans_follow_the_documented_ranges_and_scale_with_speed() -> None:
    slow = build_plan(0.0, ["PENDING"], PHASES, rng=random.Random(1), speed=1.0, failures={})
    fast = build_plan(0.0, ["PENDING"], PHASES, rng=random.Random(1), speed=100.0, failures={})
    assert [entry.name for entry in slow.entries] == [entry.name for entry in fast.entries]
    assert fast.entries[-1].at == pytest.approx(slow.entries[-1].at / 100, abs=0.01)
    failing = build_plan(
        0.0,
        ["PENDING"],
        PHASES,
        rng=random.Random(1),
        speed=1.0,
        failures={ARCHITECT: Failure(ARCHITECT, "boom")},
    )
    assert [entry.name for entry in failing.entries] == ["PENDING", "PROCESSING_CONFIG", "FAILED"]
    assert 30.0 <= failing.entries[-1].at - failing.entries[-2].at <= 60.0


def test_timestamps_have_milliseconds_and_z() -> None:
    assert iso_ms(1763946000.1239) == "2025-11-24T01:00:00.123Z"
    assert iso_ms(1763946000.0) == "2025-11-24T01:00:00.000Z"


def test_same_prompt_same_results_over_http(frozen_api: Api) -> None:
    first = frozen_api.create("Loyalty programme for customers [fail:never]")
    second = frozen_api.create("Loyalty programme for customers [fail:never]")
    frozen_api.finish(first["id"])
    one = frozen_api.get(f"/simulations/{first['id']}/results").json()
    two = frozen_api.get(f"/simulations/{second['id']}/results").json()
    for field in ("config", "metrics", "analysis", "title"):
        assert one[field] == two[field]
