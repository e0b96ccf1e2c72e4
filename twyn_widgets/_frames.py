"""Results as tables: tidy pandas frames, final values per run, a comparison, an overlay plot.

pandas and matplotlib are optional (the ``pandas`` and ``notebooks`` extras) and imported only
when a function that needs them is called, so ``import twyn_widgets`` stays light.
:func:`final_values` and :func:`metric_rows` are plain Python and need neither.

This module reads the models by their attributes only (no runtime import of
:mod:`twyn_widgets.models`), so the models can call it without an import cycle.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from .models import Metrics, SimulationResult

__all__ = [
    "FRAME_COLUMNS",
    "MetricRow",
    "compare",
    "final_values",
    "metric_rows",
    "metrics_frame",
    "plot_metric",
]

FRAME_COLUMNS = ("simulation_id", "group", "step", "metric", "kind", "value")
"""The columns of :meth:`SimulationResult.to_frame`, in order."""

KINDS = ("variable", "action")


class MetricRow(NamedTuple):
    """One value of one metric at one step: a row of the tidy frame."""

    simulation_id: str
    group: str
    step: int
    metric: str
    kind: str
    value: float


def _optional(module: str, extra: str, what: str) -> Any:
    """Import an optional dependency, or raise an ImportError that names the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{what} needs {module}, which is not installed: pip install 'twyn-widgets[{extra}]'",
            name=module,
        ) from exc


def _pandas(what: str) -> Any:
    return _optional("pandas", "pandas", what)


def metric_rows(metrics: Metrics, simulation_id: str) -> Iterator[MetricRow]:
    """Every value of the timelines, group by group and step by step, variables then actions."""
    for group in metrics.by_group:
        for step in group.timeline:
            for name, value in step.variables.items():
                yield MetricRow(simulation_id, group.group_id, step.step, name, "variable", value)
            for name, value in step.actions.items():
                yield MetricRow(simulation_id, group.group_id, step.step, name, "action", value)


def metrics_frame(metrics: Metrics, simulation_id: str) -> pd.DataFrame:
    """The tidy long frame of :meth:`SimulationResult.to_frame` (see there)."""
    pd = _pandas("to_frame()")
    rows = list(metric_rows(metrics, simulation_id))
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(FRAME_COLUMNS)
    data = dict(zip(FRAME_COLUMNS, columns, strict=True))
    frame = pd.DataFrame(
        {
            "simulation_id": pd.Categorical(data["simulation_id"]),
            "group": pd.Categorical(data["group"]),
            "step": pd.array(data["step"], dtype="int64"),
            "metric": pd.Categorical(data["metric"]),
            "kind": pd.Categorical(data["kind"], categories=list(KINDS)),
            "value": pd.array(data["value"], dtype="float64"),
        },
        columns=list(FRAME_COLUMNS),
    )
    return frame  # type: ignore[no-any-return]


def _key(group: str, metric: str) -> str:
    return f"{group}/{metric}"


def _finished(results: Iterable[SimulationResult | BaseException]) -> list[SimulationResult]:
    # What board.wait(return_exceptions=True) gives holds exceptions for the runs that failed:
    # they have no values to compare and are left out.
    return [r for r in results if not isinstance(r, BaseException)]


def final_values(
    results: Iterable[SimulationResult | BaseException],
) -> dict[str, dict[str, float]]:
    """Each run's final value of every metric, without pandas.

    Parameters
    ----------
    results
        Finished simulations' results (exceptions in the list are left out).

    Returns
    -------
    dict
        ``{simulation_id: {"group/metric": value}}``: for each metric, its value at the last step
        where it is a finite number (a metric never finite is left out). Metrics keep their
        first-seen order; a name that is both a variable and an action of one group is read
        as the variable, as :meth:`GroupMetrics.series` does.
    """
    out: dict[str, dict[str, float]] = {}
    for result in _finished(results):
        values: dict[str, float] = {}
        for group in result.metrics.by_group:
            for step in group.timeline:
                for name in dict.fromkeys([*step.variables, *step.actions]):
                    value = step.variables.get(name, step.actions.get(name))
                    if value is not None and math.isfinite(value):
                        values[_key(group.group_id, name)] = value
        out[result.id] = values
    return out


def compare(results: Iterable[SimulationResult | BaseException]) -> pd.DataFrame:
    """Compare runs: one row per simulation with the final value of every metric.

    Parameters
    ----------
    results
        Finished simulations' results, for example ``board.wait(return_exceptions=True)``:
        an exception in the list (a run that failed) is left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``simulation_id``; a ``title`` column, then one float column per
        ``group/metric`` holding its last finite value (:func:`final_values`), NaN where a run
        lacks that metric.

    Raises
    ------
    ImportError
        pandas is not installed (``pip install 'twyn-widgets[pandas]'``).

    Examples
    --------
    ``tw.compare([low.wait(), high.wait()])["customers/churn"]`` is each run's final churn.
    """
    pd = _pandas("tw.compare()")
    runs = _finished(results)
    finals = final_values(runs)
    metrics: dict[str, None] = {}
    for values in finals.values():
        metrics.update(dict.fromkeys(values))
    index = pd.Index([r.id for r in runs], name="simulation_id", dtype="object")
    frame = pd.DataFrame(
        {
            "title": pd.array([r.title for r in runs], dtype="object"),
            **{
                m: pd.array([finals[r.id].get(m, math.nan) for r in runs], dtype="float64")
                for m in metrics
            },
        },
        index=index,
    )
    return frame  # type: ignore[no-any-return]


def plot_metric(
    results: Iterable[SimulationResult | BaseException], metric: str, ax: Axes | None = None
) -> Axes:
    """Overlay one metric across runs: one line per simulation, steps on the x axis.

    Parameters
    ----------
    results
        Finished simulations' results (exceptions in the list are left out).
    metric
        ``"group/metric"``, as in the columns of :func:`compare` (``"customers/churn"``).
    ax
        The matplotlib Axes to draw on; a new figure's by default.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on, with a legend of the runs' titles (their ids when untitled).

    Raises
    ------
    ValueError
        ``metric`` is not ``"group/metric"``, or no run has it.
    ImportError
        matplotlib is not installed (``pip install 'twyn-widgets[notebooks]'``).
    """
    group_id, sep, name = metric.partition("/")
    if not sep or not group_id or not name:
        raise ValueError(f"metric should be 'group/metric' (got {metric!r})")
    if ax is None:
        plt = _optional("matplotlib.pyplot", "notebooks", "tw.plot_metric()")
        _, ax = plt.subplots()
    else:
        _optional("matplotlib", "notebooks", "tw.plot_metric()")
    assert ax is not None
    drawn = 0
    for result in _finished(results):
        for group in result.metrics.by_group:
            if group.group_id != group_id:
                continue
            points = [
                (step.step, step.variables.get(name, step.actions.get(name)))
                for step in group.timeline
            ]
            xs = [x for x, y in points if y is not None]
            ys = [y for _, y in points if y is not None]
            if xs:
                ax.plot(xs, ys, marker=".", label=result.title or result.id)
                drawn += 1
    if not drawn:
        raise ValueError(f"no result has the metric {metric!r}")
    ax.set_xlabel("step")
    ax.set_ylabel(metric)
    ax.legend()
    return ax
