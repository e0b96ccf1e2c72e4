"""Schedules answer in API seconds from a context alone: no clock, no sleeping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from twyn_widgets.models import Status
from twyn_widgets.polling import Backoff, Fixed, PhaseAware, PollContext


def ctx(status: str | None, phase_elapsed: float | None = None, polls: int = 1) -> PollContext:
    return PollContext(None if status is None else Status(status), phase_elapsed, polls)


def test_fixed_is_the_docs_five_second_loop() -> None:
    assert Fixed().next_delay(ctx("PROCESSING_SIMULATION", 10)) == 5.0
    assert Fixed(timedelta(seconds=7)).next_delay(ctx("PENDING")) == 7.0


def test_backoff_walks_the_docs_intervals_then_stays_at_the_last() -> None:
    schedule = Backoff()
    got = [schedule.next_delay(ctx("PROCESSING_CONFIG", polls=n)) for n in range(1, 9)]
    assert got == [2, 5, 10, 15, 30, 30, 30, 30]


@pytest.mark.parametrize("bad", [0, -1, timedelta(0)])
def test_schedules_refuse_non_positive_intervals(bad: float | timedelta) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        Fixed(bad)


RULES = {"interval": 10, "final_interval": 3, "max_interval": 30, "transition_interval": 2}
"""Options that make each rule's number easy to read (the defaults are checked below)."""


def test_phase_aware_sleeps_until_a_phase_can_end() -> None:
    schedule = PhaseAware(**RULES)
    # Simulator cannot end before 120 s: at 5 s in, wait the cap (30 s), at 100 s, wait 20 s.
    assert schedule.next_delay(ctx("PROCESSING_SIMULATION", 5)) == 30
    assert schedule.next_delay(ctx("PROCESSING_SIMULATION", 100)) == 20
    # Architect at 55 s: 5 s to its minimum, but never below the in-window step.
    assert schedule.next_delay(ctx("PROCESSING_CONFIG", 55)) == 10


def test_phase_aware_polls_often_in_the_analyst_window_and_less_in_earlier_ones() -> None:
    schedule = PhaseAware(**RULES)
    assert schedule.next_delay(ctx("PROCESSING_ANALYSIS", 70)) == 3
    assert schedule.next_delay(ctx("PROCESSING_SIMULATION", 150)) == 10
    assert schedule.next_delay(ctx("PROCESSING_CONFIG", 90)) == 10


def test_phase_aware_stretches_on_overrun_but_stays_under_the_cap() -> None:
    schedule = PhaseAware(**RULES)
    assert schedule.next_delay(ctx("PROCESSING_ANALYSIS", 120)) == 3
    assert schedule.next_delay(ctx("PROCESSING_ANALYSIS", 180)) == pytest.approx(4.5)
    assert schedule.next_delay(ctx("PROCESSING_ANALYSIS", 10_000)) == 6
    assert schedule.next_delay(ctx("PROCESSING_SIMULATION", 10_000)) == 20


def test_phase_aware_polls_soon_after_transitions_and_unknown_statuses_like_processing() -> None:
    schedule = PhaseAware(**RULES)
    for status in ("PENDING", "COMPLETED_CONFIG", "COMPLETED_SIMULATION", None):
        assert schedule.next_delay(ctx(status)) == 2
    assert schedule.next_delay(ctx("QUEUED")) == 10


def test_phase_aware_spends_well_under_half_the_docs_loop_on_a_typical_run() -> None:
    """Simulate a run of mean durations on paper: polls vs the docs' 5 s loop."""
    schedule = PhaseAware()
    phases = [("PROCESSING_CONFIG", 90.0), ("PROCESSING_SIMULATION", 180.0),
              ("PROCESSING_ANALYSIS", 90.0)]  # fmt: skip
    polls = 0
    for status, length in phases:
        t = 0.0
        while t < length:
            t += max(1.0, schedule.next_delay(ctx(status, t, polls)))
            polls += 1
        polls += 1  # the COMPLETED_* transition poll
    docs_loop = sum(length for _, length in phases) / 5
    assert polls <= docs_loop / 3


def test_phase_aware_defaults_poll_the_analyst_window_every_3_s_and_the_rest_every_minute() -> None:
    schedule = PhaseAware()
    assert schedule.interval == 60
    assert schedule.final_interval == 3
    assert schedule.max_interval == 60
    assert schedule.transition_interval == 2
    assert repr(schedule) == "PhaseAware(interval=60, final_interval=3, max_interval=60)"


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: Fixed(0), "interval"),
        (lambda: Backoff((1, 0)), "interval"),
        (lambda: PhaseAware(interval=0), "interval"),
        (lambda: PhaseAware(final_interval=-1), "final_interval"),
        (lambda: PhaseAware(max_interval=0), "max_interval"),
        (lambda: PhaseAware(transition_interval=0), "transition_interval"),
    ],
)
def test_a_bad_option_is_named_in_the_error(make: Any, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be > 0 \(got "):
        make()


def test_an_empty_backoff_is_refused_and_reprs_show_the_intervals() -> None:
    with pytest.raises(ValueError, match=r"^intervals must not be empty$"):
        Backoff(())
    assert repr(Backoff((2, timedelta(seconds=5)))) == "Backoff((2.0, 5.0))"
    assert repr(Backoff((1.23456, 2))) == "Backoff((1.235, 2.0))"  # to the millisecond
    assert repr(Fixed(timedelta(seconds=5))) == "Fixed(5)"
    assert Fixed().interval == 5.0
    assert Backoff().intervals == (2, 5, 10, 15, 30)
