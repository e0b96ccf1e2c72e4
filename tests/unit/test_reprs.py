"""Short text faces: one line of at most 200 characters for simulations, results and their parts."""

from __future__ import annotations

import copy
import pickle
import re
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
        "status='COMPLETED_ANALYSIS', len(metrics.by_group)=1, metrics.steps=2, "
        "len(analysis.key_drivers)=1)"
    )


def test_metrics_and_analysis_reprs_give_counts() -> None:
    result = tw.SimulationResult.from_json(RESULTS)
    assert repr(result.metrics) == "Metrics(steps=2, len(by_group)=1)"
    assert repr(result.analysis) == (
        "Analysis(executive_summary='...', len(key_drivers)=1, len(risks)=1, "
        "len(recommendations)=1, len(report_markdown)=27)"
    )


_PART = re.compile(r"([A-Za-z_][\w.()]*)=('(?:[^'\\]|\\.)*'|[^,)]+)")


def _named_parts(text: str) -> list[tuple[str, str]]:
    """The ``name=value`` parts of a one-line repr (values as shown)."""
    inner = text[text.index("(") + 1 : -1]
    return _PART.findall(inner)


@pytest.mark.parametrize("what", ["result", "metrics", "analysis", "simulation", "key"])
def test_every_repr_part_is_named_for_what_it_shows(what: str) -> None:
    """Each ``name=value`` evaluates on the object to the value shown: a real attribute's name
    (or ``len(attribute)`` for a count), so what the repr says can be typed back."""
    served = dict(CREATED, status="COMPLETED_ANALYSIS", lifecycle={"states": COMPLETED_STATES})
    result = tw.SimulationResult.from_json(RESULTS)
    obj = {
        "result": result,
        "metrics": result.metrics,
        "analysis": result.analysis,
        "simulation": tw.Simulation.from_json(served),
        "key": tw.APIKey.from_json(
            {
                "key_id": "k1",
                "name": "ci",
                "is_active": True,
                "usage_count": 3,
                "rate_limit": 1000,
                "api_key": "twyn_live_" + "a" * 32,
            }
        ),
    }[what]
    parts = _named_parts(repr(obj))
    assert len(parts) >= 2, repr(obj)
    for name, shown in parts:
        attrs = {n: getattr(obj, n) for n in dir(obj) if not n.startswith("__")}
        value = eval(name, {"len": len}, attrs)
        if name == "api_key":  # masked on purpose: only the last four characters show
            assert shown.endswith(value[-4:] + "'")
            assert value not in shown
            continue
        assert shown in (repr(value), repr(str(value)), str(value)), (name, shown, value)


def test_simulation_repr_names_status_phase_and_counts_but_not_its_client() -> None:
    key = "twyn_test_" + "5ec7" * 16
    client = tw.TwynClient(key, "http://127.0.0.1:9")  # never called
    served = dict(CREATED, status="COMPLETED_ANALYSIS", lifecycle={"states": COMPLETED_STATES})
    sim = tw.Simulation.from_json(served, client=client)
    text = repr(sim)
    assert text.startswith(f"Simulation(id={sim.id!r}, title={sim.title!r}, ")
    assert "status='COMPLETED_ANALYSIS', phase='Analyst', len(lifecycle)=7" in text
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
