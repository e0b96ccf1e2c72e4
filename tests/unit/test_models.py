"""Models parse the docs' own JSON; required fields are enforced, optional ones tolerated."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import docs_examples as docs
from twyn_widgets import (
    Phase,
    ProtocolError,
    RateLimit,
    Scenario,
    Simulation,
    SimulationResult,
    Status,
)
from twyn_widgets.models import SimulationPage, parse_timestamp


def test_created_example_parses_with_generated_title_and_pending_lifecycle() -> None:
    sim = Simulation.from_json(docs.CREATED)
    assert sim.status is Status.PENDING
    assert sim.title == "Price Increase Churn Impact Analysis"
    assert sim.lifecycle[0].status is Status.PENDING
    assert sim.lifecycle[0].at == parse_timestamp("2025-11-24T01:00:00Z")
    assert sim.phase is Phase.ARCHITECT
    assert sim.error_log is None
    assert sim.raw["tenant_id"] == "your-tenant-id"


def test_abbreviated_in_progress_example_parses() -> None:
    sim = Simulation.from_json(docs.IN_PROGRESS)
    assert sim.status is Status.PROCESSING_SIMULATION
    assert sim.title == ""
    assert sim.phase is Phase.SIMULATOR
    assert sim.phase_durations() == {Phase.ARCHITECT: timedelta(seconds=89)}


def test_status_table_run_gives_the_documented_phase_durations() -> None:
    sim = Simulation.from_json({**docs.CREATED, "status": "COMPLETED_ANALYSIS",
                                "lifecycle": {"states": docs.COMPLETED_STATES}})  # fmt: skip
    assert sim.phase_durations() == {
        Phase.ARCHITECT: timedelta(seconds=89),
        Phase.SIMULATOR: timedelta(seconds=164),
        Phase.ANALYST: timedelta(seconds=89),
    }
    assert sim.total_duration == timedelta(minutes=5, seconds=45)


def test_failed_phase_is_the_last_processing_entry_before_failed() -> None:
    states = [*docs.COMPLETED_STATES[:4], {"name": "FAILED", "at": "2025-11-24T01:02:00Z"}]
    sim = Simulation.from_json(
        {
            "id": "s1",
            "status": "FAILED",
            "error_log": "numerical instability",
            "lifecycle": {"states": states},
        }
    )
    assert sim.failed_phase is Phase.SIMULATOR
    assert sim.phase is Phase.SIMULATOR
    assert sim.error_log == "numerical instability"


def test_unknown_status_is_kept_and_shown_as_is() -> None:
    sim = Simulation.from_json({"id": "s1", "status": "QUEUED"})
    assert sim.status == "QUEUED"
    assert str(sim.status) == "QUEUED"
    assert not sim.status.is_known
    assert not sim.status.is_terminal
    assert sim.phase is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "PENDING"}, "'id'"),
        ({"id": "s1"}, "'status'"),
        ({"id": 5, "status": "PENDING"}, "'id'"),
        ({"id": "s1", "status": "PENDING", "lifecycle": {"states": [{"name": "PENDING"}]}}, "'at'"),
        ({"id": "s1", "status": "PENDING", "created_at": "yesterday"}, "created_at"),
        ({"id": "s1", "status": "PENDING", "tags": "a,b"}, "'tags'"),
    ],
)
def test_required_or_malformed_fields_raise_protocol_error_naming_the_field(
    payload: dict[str, object], field: str
) -> None:
    with pytest.raises(ProtocolError, match=field):
        Simulation.from_json(payload)  # type: ignore[arg-type]


def test_results_example_parses_metrics_and_analysis() -> None:
    result = SimulationResult.from_json(docs.RESULTS)
    group = result.metrics.group("customers")
    assert group.series("satisfaction") == [0.75, 0.68]
    assert group.series("churn") == [0.02, 0.05]
    assert group.names == (["satisfaction"], ["churn"])
    assert result.analysis.report_markdown.startswith("# Full Analysis Report")
    assert result.results_version == 1
    assert result.config["number_of_steps"] == 24


def test_results_without_report_markdown_or_metadata_fields_still_parse() -> None:
    data = {**docs.RESULTS, "analysis": {"executive_summary": "ok"}}
    result = SimulationResult.from_json(data)
    assert result.analysis.report_markdown == ""
    assert result.analysis.key_drivers == ()


def test_results_with_non_numeric_metric_raise_protocol_error() -> None:
    data = {**docs.RESULTS, "metrics": {"by_group": [{"group_id": "g", "timeline": [
        {"step": 0, "variables": {"x": "high"}, "actions": {}}]}]}}  # fmt: skip
    with pytest.raises(ProtocolError, match=r"variables\.x"):
        SimulationResult.from_json(data)


def test_list_page_and_scenario_examples_parse() -> None:
    page = SimulationPage.from_json(docs.LIST_PAGE)
    assert page.total == 145
    assert page.items[0].id == docs.CREATED["id"]
    scenario = Scenario.from_json(docs.SCENARIO)
    assert scenario.name == "Q4 2025 Pricing Strategy"


def test_rate_limit_headers_parse_and_missing_headers_give_none() -> None:
    seen = RateLimit.from_headers(docs.RATE_HEADERS)
    assert seen == RateLimit(limit=1000, remaining=950, reset=1700000000.0)
    assert seen.seconds_to_reset(1699999900.0) == 100.0
    assert RateLimit.from_headers({}) is None


def test_timestamps_with_offsets_fractions_and_naive_values_become_utc() -> None:
    assert parse_timestamp("2025-11-24T02:00:00+01:00") == parse_timestamp("2025-11-24T01:00:00Z")
    assert parse_timestamp("2025-11-24T01:00:00.250Z").microsecond == 250000
    assert parse_timestamp("2025-11-24T01:00:00").tzinfo is not None


def test_phases_carry_the_documented_durations() -> None:
    assert [(p.label, p.min_seconds, p.max_seconds) for p in Phase] == [
        ("Architect", 60, 120),
        ("Simulator", 120, 240),
        ("Analyst", 60, 120),
    ]
    assert Status.PROCESSING_ANALYSIS.phase is Phase.ANALYST
    assert Status.COMPLETED_ANALYSIS.is_terminal
    assert Status.FAILED.is_terminal
