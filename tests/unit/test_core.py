"""The polling state machine on a fake clock: schedules, floor, retries, 429, deadlines, shapes.

``now`` is a plain number (epoch seconds); nothing here sleeps, starts a thread or opens a
socket. Times the machine answers are checked against the rule, not against what it did.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from twyn_widgets import errors
from twyn_widgets.models import RateLimit, Simulation, SimulationResult
from twyn_widgets.polling import Backoff, Fixed, PhaseAware, PollContext, WatchState
from twyn_widgets.polling._poller import (
    RETRY_CAP,
    Call,
    Decision,
    Fetch,
    Poller,
    PollState,
    Send,
    is_summary,
    retry_delay,
)
from twyn_widgets.polling._snapshot import describe

T0 = 1_764_000_000.0  # the fake clock's start, epoch seconds
SID = "sim-1"


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


def sim(
    status: str,
    *,
    states: list[tuple[str, float]] | None = None,
    error_log: str | None = None,
    summary: bool = False,
) -> Simulation:
    """A simulation as the API sends it: whole, or as a summary list item."""
    data: dict[str, Any] = {
        "id": SID,
        "title": "t",
        "status": status,
        "created_at": iso(T0 - 600),
    }
    if not summary:
        entries = states if states is not None else [("PENDING", T0 - 600), (status, T0 - 1)]
        data["lifecycle"] = {"states": [{"name": n, "at": iso(a)} for n, a in entries]}
        data["error_log"] = error_log
    return Simulation.from_json(data)


def result() -> SimulationResult:
    return SimulationResult.from_json(
        {
            "id": SID,
            "status": "COMPLETED_ANALYSIS",
            "config": {},
            "metrics": {"by_group": []},
            "analysis": {},
        }
    )


def machine(schedule: Any = None, scale: float = 1.0, seed: int = 7) -> PollState:
    return PollState(SID, schedule or PhaseAware(), time_scale=scale, rng=random.Random(seed))


def in_phase(status: str, elapsed: float) -> Simulation:
    """The simulation ``elapsed`` API seconds into the PROCESSING_* ``status`` (scale 1)."""
    return sim(status, states=[("PENDING", T0 - 900), (status, T0 - elapsed)])


# -- schedules and the floor, as the machine applies them ---------------------------------------


def test_first_decision_polls_the_status_at_once() -> None:
    d = machine().start(T0)
    assert (d.fetch, d.at, d.ended) == (Fetch.STATUS, T0, False)


@pytest.mark.parametrize("scale", [1.0, 1 / 60])
def test_fixed_schedule_polls_every_interval_in_the_clients_time(scale: float) -> None:
    m = machine(Fixed(5), scale)
    for i in range(3):
        now = T0 + 100 * i
        d = m.on_simulation(sim("PROCESSING_SIMULATION"), now)
        assert d.fetch is Fetch.STATUS
        assert d.at - now == pytest.approx(5 * scale)


def test_backoff_schedule_walks_its_intervals_then_keeps_the_last() -> None:
    m = machine(Backoff((2, 5, 10, 15, 30)))
    gaps = [m.on_simulation(sim("PROCESSING_CONFIG"), T0).at - T0 for _ in range(7)]  # type: ignore[operator]
    assert gaps == [2, 5, 10, 15, 30, 30, 30]


@pytest.mark.parametrize("scale", [1.0, 1 / 600])
def test_the_one_second_floor_holds_for_any_schedule(scale: float) -> None:
    class Eager:
        def next_delay(self, context: PollContext) -> float:
            return 0.001

    for schedule in (Fixed(0.2), Backoff((0.1, 0.5)), Eager(), PhaseAware(final_interval=0.3)):
        m = machine(schedule, scale)
        for status, elapsed in [("PROCESSING_ANALYSIS", 70.0), ("PENDING", 0.0)] * 3:
            d = m.on_simulation(in_phase(status, elapsed), T0)
            assert d.at is not None
            assert d.at - T0 >= 1.0 * scale - 1e-6, (schedule, status)


@pytest.mark.parametrize(
    ("status", "elapsed", "gap"),
    [
        ("PROCESSING_CONFIG", 10.0, 30.0),  # before the minimum: at most max_interval
        ("PROCESSING_CONFIG", 45.0, 15.0),  # ... sleeps until the minimum
        ("PROCESSING_SIMULATION", 115.0, 10.0),  # never less than the step before the minimum
        ("PROCESSING_SIMULATION", 150.0, 10.0),  # inside the window: interval
        ("PROCESSING_ANALYSIS", 90.0, 3.0),  # the Analyst's window: final_interval
        ("PROCESSING_ANALYSIS", 180.0, 4.5),  # overrun by half: 1.5x the step
        ("PROCESSING_SIMULATION", 1000.0, 20.0),  # long overrun: twice the step at most
        ("PENDING", 0.0, 2.0),  # short statuses: transition_interval
        ("COMPLETED_CONFIG", 0.0, 2.0),
        ("QUEUED", 0.0, 10.0),  # an unknown status: interval
    ],
)
def test_phase_aware_schedule_through_the_machine(status: str, elapsed: float, gap: float) -> None:
    schedule = PhaseAware(interval=10, final_interval=3, max_interval=30, transition_interval=2)
    d = machine(schedule).on_simulation(in_phase(status, elapsed), T0)
    assert d.at - T0 == pytest.approx(gap)


def test_phase_timing_reads_the_lifecycle_in_api_seconds() -> None:
    scale = 1 / 60
    # 30 API seconds into the Architect = 0.5 real seconds at 60x
    s = sim("PROCESSING_CONFIG", states=[("PENDING", T0 - 5), ("PROCESSING_CONFIG", T0 - 0.5)])
    d = machine(PhaseAware(interval=10, max_interval=100), scale).on_simulation(s, T0)
    assert d.at - T0 == pytest.approx(30 * scale)  # sleeps until the 60 s minimum


# -- retries ------------------------------------------------------------------------------------


def test_retry_delay_is_capped_exponential_with_jitter_in_bounds() -> None:
    rng = random.Random(1)
    for attempt in range(1, 40):
        base = min(RETRY_CAP, 2.0 ** (attempt - 1))
        delay = retry_delay(attempt, rng)
        assert 0.5 * base <= delay <= base


def test_transient_failures_back_off_with_seeded_jitter_and_reset_on_success() -> None:
    def gaps(seed: int) -> list[float]:
        m = machine(Fixed(5), seed=seed)
        m.start(T0)
        out = []
        for _ in range(8):
            d = m.on_error(errors.ServerError(503, "busy"), T0)
            assert d.fetch is Fetch.STATUS
            assert d.snapshot.state is WatchState.RETRYING
            out.append(d.at - T0)  # type: ignore[operator]
        return out

    first = gaps(3)
    assert first == gaps(3)  # the same seed, the same jitter
    assert first != gaps(4)
    for attempt, gap in enumerate(first, start=1):
        base = min(RETRY_CAP, 2.0 ** (attempt - 1))
        assert 0.5 * base <= gap <= base
    m = machine(Fixed(5))
    m.on_error(errors.ConnectionDropped("cut"), T0)
    m.on_error(errors.ConnectionDropped("cut"), T0)
    m.on_simulation(sim("PENDING"), T0)
    d = m.on_error(errors.RequestTimeout("slow"), T0)
    assert d.at - T0 <= 1.0  # type: ignore[operator]
    assert d.snapshot.notice == "slow, retry 1 in 1 s"
    assert d.snapshot.retries == 3


def test_retry_delays_scale_with_the_client() -> None:
    m = machine(Fixed(5), scale=1 / 100, seed=5)
    d = m.on_error(errors.ServerError(502, "bad gateway"), T0)
    assert T0 + 0.005 <= d.at <= T0 + 0.01  # type: ignore[operator]


def test_the_retry_notice_names_the_cause_the_retry_and_the_wait_in_api_seconds() -> None:
    m = machine(Fixed(5), scale=1 / 100, seed=5)
    lookup = errors.ConnectError("GET /x: ...", summary="cannot resolve api.twyn.it")
    notices = [m.on_error(lookup, T0).snapshot.notice or "" for _ in range(4)]
    pattern = re.compile(r"^cannot resolve api\.twyn\.it, retry (\d) in (\d+) s$")
    found = [pattern.match(n) for n in notices]
    assert all(found), notices
    assert [int(f.group(1)) for f in found if f] == [1, 2, 3, 4]
    # Retry 4 waits 4 to 8 API seconds (0.04 to 0.08 real seconds at this scale): the notice
    # counts in the API's time, rounded up, like every other duration the watch shows.
    wait = int(found[3].group(2)) if found[3] else -1
    assert 4 <= wait <= 8, notices
    fifth = m.on_error(errors.ServerError(503, "x"), T0).snapshot.notice or ""
    http = re.fullmatch(r"HTTP 503, retry 5 in (\d+) s", fifth)
    assert http, fifth
    assert 8 <= int(http.group(1)) <= 16


def test_a_terminal_error_ends_the_watch_with_it() -> None:
    m = machine()
    exc = errors.NotFound(404, "gone")
    d = m.on_error(exc, T0)
    assert d.ended
    assert d.fetch is Fetch.NOTHING
    assert d.at is None
    assert d.snapshot.state is WatchState.ERROR
    assert d.snapshot.error is exc


# -- 429 ----------------------------------------------------------------------------------------


def test_429_waits_the_servers_seconds_unscaled() -> None:
    m = machine(Fixed(1), scale=1 / 600)
    d = m.on_error(errors.RateLimited(429, "slow down", retry_after=40), T0)
    assert d.at == T0 + 40
    assert d.snapshot.retries == 1  # a 429 counts as a retry
    assert d.snapshot.state is WatchState.RATE_LIMITED
    assert d.snapshot.rate_limited_until == T0 + 40
    assert "waiting 40 s" in (d.snapshot.notice or "")
    assert m.on_error(errors.RateLimited(429, "no wait named"), T0).at == T0 + 5


def test_a_long_rate_limit_wait_reads_as_people_write_it() -> None:
    m = machine(Fixed(1))
    d = m.on_error(errors.RateLimited(429, "slow down", retry_after=2700), T0)
    assert d.snapshot.notice == "rate limited: waiting 45 min before the next poll"


def test_a_stopped_watch_ends_with_watch_stopped_saying_the_simulation_runs_on() -> None:
    snapshot = machine(Fixed(1)).stop_ending()
    assert isinstance(snapshot.error, errors.WatchStopped)
    assert "keeps running on the server" in str(snapshot.error)
    assert f"stopped watching simulation {SID};" in str(snapshot.error)
    assert f"client.watch({SID!r})" in str(snapshot.error)  # the call that resumes it


def test_a_timeout_names_the_api_seconds_asked_for_and_how_to_resume() -> None:
    m = machine(Fixed(1), scale=1 / 30)
    m.on_simulation(sim("PROCESSING_SIMULATION"), T0)
    error = m.timeout_ending(30.0, T0 + 1).error
    assert isinstance(error, errors.WaitTimeout)
    assert "after 30 s (timeout=30)" in str(error)
    assert "last seen PROCESSING_SIMULATION 30 s ago" in str(error)  # 1 real s at 30x
    assert "client.watch(" in str(error)


def test_a_timeout_says_how_long_ago_the_status_was_seen_in_api_time() -> None:
    m = machine(Fixed(1), scale=1 / 60)
    m.on_simulation(sim("PROCESSING_SIMULATION"), T0)
    m.on_simulation(sim("PROCESSING_ANALYSIS"), T0 + 2)
    text = str(m.timeout_ending(600.0, T0 + 5).error)
    assert "; last seen PROCESSING_ANALYSIS 3 min ago." in text  # 3 real s at 60x
    assert "still" not in text  # a status seen minutes ago is no fact about now
    assert "rate budget" not in text  # nothing held the polls back


def test_a_timeout_before_any_answer_says_what_was_known_and_that_no_poll_answered() -> None:
    fresh = machine()
    assert "; no status seen yet." in str(fresh.timeout_ending(60.0, T0 + 60).error)
    m = PollState(SID, Fixed(1), initial=sim("PENDING"))
    m.on_error(errors.ServerError(503, "busy"), T0)
    text = str(m.timeout_ending(60.0, T0 + 60).error)
    assert "; no poll answered yet (it was PENDING when the watch began)." in text


@pytest.mark.parametrize("scale", [1.0, 1 / 60])
def test_a_timeout_says_when_the_keys_rate_budget_held_the_polls_back(scale: float) -> None:
    m = machine(Fixed(1), scale=scale)
    m.on_simulation(sim("PROCESSING_ANALYSIS"), T0)
    m.on_held(1500 * scale)  # real seconds the budget put polls off: 25 API minutes
    m.on_held(900 * scale)
    m.on_held(-5.0)  # a due time already past is no hold
    reset = T0 + 1800
    seen = RateLimit(limit=300, remaining=0, reset=reset)
    text = str(m.timeout_ending(3600.0, T0 + 2400 * scale, seen).error)
    at = datetime.fromtimestamp(reset).strftime("%H:%M")
    assert (
        f"; last seen PROCESSING_ANALYSIS 40 min ago; the key's rate budget held polls back "
        f"40 min in all (0 requests left until {at}). It keeps running"
    ) in text
    one_left = RateLimit(limit=300, remaining=1, reset=reset)
    assert f"(1 request left until {at})" in str(m.timeout_ending(3600.0, T0, one_left).error)
    unknown = RateLimit(limit=300, remaining=None, reset=None)
    assert "held polls back 40 min in all. It keeps" in str(
        m.timeout_ending(3600.0, T0, unknown).error
    )
    assert "held polls back 40 min in all. It keeps" in str(
        m.timeout_ending(3600.0, T0, None).error
    )


def test_a_429_wait_counts_as_the_budget_holding_the_polls_back() -> None:
    m = machine(Fixed(1), scale=1 / 60)
    m.on_simulation(sim("PROCESSING_ANALYSIS"), T0)
    m.on_error(errors.RateLimited(429, "slow down", retry_after=2), T0 + 1)  # real seconds
    text = str(m.timeout_ending(600.0, T0 + 3).error)
    assert "the key's rate budget held polls back 2 min in all" in text  # 2 real s at 60x


def test_holds_shorter_than_the_one_second_floor_are_not_blamed_on_the_budget() -> None:
    m = machine(Fixed(1), scale=1 / 60)
    m.on_simulation(sim("PROCESSING_ANALYSIS"), T0)
    m.on_held(0.9 / 60)  # 0.9 API seconds
    assert "rate budget" not in str(m.timeout_ending(60.0, T0 + 1).error)
    m.on_held(0.1 / 60)  # 1 API second in all
    assert "held polls back 1 s in all" in str(m.timeout_ending(60.0, T0 + 1).error)


def test_429_holds_every_poll_and_results_fetch_of_the_key_for_retry_after() -> None:
    poller: Poller[str] = Poller(rng=random.Random(7))
    poller.add("wa", SID, schedule=Fixed(1), deadline=None, now=T0)
    [first] = poller.due(T0)
    poller.add("wc", "sim-2", schedule=Fixed(1), deadline=None, now=T0)
    [second] = poller.due(T0)
    assert isinstance(first, Send)
    assert isinstance(second, Send)
    poller.answered(first.request, sim("COMPLETED_ANALYSIS"), T0, wall=T0)
    exc = errors.RateLimited(429, "slow down", retry_after=30)
    poller.answered(second.request, exc, T0, wall=T0)  # any request of the key gets a 429
    assert poller.due(T0 + 29.9) == []  # the results fetch waits too
    assert poller.wakeup() == T0 + 30
    sends = [a.request for a in poller.due(T0 + 30) if isinstance(a, Send)]
    assert [(r.call, r.ids) for r in sends] == [
        (Call.RESULTS, (SID,)),
        (Call.SIMULATION, ("sim-2",)),
    ]


# -- deadlines ----------------------------------------------------------------------------------


def test_a_running_watch_may_time_out() -> None:
    m = machine()
    assert m.may_time_out()
    m.on_simulation(sim("PROCESSING_ANALYSIS"), T0)
    assert m.may_time_out()
    snap = m.timeout_ending(10.0, T0 + 10)
    assert snap.state is WatchState.TIMED_OUT
    assert isinstance(snap.error, errors.WaitTimeout)
    assert "PROCESSING_ANALYSIS" in str(snap.error)


@pytest.mark.parametrize("summary", [False, True])
def test_a_watch_seen_at_completed_analysis_is_not_timed_out_before_its_results(
    summary: bool,
) -> None:
    m = machine()
    m.on_simulation(sim("COMPLETED_ANALYSIS", summary=summary), T0, listed=summary)
    assert not m.may_time_out()
    if summary:  # the single GET that follows a terminal summary
        assert m.on_simulation(sim("COMPLETED_ANALYSIS"), T0).fetch is Fetch.RESULTS
        assert not m.may_time_out()
    m.on_error(errors.Conflict(409, "not yet", error_code="SIMULATION_NOT_COMPLETE"), T0)
    assert not m.may_time_out()
    d = m.on_results(result(), T0 + 1)
    assert d.ended
    assert d.snapshot.state is WatchState.SUCCEEDED


def test_results_fetches_that_keep_failing_let_the_deadline_end_the_watch() -> None:
    m = machine()
    m.on_simulation(sim("COMPLETED_ANALYSIS"), T0)
    for _ in range(3):
        assert not m.may_time_out()
        d = m.on_error(errors.ServerError(503, "busy"), T0)
        assert d.fetch is Fetch.RESULTS
    assert m.may_time_out()


# -- outcomes -----------------------------------------------------------------------------------


def test_completed_analysis_fetches_the_results_at_once_then_succeeds() -> None:
    m = machine()
    d = m.on_simulation(sim("COMPLETED_ANALYSIS"), T0)
    assert (d.fetch, d.at, d.ended) == (Fetch.RESULTS, T0, False)
    r = result()
    d = m.on_results(r, T0 + 0.1)
    assert d.ended
    assert d.snapshot.result is r
    assert d.at is None
    assert m.on_simulation(sim("PENDING"), T0 + 5).ended  # nothing after the end


def test_results_not_served_yet_are_asked_again_with_growing_waits() -> None:
    m = machine()
    m.on_simulation(sim("COMPLETED_ANALYSIS"), T0)
    not_yet = errors.Conflict(409, "still running", error_code="SIMULATION_NOT_COMPLETE")
    gaps = [m.on_error(not_yet, T0).at - T0 for _ in range(6)]  # type: ignore[operator]
    assert gaps == [1, 2, 3, 4, 5, 5]
    assert m.fetch is Fetch.RESULTS


def test_results_answering_failed_go_back_to_the_simulation_for_its_log() -> None:
    m = machine()
    m.on_simulation(sim("COMPLETED_ANALYSIS"), T0)
    d = m.on_error(errors.Conflict(409, "failed", status="FAILED"), T0)
    assert d.fetch is Fetch.SINGLE
    assert d.at == T0 + 1
    failed = sim(
        "FAILED",
        states=[("PROCESSING_ANALYSIS", T0 - 50), ("FAILED", T0)],
        error_log="analyst crashed",
    )
    d = m.on_simulation(failed, T0 + 1)
    assert d.ended
    assert isinstance(d.snapshot.error, errors.SimulationFailed)
    assert d.snapshot.error.error_log == "analyst crashed"
    assert d.snapshot.error.phase == "Analyst"


def test_unknown_status_is_shown_as_it_is_and_polled_on() -> None:
    m = machine(PhaseAware(interval=10))
    d = m.on_simulation(sim("QUEUED"), T0)
    assert not d.ended
    assert d.fetch is Fetch.STATUS
    assert d.snapshot.status == "QUEUED"
    assert "unknown status 'QUEUED'" in (d.snapshot.notice or "")
    assert d.at == T0 + 10


def test_a_status_going_backwards_is_reported_and_polled_on() -> None:
    m = machine()
    m.on_simulation(sim("PROCESSING_SIMULATION"), T0)
    d = m.on_simulation(sim("PROCESSING_CONFIG"), T0 + 10)
    assert not d.ended
    assert d.fetch is Fetch.STATUS
    assert d.snapshot.notice == "status went back from PROCESSING_SIMULATION to PROCESSING_CONFIG"
    d = m.on_simulation(sim("PROCESSING_CONFIG"), T0 + 20)
    assert d.snapshot.notice is None  # said once
    m.on_simulation(sim("PROCESSING_ANALYSIS"), T0 + 30)
    d = m.on_simulation(sim("COMPLETED_CONFIG"), T0 + 40)  # a config edit resets it here
    assert d.snapshot.notice is None


def test_a_list_page_missing_the_simulation_asks_for_it_alone_at_once() -> None:
    m = machine()
    m.on_simulation(sim("PENDING"), T0)
    d = m.on_missing(T0 + 2)
    assert (d.fetch, d.at) == (Fetch.SINGLE, T0 + 2)
    d = m.on_simulation(sim("PROCESSING_CONFIG"), T0 + 3)
    assert d.fetch is Fetch.STATUS  # listable again


def test_stopped_snapshot_says_the_simulation_keeps_running() -> None:
    m = machine()
    m.on_simulation(sim("PENDING"), T0)
    snap = m.stop_ending()
    assert snap.state is WatchState.STOPPED
    assert "keeps running on the server" in (snap.notice or "")
    m.close()
    assert m.ended
    assert m.may_time_out()


# -- summary list items -------------------------------------------------------------------------


def test_is_summary_knows_a_list_item_from_a_whole_simulation() -> None:
    assert is_summary(sim("PENDING", summary=True))
    assert not is_summary(sim("PENDING"))


@pytest.mark.parametrize("status", ["FAILED", "COMPLETED_ANALYSIS"])
def test_a_terminal_summary_calls_for_a_single_get_before_any_end(status: str) -> None:
    m = machine(Fixed(5))
    m.on_simulation(sim("PROCESSING_ANALYSIS"), T0)
    d = m.on_simulation(sim(status, summary=True), T0 + 5, listed=True)
    assert not d.ended
    assert (d.fetch, d.at) == (Fetch.SINGLE, T0 + 5)
    assert d.snapshot.status == status
    assert d.snapshot.simulation is not None
    assert d.snapshot.simulation.lifecycle  # the lifecycle known so far is kept for widgets


def test_a_failure_seen_through_a_summary_keeps_its_error_log() -> None:
    m = machine(Fixed(5))
    m.on_simulation(sim("FAILED", summary=True), T0, listed=True)
    failed = sim("FAILED", states=[("PROCESSING_CONFIG", T0 - 9), ("FAILED", T0)], error_log="x")
    d = m.on_simulation(failed, T0 + 0.1)
    assert d.ended
    assert isinstance(d.snapshot.error, errors.SimulationFailed)
    assert d.snapshot.error.error_log == "x"


def test_a_summary_entering_a_phase_calls_for_a_single_get_when_the_schedule_times_phases() -> None:
    m = machine(PhaseAware())
    m.on_simulation(sim("PENDING"), T0)
    d = m.on_simulation(sim("PROCESSING_CONFIG", summary=True), T0 + 2, listed=True)
    assert (d.fetch, d.at) == (Fetch.SINGLE, T0 + 2)
    d = m.on_simulation(in_phase("PROCESSING_CONFIG", 3.0), T0 + 2)
    assert d.fetch is Fetch.STATUS
    # Later summaries of the same phase: its start is known, no more single GETs.
    d = m.on_simulation(sim("PROCESSING_CONFIG", summary=True), T0 + 60, listed=True)
    assert d.fetch is Fetch.STATUS
    assert d.at is not None
    assert d.at > T0 + 60


@pytest.mark.parametrize("status", ["PENDING", "COMPLETED_CONFIG", "PROCESSING_SIMULATION"])
def test_a_summary_costs_no_extra_request_when_the_schedule_needs_no_timing(status: str) -> None:
    m = machine(Fixed(5))
    d = m.on_simulation(sim(status, summary=True), T0, listed=True)
    assert (d.fetch, d.at) == (Fetch.STATUS, T0 + 5)


@pytest.mark.parametrize("status", ["PROCESSING_CONFIG", "FAILED", "COMPLETED_ANALYSIS"])
def test_whole_list_items_never_call_for_a_single_get(status: str) -> None:
    m = machine(PhaseAware())
    d = m.on_simulation(sim(status, error_log="e" if status == "FAILED" else None), T0, listed=True)
    assert d.fetch is not Fetch.SINGLE


def test_decisions_are_plain_values() -> None:
    d = machine().start(T0)
    assert isinstance(d, Decision)
    assert d == Decision(d.snapshot, False, Fetch.STATUS, T0)


def test_phase_aware_polls_often_only_near_a_phases_expected_end() -> None:
    # The Analyst window is where the caller waits: polls there are final_interval apart.
    schedule = PhaseAware()
    m = machine(schedule)
    early = m.on_simulation(in_phase("PROCESSING_ANALYSIS", 5.0), T0).at
    late = m.on_simulation(in_phase("PROCESSING_ANALYSIS", 100.0), T0).at
    assert early is not None
    assert late is not None
    assert early - T0 > late - T0
    assert late - T0 == schedule.final_interval
    assert timedelta(seconds=early - T0) <= timedelta(seconds=schedule.max_interval)


# -- the details mutation testing asked for ------------------------------------------------------


def test_a_fresh_machine_polls_the_status_and_may_time_out() -> None:
    m = PollState(SID, Fixed(5))
    assert (m.ended, m.fetch, m.attempt) == (False, Fetch.STATUS, 0)
    assert m.snapshot.simulation_id == SID
    assert m.snapshot.simulation is None
    assert m.time_scale == 1.0
    assert m.may_time_out()


def test_the_simulation_a_caller_already_had_is_the_starting_point() -> None:
    initial = sim("PROCESSING_SIMULATION")
    m = PollState(SID, PhaseAware(), time_scale=0.5, initial=initial)
    assert m.snapshot.simulation is initial
    assert m.snapshot.time_scale == 0.5
    d = m.on_simulation(sim("PENDING"), T0)  # backwards from what the caller had
    assert d.snapshot.notice == "status went back from PROCESSING_SIMULATION to PENDING"
    # its lifecycle also serves a summary of the same phase: no single GET needed
    m = PollState(SID, PhaseAware(), initial=initial)
    d = m.on_simulation(sim("PROCESSING_SIMULATION", summary=True), T0, listed=True)
    assert d.fetch is Fetch.STATUS
    assert d.snapshot.simulation is not None
    assert d.snapshot.simulation.lifecycle == initial.lifecycle


@pytest.mark.parametrize(
    "event",
    [
        lambda m: m.on_simulation(sim("PENDING"), T0 + 9),
        lambda m: m.on_results(result(), T0 + 9),
        lambda m: m.on_missing(T0 + 9),
        lambda m: m.on_error(errors.ServerError(503, "busy"), T0 + 9),
    ],
)
def test_every_event_after_the_end_changes_nothing(event: Any) -> None:
    m = machine()
    final = m.on_error(errors.NotFound(404, "gone"), T0).snapshot
    assert event(m) == Decision(final, True, Fetch.NOTHING, None)
    assert m.snapshot is final


def test_results_count_as_a_poll_and_clear_the_notice() -> None:
    m = machine()
    m.on_simulation(sim("QUEUED"), T0)  # leaves a notice
    before = m.snapshot.polls
    d = m.on_results(result(), T0)
    assert d.snapshot.polls == before + 1
    assert d.snapshot.notice is None


def test_a_terminal_error_says_why_the_watch_stopped() -> None:
    d = machine().on_error(errors.AuthenticationError(401, "revoked"), T0)
    assert d.snapshot.notice == "stopped: HTTP 401: revoked"


def test_a_conflict_is_terminal_unless_the_results_were_asked_for() -> None:
    m = machine()
    m.on_simulation(sim("PROCESSING_CONFIG"), T0)
    d = m.on_error(errors.Conflict(409, "not complete", error_code="SIMULATION_NOT_COMPLETE"), T0)
    assert d.ended


def test_results_answering_simulation_failed_by_code_go_back_for_the_log() -> None:
    m = machine()
    m.on_simulation(sim("COMPLETED_ANALYSIS"), T0)
    d = m.on_error(errors.Conflict(409, "failed", error_code="SIMULATION_FAILED"), T0)
    assert (d.fetch, d.at) == (Fetch.SINGLE, T0 + 1)


def test_a_failure_names_its_simulation_and_ends_failed() -> None:
    failed = sim(
        "FAILED", states=[("PROCESSING_SIMULATION", T0 - 9), ("FAILED", T0)], error_log="x"
    )
    d = machine().on_simulation(failed, T0)
    assert d.snapshot.state is WatchState.FAILED
    assert isinstance(d.snapshot.error, errors.SimulationFailed)
    assert d.snapshot.error.simulation_id == SID
    assert d.snapshot.error.phase == "Simulator"


@pytest.mark.parametrize(
    ("exc", "name"),
    [
        (errors.ServerError(503, "x"), "HTTP 503"),
        (errors.ConnectError("GET /x: ...", summary="cannot resolve h"), "cannot resolve h"),
        (
            errors.RequestTimeout("x", summary="no answer from h within 3 s"),
            "no answer from h within 3 s",
        ),
        (errors.ConnectionDropped("h closed the connection"), "h closed the connection"),
        (errors.ProtocolError("x"), "a malformed answer"),
        (ValueError("x"), "ValueError"),
    ],
)
def test_failures_are_described_in_a_few_key_free_words(exc: BaseException, name: str) -> None:
    assert describe(exc) == name


def test_the_timeout_message_says_how_long_where_it_stood_and_what_to_do() -> None:
    m = machine()
    assert "after 0 s (timeout=0); no status seen yet" in str(m.timeout_ending(None, T0).error)
    m.on_simulation(sim("PENDING"), T0)
    text = str(m.timeout_ending(12.5, T0 + 3).error)
    assert text == (
        f"gave up waiting for simulation {SID} after 12 s (timeout=12.5); last seen PENDING "
        "3 s ago. It keeps running on the server (or has finished since): wait again with "
        f"client.watch({SID!r}).result() or tw.SimulationWatcher({SID!r}, client=client)"
    )


def test_stop_and_close_end_with_nothing_to_fetch() -> None:
    m = machine()
    assert m.stop_ending().notice == "stopped watching (the simulation keeps running on the server)"
    m.close()
    assert (m.ended, m.fetch) == (True, Fetch.NOTHING)
    assert m.poll_now(T0) == Decision(m.snapshot, True, Fetch.NOTHING, None)


def test_a_summary_keeps_the_known_title_and_creation_time_when_it_has_none() -> None:
    m = machine(Fixed(5))
    m.on_simulation(sim("PENDING"), T0)
    bare = Simulation.from_json({"id": SID, "status": "PENDING"})
    d = m.on_simulation(bare, T0 + 5, listed=True)
    assert d.snapshot.simulation is not None
    assert d.snapshot.simulation.title == "t"
    assert d.snapshot.simulation.created_at is not None
    titled = Simulation.from_json({"id": SID, "status": "PENDING", "title": "new"})
    d = m.on_simulation(titled, T0 + 10, listed=True)
    assert d.snapshot.simulation is not None
    assert d.snapshot.simulation.title == "new"


def test_a_whole_item_from_a_list_is_taken_as_whole_only_with_both_fields() -> None:
    lifecycle_only = Simulation.from_json(
        {"id": SID, "status": "PENDING", "lifecycle": {"states": []}}
    )
    assert is_summary(lifecycle_only)
    error_only = Simulation.from_json({"id": SID, "status": "PENDING", "error_log": None})
    assert is_summary(error_only)


def test_a_summary_of_a_short_status_needs_no_timing() -> None:
    m = machine(PhaseAware())
    d = m.on_simulation(sim("COMPLETED_CONFIG", summary=True), T0, listed=True)
    assert d.fetch is Fetch.STATUS


def test_a_listed_whole_simulation_is_not_a_summary_by_default() -> None:
    m = machine(PhaseAware())
    d = m.on_simulation(sim("PROCESSING_CONFIG", summary=True), T0)  # a single GET's answer
    assert d.fetch is Fetch.STATUS


def test_phase_timing_starts_at_zero_and_counts_api_seconds() -> None:
    scale = 1 / 10
    schedule = PhaseAware(interval=5, max_interval=1000)
    # entered 3 real seconds ago = 30 API seconds into the Architect: 30 s to its minimum
    s = sim("PROCESSING_CONFIG", states=[("PENDING", T0 - 9), ("PROCESSING_CONFIG", T0 - 3)])
    d = machine(schedule, scale).on_simulation(s, T0)
    assert d.at - T0 == pytest.approx(30 * scale)
    # a clock slightly behind the server's: never a negative elapsed time
    s = sim("PROCESSING_CONFIG", states=[("PENDING", T0 - 9), ("PROCESSING_CONFIG", T0 + 2)])
    d = machine(schedule, scale).on_simulation(s, T0)
    assert d.at - T0 == pytest.approx(60 * scale)


def test_the_schedule_learns_the_status_and_the_poll_count() -> None:
    seen: list[PollContext] = []

    class Spy:
        def next_delay(self, context: PollContext) -> float:
            seen.append(context)
            return 5.0

    m = machine(Spy())
    m.on_simulation(sim("PENDING"), T0)
    m.on_simulation(sim("QUEUED"), T0)
    assert [(str(c.status), c.polls) for c in seen] == [("PENDING", 1), ("QUEUED", 2)]
    assert seen[0].phase_elapsed is None


def test_retry_delay_doubles_from_one_second() -> None:
    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    assert [retry_delay(n, Top()) for n in (0, 1, 2, 3, 6, 7, 17, 18)] == [
        1, 1, 2, 4, 30, 30, 30, 30
    ]  # fmt: skip
