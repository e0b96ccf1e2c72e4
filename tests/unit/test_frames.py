"""Results as tables, on the docs' JSON: the tidy frame, final values, the comparison, the plot."""

from __future__ import annotations

import copy
import math
from typing import Any

import matplotlib
import pandas as pd
import pytest

import twyn_widgets as tw
from tests.docs_examples import RESULTS
from twyn_widgets.models import GroupMetrics, Metrics, SimulationResult, TimeStep

matplotlib.use("Agg")

SIM_ID = RESULTS["id"]

# The docs' timeline (RESULTS), written out row by row as the frame must give it.
DOCS_ROWS = [
    (SIM_ID, "customers", 0, "satisfaction", "variable", 0.75),
    (SIM_ID, "customers", 0, "churn", "action", 0.02),
    (SIM_ID, "customers", 1, "satisfaction", "variable", 0.68),
    (SIM_ID, "customers", 1, "churn", "action", 0.05),
]


def other_run() -> dict[str, Any]:
    """A second run: another id and title, other values, and a metric the first run lacks."""
    data = copy.deepcopy(RESULTS)
    data["id"] = "run-2"
    data["title"] = "Higher price"
    timeline = data["metrics"]["by_group"][0]["timeline"]
    timeline[1]["actions"]["churn"] = 0.11
    timeline[1]["variables"]["price"] = 12.5
    return data


def rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in frame.astype(object).itertuples(index=False)]


def test_to_frame_has_exactly_the_tidy_columns_and_their_dtypes() -> None:
    frame = SimulationResult.from_json(RESULTS).to_frame()
    assert list(frame.columns) == ["simulation_id", "group", "step", "metric", "kind", "value"]
    assert frame["step"].dtype == "int64"
    assert frame["value"].dtype == "float64"
    for name in ("simulation_id", "group", "metric", "kind"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
    assert list(frame["kind"].cat.categories) == ["variable", "action"]


def test_to_frame_rows_are_the_docs_timeline() -> None:
    assert rows(SimulationResult.from_json(RESULTS).to_frame()) == DOCS_ROWS


def test_metrics_to_frame_is_the_same_frame() -> None:
    result = SimulationResult.from_json(RESULTS)
    pd.testing.assert_frame_equal(result.metrics.to_frame(simulation_id=SIM_ID), result.to_frame())


def test_empty_metrics_give_an_empty_frame_with_the_same_columns_and_dtypes() -> None:
    frame = Metrics().to_frame(simulation_id="x")
    full = SimulationResult.from_json(RESULTS).to_frame()
    assert frame.empty
    assert list(frame.columns) == list(full.columns)
    assert frame["step"].dtype == "int64"
    assert frame["value"].dtype == "float64"
    assert isinstance(frame["kind"].dtype, pd.CategoricalDtype)


def hand_made(values: list[float]) -> SimulationResult:
    timeline = tuple(
        TimeStep(step=i, variables={"level": v}, actions={}) for i, v in enumerate(values)
    )
    return SimulationResult(
        id="hand",
        status=tw.Status.COMPLETED_ANALYSIS,
        title="by hand",
        prompt="",
        config={},
        metrics=Metrics(by_group=(GroupMetrics("tank", timeline),)),
        analysis=tw.Analysis(),
    )


def test_final_values_are_the_last_finite_values_per_group_metric() -> None:
    first = SimulationResult.from_json(RESULTS)
    assert tw.final_values([first]) == {
        SIM_ID: {"customers/satisfaction": 0.68, "customers/churn": 0.05}
    }
    tail = hand_made([1.0, 2.0, math.nan, math.inf])
    assert tw.final_values([tail]) == {"hand": {"tank/level": 2.0}}
    assert tw.final_values([hand_made([math.nan])]) == {"hand": {}}


def test_compare_has_one_row_per_run_with_title_and_final_values() -> None:
    first = SimulationResult.from_json(RESULTS)
    second = SimulationResult.from_json(other_run())
    table = tw.compare([first, second])
    assert list(table.index) == [SIM_ID, "run-2"]
    assert table.index.name == "simulation_id"
    assert list(table.columns) == [
        "title",
        "customers/satisfaction",
        "customers/churn",
        "customers/price",
    ]
    assert list(table["title"]) == ["", "Higher price"]
    assert table.loc[SIM_ID, "customers/churn"] == 0.05
    assert table.loc["run-2", "customers/churn"] == 0.11
    assert table.loc["run-2", "customers/price"] == 12.5
    assert math.isnan(table.loc[SIM_ID, "customers/price"])
    assert table["customers/churn"].dtype == "float64"


def test_compare_leaves_out_the_failed_runs_of_a_board_wait() -> None:
    # What board.wait(return_exceptions=True) returns: a failed run stands as its exception.
    failed = tw.SimulationFailed("run-3", "Simulator failed", "Simulator")
    runs = [SimulationResult.from_json(RESULTS), failed, SimulationResult.from_json(other_run())]
    assert list(tw.compare(runs).index) == [SIM_ID, "run-2"]
    assert list(tw.final_values(runs)) == [SIM_ID, "run-2"]


def test_compare_of_no_runs_is_an_empty_table() -> None:
    table = tw.compare([])
    assert table.empty
    assert list(table.columns) == ["title"]


def test_plot_metric_draws_one_line_per_run_with_its_values() -> None:
    first = SimulationResult.from_json(RESULTS)
    second = SimulationResult.from_json(other_run())
    ax = tw.plot_metric([first, second], "customers/churn")
    assert [list(line.get_ydata()) for line in ax.get_lines()] == [[0.02, 0.05], [0.02, 0.11]]
    assert [list(line.get_xdata()) for line in ax.get_lines()] == [[0, 1], [0, 1]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [SIM_ID, "Higher price"]
    assert ax.get_ylabel() == "customers/churn"


def test_plot_metric_draws_on_the_axes_given() -> None:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    assert tw.plot_metric([SimulationResult.from_json(RESULTS)], "customers/churn", ax=ax) is ax
    assert len(ax.get_lines()) == 1


@pytest.mark.parametrize("metric", ["churn", "customers/", "/churn", "customers/nothing"])
def test_plot_metric_refuses_a_metric_no_run_has(metric: str) -> None:
    with pytest.raises(ValueError, match="metric"):
        tw.plot_metric([SimulationResult.from_json(RESULTS)], metric)
