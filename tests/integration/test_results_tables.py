"""Results where data scientists work, against the emulator: frames, comparison, reprs, HTML."""

from __future__ import annotations

import math
from typing import Any

import matplotlib
import pytest

import twyn_widgets as tw
from tests.conftest import real
from twyn_widgets._render import result_html
from twyn_widgets.models import REPR_LIMIT

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def runs(emu: Any) -> list[tuple[tw.SimulationResult, dict[str, Any]]]:
    """Two finished runs and, for each, the results JSON exactly as the server served it."""
    client = emu.client()
    sims = [client.create_simulation(f"tables: run {i}", title=f"Run {i}") for i in range(2)]
    out = []
    for sim in sims:
        result = client.watch(sim).result(real(30))
        served = client._call("GET", f"/simulations/{sim.id}/results")  # the raw JSON
        out.append((result, served))
    client.close()
    return out


def served_rows(served: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows = []
    for group in served["metrics"]["by_group"]:
        for step in group["timeline"]:
            for kind, part in (("variable", "variables"), ("action", "actions")):
                for name, value in (step.get(part) or {}).items():
                    rows.append((served["id"], group["group_id"], step["step"], name, kind, value))
    return rows


def test_frame_values_equal_the_served_timeline(runs: Any) -> None:
    for result, served in runs:
        frame = result.to_frame()
        got = [tuple(r) for r in frame.astype(object).itertuples(index=False)]
        expected = served_rows(served)
        assert len(expected) > 10
        assert got == expected
        assert frame["step"].dtype == "int64"
        assert frame["value"].dtype == "float64"


def test_compare_gives_each_runs_last_served_values(runs: Any) -> None:
    table = tw.compare([result for result, _ in runs])
    assert list(table.index) == [served["id"] for _, served in runs]
    for result, served in runs:
        assert table.loc[result.id, "title"] == served["title"]
        last: dict[str, float] = {}
        for group in served["metrics"]["by_group"]:
            for step in group["timeline"]:
                for part in ("variables", "actions"):
                    for name, value in (step.get(part) or {}).items():
                        if math.isfinite(value):
                            last[f"{group['group_id']}/{name}"] = value
        assert last
        assert {k: table.loc[result.id, k] for k in last} == last
        assert tw.final_values([result])[result.id] == last


def test_plot_metric_overlays_the_served_series(runs: Any) -> None:
    served = [s for _, s in runs]
    group = served[0]["metrics"]["by_group"][0]
    name = next(iter(group["timeline"][0]["variables"]))
    ax = tw.plot_metric([r for r, _ in runs], f"{group['group_id']}/{name}")
    assert len(ax.get_lines()) == 2
    expected = [step["variables"][name] for step in group["timeline"]]
    assert list(ax.get_lines()[0].get_ydata()) == expected
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Run 0", "Run 1"]


def test_reprs_of_served_objects_are_one_short_line(runs: Any) -> None:
    result, _ = runs[0]
    assert result.simulation is not None
    for obj in (result, result.simulation, result.metrics, result.analysis):
        text = repr(obj)
        assert len(text) <= REPR_LIMIT
        assert "\n" not in text
    groups = len(result.metrics.by_group)
    assert f"status='COMPLETED_ANALYSIS', len(metrics.by_group)={groups}, " in repr(result)


def test_result_html_repr_is_the_watchers_result_view(runs: Any) -> None:
    result, _ = runs[0]
    html = result._repr_html_()
    assert html == result_html(result)
    assert "Run 0" in html
    assert "twyn-chart" in html
