"""The emulated Architect designs what the prompt asks about.

A prompt that names a metric (churn, spend, retention, ...) gets that metric in the group a
user would guess, a lever such as "a 10% price increase" moves it the way it should, and the
Analyst's text talks about it. Checked on the pure functions and over HTTP with the client.
"""

from __future__ import annotations

import itertools
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import pytest

import twyn_widgets as tw
from tests.conftest import real
from twyn_widgets.emulator._domain import _content as content
from twyn_widgets.emulator._domain._analysis import generate_analysis
from twyn_widgets.emulator._domain._metrics import generate_metrics

matplotlib.use("Agg")

README_PROMPT = "How will a 10% price increase affect churn?"

SWEEP = [f"How will a {p}% price increase affect churn?" for p in (5, 10, 15, 20)]

ASKED = [
    # (prompt, the group a user would guess, the metric the prompt names)
    (README_PROMPT, "customers", "churn"),
    ("What happens to churn if we increase prices by 15%?", "customers", "churn"),
    ("Customer attrition after we drop the free tier", "customers", "churn"),
    ("How does a new onboarding flow change retention?", "customers", "retention"),
    ("Will a loyalty programme help us retain subscribers?", "customers", "retention"),
    ("Customer satisfaction after moving support offshore", "customers", "satisfaction"),
    ("Effect of raising prices on customer spend", "customers", "spend"),
    ("How will a price change affect spending?", "customers", "spend"),
    ("Revenue impact of a 20% discount for students", "customers", "revenue"),
    ("How many users upgrade when the premium plan gets AI features?", "customers", "upgrade"),
    ("Upsell rate with a 10-seat minimum", "customers", "upgrade"),
    ("Will a free trial grow subscriptions?", "customers", "subscribe"),
    ("Adoption of our new mobile app over 6 months", "customers", "adoption"),
    ("What if we raise the price by 5%?", "customers", "price"),
    ("Employee retention under a remote work policy over 18 months", "employees", "retention"),
    ("Household spending as inflation rises", "households", "spend"),
]


def names(group: dict[str, Any]) -> set[str]:
    return set(group["variables"]) | set(group["actions"])


def series(metrics: dict[str, Any], group_id: str, name: str) -> list[float]:
    group = next(g for g in metrics["by_group"] if g["group_id"] == group_id)
    return [step["variables"].get(name, step["actions"].get(name)) for step in group["timeline"]]


@pytest.mark.parametrize(("prompt", "group_id", "metric"), ASKED)
def test_the_metric_a_prompt_names_is_in_the_main_group_and_its_timeline(
    prompt: str, group_id: str, metric: str
) -> None:
    config = content.generate_config(prompt)
    main = config["agent_groups"][0]
    assert main["id"] == group_id, [g["id"] for g in config["agent_groups"]]
    assert metric in names(main)
    values = series(generate_metrics(config), group_id, metric)
    assert len(values) == config["number_of_steps"] + 1
    assert all(isinstance(value, float) for value in values)
    assert max(values) > min(values), "a flat line shows no trend"


def test_a_prompt_that_names_a_population_adds_no_unrelated_one() -> None:
    ids = [g["id"] for g in content.generate_config(README_PROMPT)["agent_groups"]]
    assert ids[0] == "customers"
    assert "commuters" not in ids
    assert "investors" not in ids


@pytest.mark.parametrize("prompt", [README_PROMPT, *[p for p, _, _ in ASKED[4:9]]])
def test_the_design_is_a_function_of_the_prompt(prompt: str) -> None:
    config = content.generate_config(prompt)
    assert content.generate_config(prompt) == config
    assert content.generate_config(f"{prompt} [fail:simulator]") == config
    metrics = generate_metrics(config)
    assert generate_metrics(config) == metrics
    assert generate_analysis(config, metrics, prompt) == generate_analysis(config, metrics, prompt)


@pytest.mark.parametrize("prompt", SWEEP)
def test_churn_rises_after_a_price_increase(prompt: str) -> None:
    churn = series(generate_metrics(content.generate_config(prompt)), "customers", "churn")
    assert churn[-1] > churn[0]


@pytest.mark.parametrize(
    "prompt",
    ["How will a 10% price cut affect churn?", "Effect of annual billing discounts on churn"],
)
def test_churn_falls_after_a_price_cut(prompt: str) -> None:
    churn = series(generate_metrics(content.generate_config(prompt)), "customers", "churn")
    assert churn[-1] < churn[0]


def test_the_price_follows_the_increase_the_prompt_states() -> None:
    config = content.generate_config("What if we raise the price by 5%?")
    price = series(generate_metrics(config), "customers", "price")
    assert price[-1] == pytest.approx(price[0] * 1.05, abs=1e-9)
    assert all(a <= b for a, b in itertools.pairwise(price)), "a price rise does not wobble"


def test_a_larger_price_increase_ends_with_more_churn() -> None:
    finals = [
        series(generate_metrics(content.generate_config(p)), "customers", "churn")[-1]
        for p in SWEEP
    ]
    assert all(a < b for a, b in itertools.pairwise(finals)), finals


@pytest.mark.parametrize(("prompt", "group_id", "metric"), ASKED)
def test_the_analysis_talks_about_the_metric_the_prompt_names(
    prompt: str, group_id: str, metric: str
) -> None:
    config = content.generate_config(prompt)
    analysis = generate_analysis(config, generate_metrics(config), prompt)
    label = metric.replace("_", " ")
    assert label in analysis["executive_summary"].lower()
    assert label in analysis["key_drivers"][0].lower()


def test_the_readme_prompt_gives_customers_churn_over_http(client: Any) -> None:
    result = client.watch(client.create_simulation(README_PROMPT)).result(real(30))
    frame = result.to_frame()
    churn = frame[(frame.metric == "churn") & (frame.group == "customers")]
    assert len(churn) == result.config["number_of_steps"] + 1
    assert churn.value.iloc[-1] > churn.value.iloc[0]
    assert "churn" in result.analysis.executive_summary.lower()
    assert "churn" in result.analysis.key_drivers[0].lower()


def test_a_price_sweep_compares_and_plots_customers_churn(client: Any) -> None:
    sims = [client.create_simulation(prompt) for prompt in SWEEP]
    results = [client.watch(sim).result(real(30)) for sim in sims]

    for result in results:
        df = result.to_frame()
        ax = df[df.metric == "churn"].pivot(index="step", columns="group", values="value").plot()
        assert [line.get_label() for line in ax.get_lines()] == ["customers"]
        plt.close(ax.figure)

    table = tw.compare(results).sort_values("customers/churn")
    assert table["customers/churn"].notna().all()
    assert list(table.index) == [r.id for r in results], "more churn for a larger increase"

    ax = tw.plot_metric(results, "customers/churn")
    assert len(ax.get_lines()) == len(SWEEP)
    for line in ax.get_lines():
        assert line.get_ydata()[-1] > line.get_ydata()[0]
    plt.close(ax.figure)
