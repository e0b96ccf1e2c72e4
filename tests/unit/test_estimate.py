"""Progress and ETA from the documented durations, on a fake 'now'."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from twyn_widgets._estimate import estimate
from twyn_widgets.models import Simulation

T0 = datetime(2025, 11, 24, 1, 0, 0, tzinfo=timezone.utc)


def sim(*states: tuple[str, float]) -> Simulation:
    return Simulation.from_json({
        "id": "s1",
        "status": states[-1][0],
        "lifecycle": {"states": [
            {"name": n, "at": (T0 + timedelta(seconds=s)).isoformat()} for n, s in states]},
    })  # fmt: skip


def test_pending_is_zero_with_the_whole_run_ahead() -> None:
    est = estimate(sim(("PENDING", 0)), T0)
    assert est.progress == 0
    assert est.eta == pytest.approx(360)


def test_progress_grows_within_a_phase_and_is_weighted_by_durations() -> None:
    s = sim(("PENDING", 0), ("PROCESSING_CONFIG", 1))
    early = estimate(s, T0 + timedelta(seconds=10))
    later = estimate(s, T0 + timedelta(seconds=60))
    assert 0 < early.progress < later.progress < 0.25
    assert early.eta is not None
    assert later.eta is not None
    assert early.eta > later.eta
    assert later.elapsed == 60


def test_simulator_phase_sits_between_a_quarter_and_three_quarters() -> None:
    s = sim(("PENDING", 0), ("PROCESSING_CONFIG", 1), ("COMPLETED_CONFIG", 90),
            ("PROCESSING_SIMULATION", 91))  # fmt: skip
    assert estimate(s, T0 + timedelta(seconds=91)).progress == pytest.approx(0.25)
    mid = estimate(s, T0 + timedelta(seconds=181)).progress
    assert 0.25 < mid < 0.75


def test_overrun_creeps_towards_but_never_reaches_the_phase_end() -> None:
    s = sim(("PENDING", 0), ("PROCESSING_CONFIG", 0))
    values = [estimate(s, T0 + timedelta(seconds=t)).progress for t in (90, 200, 1000, 10_000)]
    assert values == sorted(values)
    assert values[-1] < 0.25


def test_completed_is_one_and_time_scale_shrinks_the_eta() -> None:
    done = sim(("PENDING", 0), ("COMPLETED_ANALYSIS", 345))
    assert estimate(done, T0 + timedelta(seconds=999)).progress == 1.0
    assert estimate(done, T0 + timedelta(seconds=999)).elapsed == 345
    pending = sim(("PENDING", 0))
    assert estimate(pending, T0, time_scale=1 / 60).eta == pytest.approx(6)


def test_unknown_status_gives_no_progress_and_no_eta() -> None:
    est = estimate(sim(("PENDING", 0), ("QUEUED", 1)), T0)
    assert est.progress == 0
    assert est.eta is None
