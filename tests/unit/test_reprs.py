"""Short text faces: one line of at most 200 characters for simulations, results and their parts."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import twyn_widgets as tw
from tests.docs_examples import COMPLETED_STATES, CREATED, RESULTS
from twyn_widgets.models import REPR_LIMIT, one_line_repr

LONG = "A very long title\nwith a newline " * 300


def hostile_results() -> dict[str, Any]:
    data = copy.deepcopy(RESULTS)
    data["id"] = "x" * 128
    data["title"] = LONG
    data["analysis"]["executive_summary"] = LONG
    data["analysis"]["key_drivers"] = [f"driver {i}" for i in range(500)]
    data["metrics"]["by_group"] *= 40
    return data


def faces() -> list[tuple[str, Any]]:
    result = tw.SimulationResult.from_json(hostile_results())
    sim = dict(CREATED, id="y" * 128, title=LONG, tags=["t"] * 1000)
    return [
        ("result", result),
        ("metrics", result.metrics),
        ("analysis", result.analysis),
        ("simulation", tw.Simulation.from_json(sim)),
    ]


@pytest.mark.parametrize(("what", "obj"), faces(), ids=[w for w, _ in faces()])
def test_repr_is_one_line_within_the_limit_even_for_huge_values(what: str, obj: Any) -> None:
    text = repr(obj)
    assert len(text) <= REPR_LIMIT == 200
    assert "\n" not in text
    assert text.endswith(")")


def test_result_repr_names_id_title_status_and_counts() -> None:
    data = dict(RESULTS, title="Price rise")
    text = repr(tw.SimulationResult.from_json(data))
    assert text == (
        "SimulationResult(id='550e8400-e29b-41d4-a716-446655440000', title='Price rise', "
        "status='COMPLETED_ANALYSIS', groups=1, steps=2, drivers=1)"
    )


def test_metrics_and_analysis_reprs_give_counts() -> None:
    result = tw.SimulationResult.from_json(RESULTS)
    assert repr(result.metrics) == "Metrics(groups=1, steps=2, variables=1, actions=1)"
    assert repr(result.analysis) == (
        "Analysis(summary='...', drivers=1, risks=1, recommendations=1, report_chars=27)"
    )


def test_simulation_repr_names_status_phase_and_counts_but_not_its_client() -> None:
    key = "twyn_test_" + "5ec7" * 16
    client = tw.TwynClient(key, "http://127.0.0.1:9")  # never called
    served = dict(CREATED, status="COMPLETED_ANALYSIS", lifecycle={"states": COMPLETED_STATES})
    sim = tw.Simulation.from_json(served, client=client)
    text = repr(sim)
    assert text.startswith(f"Simulation(id={sim.id!r}, title={sim.title!r}, ")
    assert "status='COMPLETED_ANALYSIS', phase='Analyst', states=7" in text
    assert "client" not in text.lower()
    assert "5ec7" not in text
    clone = pickle.loads(pickle.dumps(sim))
    assert clone.client is None
    assert clone == sim


def test_a_long_title_is_cut_with_an_ellipsis() -> None:
    text = repr(tw.SimulationResult.from_json(dict(RESULTS, title=LONG)))
    assert "title='A very long title\\nwith a newline A very long titl…'" in text


def test_many_long_parts_are_still_cut_to_the_limit() -> None:
    text = one_line_repr("Thing", **{f"part{i}": "v" * 50 for i in range(10)})
    assert len(text) == REPR_LIMIT
    assert text.startswith("Thing(part0='vvv")
    assert text.endswith("…)")
    assert one_line_repr("Thing", a=1, b=None, c="x") == "Thing(a=1, c='x')"


@given(
    sim_id=st.text(min_size=1, max_size=300),
    title=st.text(max_size=500),
    summary=st.text(max_size=500),
    drivers=st.lists(st.text(max_size=5), max_size=30),
)
def test_any_served_text_keeps_every_repr_on_one_short_line(
    sim_id: str, title: str, summary: str, drivers: list[str]
) -> None:
    data = dict(RESULTS, id=sim_id, title=title)
    data["analysis"] = dict(RESULTS["analysis"], executive_summary=summary, key_drivers=drivers)
    result = tw.SimulationResult.from_json(data)
    sim = tw.Simulation.from_json(dict(CREATED, id=sim_id, title=title))
    for obj in (result, result.analysis, result.metrics, sim):
        text = repr(obj)
        assert len(text) <= REPR_LIMIT
        assert text.splitlines() == [text]
