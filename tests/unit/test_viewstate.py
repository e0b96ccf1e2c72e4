"""The compact model the browser draws: small, stable between polls, anchored on the estimate."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest

from twyn_widgets._estimate import estimate
from twyn_widgets.models import Simulation
from twyn_widgets.polling import WatchSnapshot, WatchState
from twyn_widgets.widgets._viewstate import LOG_LIMIT, ModelTracker, shown_at, sim_state

T0 = datetime(2025, 11, 24, 1, 0, 0, tzinfo=timezone.utc)


def sim(*states: tuple[str, float], **extra: object) -> Simulation:
    return Simulation.from_json({
        "id": "s1",
        "title": "Price rise",
        "status": states[-1][0],
        "lifecycle": {"states": [
            {"name": n, "at": (T0 + timedelta(seconds=s)).isoformat()} for n, s in states]},
        **extra,
    })  # fmt: skip


SIMULATING_STATES = (
    ("PENDING", 0), ("PROCESSING_CONFIG", 1), ("COMPLETED_CONFIG", 90),
    ("PROCESSING_SIMULATION", 91),
)  # fmt: skip
SIMULATING = sim(*SIMULATING_STATES)


def snap(
    simulation: Simulation, state: WatchState = WatchState.WATCHING, **kw: object
) -> WatchSnapshot:
    return WatchSnapshot("s1", state=state, simulation=simulation).evolve(**kw)


def lerp(anchors: list[list[float | None]], t: float) -> float:
    """Linear interpolation, as the browser does it (held outside the anchors)."""
    if t <= anchors[0][0]:  # type: ignore[operator]
        return anchors[0][1]  # type: ignore[return-value]
    for (t0, p0, _), (t1, p1, _) in itertools.pairwise(anchors):
        if t <= t1:  # type: ignore[operator]
            return p0 + (p1 - p0) * (t - t0) / (t1 - t0)  # type: ignore[operator,no-any-return]
    return anchors[-1][1]  # type: ignore[return-value]


def test_two_polls_of_the_same_status_give_the_same_model() -> None:
    first = sim_state(snap(SIMULATING, polls=3), T0 + timedelta(seconds=100))
    later = sim_state(snap(SIMULATING, polls=9), T0 + timedelta(seconds=170))
    assert first == later  # nothing to send: the browser ticks on its own


def test_a_new_status_a_notice_or_the_end_changes_the_model() -> None:
    base = sim_state(snap(SIMULATING), T0 + timedelta(seconds=100))
    done = SIMULATING.raw | {"status": "COMPLETED_SIMULATION"}
    assert sim_state(snap(SIMULATING, notice="retry 2 in 4 s"), T0) != base
    assert sim_state(snap(Simulation.from_json(done)), T0) != base
    assert sim_state(snap(SIMULATING, state=WatchState.STOPPED), T0) != base


def test_the_browser_interpolation_follows_the_python_estimate() -> None:
    model = sim_state(snap(SIMULATING), T0 + timedelta(seconds=100))
    anchors = model["anchors"]
    assert len(anchors) >= 3
    # At each anchor the model holds the estimate itself (no second copy of the rule).
    for t, progress, eta in anchors:
        est = estimate(SIMULATING, datetime.fromtimestamp(t, timezone.utc))
        assert progress == pytest.approx(est.progress, abs=1e-4)
        assert eta == pytest.approx(est.eta)
    # Between them, a straight line stays within a percent of it, over and past the phase.
    for second in range(91, 91 + 1200, 7):
        moment = T0 + timedelta(seconds=second)
        truth = estimate(SIMULATING, moment).progress
        assert lerp(anchors, moment.timestamp()) == pytest.approx(truth, abs=0.01), second


def test_between_phases_one_point_holds_and_it_is_pinned_to_the_server_clock() -> None:
    between = sim(("PENDING", 0), ("PROCESSING_CONFIG", 1), ("COMPLETED_CONFIG", 90))
    a = sim_state(snap(between), T0 + timedelta(seconds=91))
    b = sim_state(snap(between), T0 + timedelta(seconds=95))
    assert a["anchors"] == b["anchors"]
    assert len(a["anchors"]) == 1
    assert a["anchors"][0][0] == (T0 + timedelta(seconds=90)).timestamp()


def test_the_bar_never_steps_back_below_what_was_shown() -> None:
    model = sim_state(snap(SIMULATING), T0, floor=0.6)
    assert all(p >= 0.6 for _, p, _ in model["anchors"])


def test_elapsed_counts_from_the_server_start_and_stops_at_the_end() -> None:
    running = sim_state(snap(SIMULATING), T0 + timedelta(seconds=100), started=12345.0)
    assert running["started"] == T0.timestamp()
    assert running["finished"] is None
    assert running["ended"] is False
    done = sim(("PENDING", 0), ("COMPLETED_ANALYSIS", 345))
    model = sim_state(snap(done, WatchState.SUCCEEDED), T0 + timedelta(seconds=999))
    assert model["finished"] - model["started"] == 345
    end = (T0 + timedelta(seconds=345)).timestamp()
    assert model["anchors"] == [[pytest.approx(end), 1.0, None]]
    assert model["ended"] is True
    assert model["word"] == "done"


def test_without_timestamps_elapsed_counts_from_the_widget() -> None:
    model = sim_state(WatchSnapshot("s1"), T0, started=12345.0)
    assert model["started"] == 12345.0
    assert model["status"] == ""
    assert model["title"] == "s1"


def test_a_stopped_watch_holds_its_clock_where_it_stopped() -> None:
    moment = T0 + timedelta(seconds=150)
    model = sim_state(snap(SIMULATING, WatchState.STOPPED), moment)
    assert model["finished"] == moment.timestamp()
    assert model["anchors"][0][0] == moment.timestamp()


def test_a_failure_gives_the_first_line_of_its_log_and_the_log_cut() -> None:
    log = "\n  Simulator failed: out of memory\n" + "x" * (LOG_LIMIT * 2)
    failed = sim(("PENDING", 0), ("PROCESSING_SIMULATION", 5), ("FAILED", 9), error_log=log)
    model = sim_state(snap(failed, WatchState.FAILED), T0)
    assert model["detail"] == "Simulator failed: out of memory"
    assert len(model["log"]) == LOG_LIMIT
    assert model["phase"] == "Simulator, 2 of 3"
    assert sim_state(snap(SIMULATING), T0)["detail"] == ""


def test_a_timeout_gives_its_message_as_the_detail() -> None:
    error = TimeoutError("gave up after 600 API seconds\nmore")
    model = sim_state(snap(SIMULATING, WatchState.TIMED_OUT, error=error), T0)
    assert model["detail"] == "gave up after 600 API seconds"
    assert model["word"] == "timed out"


def test_the_model_is_small_plain_json() -> None:
    model = sim_state(snap(SIMULATING, notice="retrying"), T0 + timedelta(seconds=100))
    text = json.dumps(model)
    assert json.loads(text) == model
    assert len(text) < 700


def test_the_model_has_exactly_the_keys_the_browser_reads() -> None:
    model = sim_state(snap(SIMULATING, notice="retrying"), T0 + timedelta(seconds=100))
    assert set(model) == {
        "id", "title", "state", "word", "accent", "status", "phase", "notice", "ended",
        "detail", "log", "started", "finished", "anchors",
    }  # fmt: skip
    assert model["id"] == "s1"
    assert model["title"] == "Price rise"
    assert model["state"] == "watching"
    assert model["status"] == "PROCESSING_SIMULATION"
    assert model["phase"] == "Simulator, 2 of 3"
    assert model["notice"] == "retrying"
    assert sim_state(snap(SIMULATING), T0)["notice"] == ""


def test_the_accent_follows_how_the_watch_stands() -> None:
    done = sim(("PENDING", 0), ("COMPLETED_ANALYSIS", 9))
    failed = sim(("PENDING", 0), ("PROCESSING_SIMULATION", 5), ("FAILED", 9))
    running = sim_state(snap(SIMULATING), T0)["accent"]
    success = sim_state(snap(done, WatchState.SUCCEEDED), T0)["accent"]
    failure = sim_state(snap(failed, WatchState.FAILED), T0)["accent"]
    assert "info" in running
    assert "success" in success
    assert "error" in failure


def test_anchor_times_keep_milliseconds_and_progress_four_decimals() -> None:
    # A server timestamp with microseconds: the model keeps milliseconds, no more, no less.
    start = 91.123456
    odd = sim(("PENDING", 0), ("PROCESSING_SIMULATION", start))
    model = sim_state(snap(odd), T0 + timedelta(seconds=100))
    first = model["anchors"][0]
    assert first[0] == round(T0.timestamp() + start, 3)
    assert first[0] != round(T0.timestamp() + start, 4)
    for t, progress, _ in model["anchors"]:
        exact = estimate(odd, datetime.fromtimestamp(t, timezone.utc)).progress
        assert progress == round(exact, 4)
    assert any(p != round(p, 3) for _, p, _ in model["anchors"])  # a fifth decimal would show


def test_the_anchors_follow_the_clients_time_scale() -> None:
    # An emulator running ten times faster: the phase's curve is ten times shorter.
    fast = snap(SIMULATING, time_scale=0.1)
    anchors = sim_state(fast, T0 + timedelta(seconds=95))["anchors"]
    for t, progress, _ in anchors:
        est = fast.estimate(datetime.fromtimestamp(t, timezone.utc))
        assert progress == pytest.approx(est.progress, abs=1e-4)
    span = anchors[-1][0] - anchors[0][0]
    normal = sim_state(snap(SIMULATING), T0 + timedelta(seconds=95))["anchors"]
    assert span == pytest.approx((normal[-1][0] - normal[0][0]) / 10)


def test_a_status_of_no_known_phase_holds_one_point_where_it_began() -> None:
    future = sim(("PENDING", 0), ("WARMING_UP", 5))
    model = sim_state(snap(future), T0 + timedelta(seconds=60))
    assert model["anchors"] == [[(T0 + timedelta(seconds=5)).timestamp(), 0.0, None]]
    assert model["status"] == "WARMING_UP"


def test_a_phase_without_timestamps_holds_one_point_at_now() -> None:
    bare = Simulation.from_json({"id": "s1", "status": "PROCESSING_SIMULATION"})
    moment = T0 + timedelta(seconds=60)
    model = sim_state(snap(bare), moment, started=12345.0)
    assert [a[0] for a in model["anchors"]] == [moment.timestamp()]
    assert model["started"] == 12345.0


def test_a_watch_stopped_before_any_answer_ends_its_clock_now() -> None:
    moment = T0 + timedelta(seconds=30)
    model = sim_state(WatchSnapshot("s1", state=WatchState.STOPPED), moment, started=12345.0)
    assert model["anchors"] == [[moment.timestamp(), 0.0, None]]
    assert model["finished"] == moment.timestamp()
    assert model["detail"] == ""
    assert model["ended"] is True


def test_a_failure_without_an_error_log_says_so_and_has_no_log() -> None:
    for log in (None, "", "  \n \n"):
        failed = sim(("PENDING", 0), ("PROCESSING_SIMULATION", 5), ("FAILED", 9), error_log=log)
        model = sim_state(snap(failed, WatchState.FAILED), T0)
        assert model["detail"] == "the server gave no error_log", log
        assert model["log"] == (log or "")


def test_only_a_failure_shows_an_error_log() -> None:
    # The server may leave an error_log on a run that went on (a retried step): it is not
    # why the run stands where it does, so the live view shows no log for it.
    noted = {**SIMULATING.raw, "error_log": "step 3 retried"}
    model = sim_state(snap(Simulation.from_json(noted)), T0 + timedelta(seconds=100))
    assert model["log"] == ""
    assert model["detail"] == ""


# -- the tracker: one watch's floor and the model last sent ---------------------------------------


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_two_polls_of_one_status_send_the_model_once() -> None:
    tracker = ModelTracker(started=12345.0)
    first = tracker.update(snap(SIMULATING, polls=3), at(100))
    assert first is not None
    assert tracker.sent == first
    # The bar starts where the first poll saw it, not at the phase's start.
    assert first["anchors"][0][1] == round(estimate(SIMULATING, at(100)).progress, 4)
    assert tracker.update(snap(SIMULATING, polls=9), at(170)) is None
    assert tracker.model(snap(SIMULATING, polls=12), at(180)) == first
    # The progress shown goes on, though the model does not change.
    assert tracker.shown == estimate(SIMULATING, at(170)).progress
    assert tracker.sent == first


def test_the_progress_shown_never_steps_back_and_reads_full_on_success() -> None:
    tracker = ModelTracker(started=0.0)
    assert tracker.progress(snap(SIMULATING), at(100)) == estimate(SIMULATING, at(100)).progress
    assert tracker.progress(snap(SIMULATING), at(300)) == estimate(SIMULATING, at(300)).progress
    assert tracker.progress(snap(SIMULATING), at(100)) == estimate(SIMULATING, at(300)).progress
    done = sim(("PENDING", 0), ("COMPLETED_ANALYSIS", 345))
    assert tracker.progress(snap(done, WatchState.SUCCEEDED), at(400)) == 1.0


def test_a_failure_holds_the_bar_where_it_stood() -> None:
    failed = sim(
        ("PENDING", 0), ("PROCESSING_CONFIG", 1), ("COMPLETED_CONFIG", 90),
        ("PROCESSING_SIMULATION", 91), ("FAILED", 150),
    )  # fmt: skip
    tracker = ModelTracker(started=0.0)
    sent = tracker.update(snap(SIMULATING), at(400))
    assert sent is not None
    # Where it stood: the kernel's last estimate, or the browser's reading of the last
    # anchors a second later, whichever is higher.
    stood = max(
        estimate(SIMULATING, at(400)).progress, shown_at(sent["anchors"], at(401).timestamp())
    )
    assert estimate(failed, at(400)).progress < stood  # taken at the failure: lower
    model = tracker.update(snap(failed, WatchState.FAILED), at(401))
    assert model is not None
    assert model["anchors"] == [[at(150).timestamp(), round(stood, 4), None]]


def test_the_floor_moves_when_the_status_or_the_state_changes_only() -> None:
    tracker = ModelTracker(started=0.0)
    first = tracker.update(snap(SIMULATING), at(100))
    assert first is not None
    assert tracker.update(snap(SIMULATING), at(300)) is None  # same status: the floor stays

    def shown(t: float) -> float:
        return max(
            estimate(SIMULATING, at(300)).progress, shown_at(first["anchors"], at(t).timestamp())
        )

    # A retry on the same status: a new state, so the floor is what was shown by then.
    retrying = tracker.update(snap(SIMULATING, WatchState.RETRYING, notice="retry 1"), at(300))
    assert retrying is not None
    assert retrying["anchors"][0][1] == round(shown(300), 4)
    # A new status of no known phase (estimate 0): the bar holds where it stood.
    tracker = ModelTracker(started=0.0)
    tracker.update(snap(SIMULATING), at(100))
    tracker.update(snap(SIMULATING), at(300))
    future = sim(("PENDING", 0), ("WARMING_UP", 305))
    held = tracker.update(snap(future), at(310))
    assert held is not None
    assert held["anchors"] == [[at(305).timestamp(), round(shown(310), 4), None]]


def test_the_tracker_counts_elapsed_time_from_its_start_without_timestamps() -> None:
    tracker = ModelTracker(started=12345.0)
    model = tracker.update(WatchSnapshot("s1"), T0)
    assert model is not None
    assert model["started"] == 12345.0


def test_a_failure_seen_late_starts_its_bar_where_the_browser_had_got_to() -> None:
    # The browser ran on along the running model's anchors for the seconds the kernel took to
    # see the failure: the failed model (and the static outcome) must not step back below it.
    tracker = ModelTracker(started=0.0)
    running = tracker.update(snap(SIMULATING), T0 + timedelta(seconds=100))
    assert running is not None
    failed = sim(*SIMULATING_STATES, ("FAILED", 150), error_log="Simulator failed")
    seen_late = T0 + timedelta(seconds=190)  # the browser kept going for 40 s more
    browser = lerp(running["anchors"], seen_late.timestamp())
    assert browser > estimate(failed, seen_late).progress + 0.05  # the case this pins
    tracker.progress(snap(failed, WatchState.FAILED), seen_late)
    model = tracker.update(snap(failed, WatchState.FAILED), seen_late)
    assert model is not None
    assert model["anchors"][0][1] == pytest.approx(browser, abs=1e-4)
    assert tracker.progress(snap(failed, WatchState.FAILED), seen_late) >= browser - 1e-9
    assert shown_at(running["anchors"], seen_late.timestamp()) == pytest.approx(browser)


# -- shown_at: the kernel's reading of the browser's bar ------------------------------------------
#
# ``shown_at`` is the twin of ``interpolate`` in ``widgets/static/twyn.js`` (its progress, as
# ``readout`` shows it): the two must agree, or the bar the kernel holds as its floor is not the
# one the person saw. ``tests/browser/test_module_logic_browser.py`` holds them against each other
# on random anchors; the cases below are exact and were checked against the module's own function.
# Every number is a binary fraction, so the expected values are exact, not approximate.

Anchors = list[list[float | None]]

LINE: Anchors = [[100.0, 0.25, 40.0], [200.0, 0.75, 10.0], [300.0, 0.875, None]]


def test_one_anchor_holds_at_every_time() -> None:
    one: Anchors = [[100.0, 0.5, 7.0]]
    assert [shown_at(one, t) for t in (0.0, 100.0, 150.0, 1e10)] == [0.5, 0.5, 0.5, 0.5]


def test_before_the_first_anchor_its_progress_holds() -> None:
    # Not the first line drawn backwards (0.0 at 50 s, below zero earlier).
    assert shown_at(LINE, 50.0) == 0.25
    assert shown_at(LINE, -1e9) == 0.25


def test_on_an_anchor_the_bar_is_at_its_progress() -> None:
    assert [shown_at(LINE, t) for t in (100.0, 200.0, 300.0)] == [0.25, 0.75, 0.875]


def test_between_two_anchors_the_bar_follows_a_straight_line() -> None:
    assert shown_at(LINE, 150.0) == 0.5
    assert shown_at(LINE, 125.0) == 0.375
    assert shown_at(LINE, 250.0) == 0.8125
    # Two anchors only: the line between them, not the first held.
    assert shown_at(LINE[:2], 175.0) == 0.625


def test_after_the_last_anchor_its_progress_holds() -> None:
    assert shown_at(LINE, 350.0) == 0.875
    assert shown_at(LINE, 1e10) == 0.875
    longer: Anchors = [*LINE, [400.0, 0.9375, 1.0]]
    assert shown_at(longer, 500.0) == 0.9375


def test_two_anchors_at_the_same_time_the_bar_steps_just_after_it() -> None:
    # An anchor's time is rounded to the millisecond: a short enough phase puts two on one
    # time. On that time the bar is still on the earlier line; just after it, on the later one.
    first_two: Anchors = [[100.0, 0.25, None], [100.0, 0.5, None], [200.0, 0.75, None]]
    assert shown_at(first_two, 100.0) == 0.25
    assert shown_at(first_two, 150.0) == 0.625
    inner_two: Anchors = [
        [100.0, 0.25, None], [200.0, 0.5, None], [200.0, 0.75, None], [300.0, 1.0, None],
    ]  # fmt: skip
    assert shown_at(inner_two, 200.0) == 0.5
    assert shown_at(inner_two, 250.0) == 0.875


def test_an_unknown_eta_does_not_move_the_bar() -> None:
    # The model sends ``None`` for an ETA it does not know; progress never reads the ETA.
    unknown: Anchors = [[t, p, None] for t, p, _ in LINE]
    etas: Anchors = [[100.0, 0.25, 999.0], [200.0, 0.75, 0.0], [300.0, 0.875, 5.0]]
    times = (50.0, 100.0, 150.0, 250.0, 350.0)
    for anchors in (unknown, LINE, etas):
        assert [shown_at(anchors, t) for t in times] == [0.25, 0.25, 0.5, 0.8125, 0.875]


def test_a_missing_time_or_progress_reads_as_zero_as_in_the_browser() -> None:
    # The model always sends both, but the two faces must still agree on a null: the ES
    # module's comparisons and arithmetic read it as 0 (and ``readout`` clamps a null bar to 0).
    no_time: Anchors = [[-2.0, 0.25, None], [None, 0.75, None], [2.0, 1.0, None]]
    assert shown_at(no_time, -1.0) == 0.5
    assert shown_at(no_time, 0.5) == 0.8125
    first_untimed: Anchors = [[None, 0.25, None], [2.0, 0.75, None]]
    assert shown_at(first_untimed, 0.0) == 0.25
    assert shown_at(first_untimed, 0.5) == 0.375
    no_progress: Anchors = [[100.0, None, None], [200.0, 0.5, None], [300.0, None, None]]
    assert [shown_at(no_progress, t) for t in (50.0, 150.0, 250.0, 350.0)] == [
        0.0, 0.25, 0.25, 0.0,
    ]  # fmt: skip
