"""Property tests: parsing never raises anything but ProtocolError; schedules stay in bounds."""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from twyn_widgets.errors import ProtocolError
from twyn_widgets.models import (
    Analysis,
    Metrics,
    Phase,
    Simulation,
    SimulationPage,
    SimulationResult,
    Status,
)
from twyn_widgets.polling import Backoff, Fixed, PhaseAware, PollContext
from twyn_widgets.polling._poller import Fetch, PollState
from twyn_widgets.polling._schedules import MIN_INTERVAL

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)

statuses = st.sampled_from([s.value for s in Status]) | st.text(min_size=1, max_size=20)
timestamps = st.sampled_from(
    ["2025-11-24T01:00:00Z", "2025-11-24T01:00:00.5+02:00", "yesterday", "", "2025-13-45T99:00"]
)
simulation_like = st.fixed_dictionaries(
    {"id": st.text(max_size=40) | st.integers(), "status": statuses | st.none()},
    optional={
        "title": json_values,
        "tags": json_values,
        "created_at": timestamps | json_values,
        "error_log": json_values,
        "lifecycle": st.fixed_dictionaries(
            {"states": st.lists(st.fixed_dictionaries(
                {"name": statuses | st.integers(), "at": timestamps}), max_size=8) | json_values}
        ) | json_values,
    },
)  # fmt: skip


@settings(max_examples=150)
@given(simulation_like | json_values)
def test_simulation_parsing_gives_a_model_or_protocol_error(data: Any) -> None:
    try:
        sim = Simulation.from_json(data)
    except ProtocolError:
        return
    assert isinstance(sim.id, str)
    assert isinstance(sim.status, Status)
    sim.phase_durations()  # derived views never raise either
    _ = sim.failed_phase, sim.total_duration, sim.phase


@settings(max_examples=80)
@given(json_values)
def test_results_and_pages_parse_or_raise_protocol_error(data: Any) -> None:
    for parse in (SimulationResult.from_json, SimulationPage.from_json):
        with contextlib.suppress(ProtocolError):
            parse(data)


# -- structured strategies: the documented shapes, then one part of them spoiled ----------------

names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)
numbers = st.floats(allow_nan=False, allow_infinity=False, width=64) | st.integers(-(10**6), 10**6)
str_lists = st.lists(st.text(max_size=20), max_size=4)

analysis_json = st.fixed_dictionaries(
    {},
    optional={
        "executive_summary": st.text(max_size=40),
        "key_drivers": str_lists,
        "risks": str_lists,
        "recommendations": str_lists,
        "report_markdown": st.text(max_size=80),
    },
)
time_step_json = st.fixed_dictionaries(
    {
        "step": st.integers(0, 10_000),
        "variables": st.dictionaries(names, numbers, max_size=4),
        "actions": st.dictionaries(names, numbers, max_size=4),
    },
    optional={"timestamp": st.text(max_size=25)},
)
metrics_json = st.fixed_dictionaries(
    {
        "by_group": st.lists(
            st.fixed_dictionaries(
                {"group_id": names, "timeline": st.lists(time_step_json, max_size=3)}
            ),
            max_size=2,
        )
    },
    optional={"global": json_values},
)


@given(analysis_json)
def test_a_documented_analysis_parses_to_exactly_its_values(data: dict[str, Any]) -> None:
    analysis = Analysis.from_json(data)
    assert analysis.executive_summary == data.get("executive_summary", "")
    assert list(analysis.key_drivers) == data.get("key_drivers", [])
    assert list(analysis.risks) == data.get("risks", [])
    assert list(analysis.recommendations) == data.get("recommendations", [])
    assert analysis.report_markdown == data.get("report_markdown", "")


@settings(max_examples=50)
@given(metrics_json)
def test_documented_metrics_parse_to_exactly_their_values(data: dict[str, Any]) -> None:
    metrics = Metrics.from_json(data)
    assert [g.group_id for g in metrics.by_group] == [g["group_id"] for g in data["by_group"]]
    for group, raw in zip(metrics.by_group, data["by_group"], strict=True):
        assert [t.step for t in group.timeline] == [t["step"] for t in raw["timeline"]]
        for step, raw_step in zip(group.timeline, raw["timeline"], strict=True):
            assert dict(step.variables) == {k: float(v) for k, v in raw_step["variables"].items()}
            assert dict(step.actions) == {k: float(v) for k, v in raw_step["actions"].items()}
            assert step.timestamp == raw_step.get("timestamp")
        for name in group.names[0]:
            assert len(group.series(name)) == len(group.timeline)


def paths(data: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every node of a JSON document, as the keys and indexes that reach it."""
    out = [at]
    if isinstance(data, dict):
        for key, value in data.items():
            out += paths(value, (*at, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += paths(value, (*at, i))
    return out


def replaced(data: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    head, rest = at[0], at[1:]
    if isinstance(data, dict):
        return {**data, head: replaced(data[head], rest, new)}
    return [*data[:head], replaced(data[head], rest, new), *data[head + 1 :]]


def spoil(data: Any, draw: st.DrawFn) -> Any:
    """``data`` with one node, any node with the same chance, replaced by arbitrary JSON."""
    return replaced(data, draw(st.sampled_from(paths(data))), draw(json_values))


@st.composite
def spoiled(draw: st.DrawFn, shape: st.SearchStrategy[Any]) -> Any:
    return spoil(draw(shape), draw)


@settings(max_examples=100)
@given(spoiled(analysis_json))
def test_a_spoiled_analysis_gives_a_model_or_protocol_error(data: Any) -> None:
    with contextlib.suppress(ProtocolError):
        analysis = Analysis.from_json(data)
        assert isinstance(analysis.executive_summary, str)
        assert all(isinstance(d, str) for d in analysis.key_drivers)


@settings(max_examples=60)
@given(spoiled(metrics_json))
def test_spoiled_metrics_give_a_model_or_protocol_error(data: Any) -> None:
    with contextlib.suppress(ProtocolError):
        metrics = Metrics.from_json(data)
        for group in metrics.by_group:
            assert isinstance(group.group_id, str)
            for step in group.timeline:
                assert all(isinstance(v, float) for v in step.variables.values())
                assert all(isinstance(v, float) for v in step.actions.values())


contexts = st.builds(
    PollContext,
    st.none() | statuses.map(Status),
    st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.integers(min_value=0, max_value=10_000),
)
positive = st.floats(min_value=0.001, max_value=1e4, allow_nan=False, allow_infinity=False)


@given(contexts, positive, positive, positive)
def test_every_schedule_answers_a_finite_positive_delay(
    context: PollContext, a: float, b: float, c: float
) -> None:
    for schedule in (Fixed(a), Backoff((a, b, c)), PhaseAware(interval=a, final_interval=b,
                                                              max_interval=c)):  # fmt: skip
        delay = schedule.next_delay(context)
        assert 0 < delay < float("inf")


T0 = 1_764_000_000.0
statuses_seen = st.sampled_from([s.value for s in Status if s.value != "FAILED"]) | st.text(
    st.characters(min_codepoint=65, max_codepoint=90), min_size=1, max_size=12
)


@given(
    st.sampled_from(["fixed", "backoff", "phase"]),
    positive,
    positive,
    positive,
    st.sampled_from([1.0, 1 / 60, 1 / 600]),
    st.lists(st.tuples(statuses_seen, st.floats(0, 1e5)), min_size=1, max_size=6),
)
def test_the_machine_never_polls_faster_than_the_floor_whatever_the_schedule(
    kind: str, a: float, b: float, c: float, scale: float, seen: list[tuple[str, float]]
) -> None:
    schedule = {
        "fixed": Fixed(a),
        "backoff": Backoff((a, b, c)),
        "phase": PhaseAware(interval=a, final_interval=b, max_interval=c),
    }[kind]
    machine = PollState("s", schedule, time_scale=scale)
    now = T0
    for status, elapsed in seen:
        states = [{"name": "PENDING", "at": "2025-11-24T01:00:00Z"}]
        entered = datetime.fromtimestamp(now - elapsed * scale, timezone.utc)
        states.append({"name": status, "at": entered.isoformat().replace("+00:00", "Z")})
        sim = Simulation.from_json(
            {"id": "s", "status": status, "lifecycle": {"states": states}, "error_log": None}
        )
        decision = machine.on_simulation(sim, now)
        if decision.ended or decision.fetch is Fetch.RESULTS:
            break  # the end, or a results fetch: no status poll follows
        assert decision.at is not None
        assert decision.at - now >= MIN_INTERVAL * scale - 1e-6  # epoch floats: ~0.2 us
        now = decision.at


@given(contexts)
def test_default_phase_aware_stays_between_the_floor_and_its_cap(context: PollContext) -> None:
    delay = PhaseAware().next_delay(context)
    assert MIN_INTERVAL <= delay <= 60


@given(st.floats(min_value=0, max_value=400))
def test_phase_aware_polls_at_least_every_max_interval_so_a_watch_reaches_its_timeout(
    elapsed: float,
) -> None:
    """Sum of waits never jumps past the 600 s timeout by more than one max_interval."""
    schedule = PhaseAware()
    for phase in Phase:
        assert schedule.next_delay(PollContext(phase.processing_status, elapsed, 3)) <= 60
