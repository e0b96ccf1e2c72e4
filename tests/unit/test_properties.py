"""Property tests: parsing never raises anything but ProtocolError; schedules stay in bounds."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from twyn_widgets.errors import ProtocolError
from twyn_widgets.models import Phase, Simulation, SimulationPage, SimulationResult, Status
from twyn_widgets.polling import MIN_INTERVAL, Backoff, Fixed, PhaseAware, PollContext

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


@settings(max_examples=300)
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


@settings(max_examples=200)
@given(json_values)
def test_results_and_pages_parse_or_raise_protocol_error(data: Any) -> None:
    for parse in (SimulationResult.from_json, SimulationPage.from_json):
        with contextlib.suppress(ProtocolError):
            parse(data)


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


@given(contexts)
def test_default_phase_aware_stays_between_the_floor_and_its_cap(context: PollContext) -> None:
    delay = max(MIN_INTERVAL, PhaseAware().next_delay(context))
    assert MIN_INTERVAL <= delay <= 30


@given(st.floats(min_value=0, max_value=400))
def test_phase_aware_polls_at_least_every_max_interval_so_a_watch_reaches_its_timeout(
    elapsed: float,
) -> None:
    """Sum of waits never jumps past the 600 s timeout by more than one max_interval."""
    schedule = PhaseAware()
    for phase in Phase:
        assert schedule.next_delay(PollContext(phase.processing_status, elapsed, 3)) <= 30
