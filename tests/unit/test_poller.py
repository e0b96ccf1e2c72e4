"""The poller of one client on a fake clock: batching, paging, the budget, 429s, deadlines.

Events go in with a plain number for ``now`` (the scheduling clock) and, for answers, ``wall``
(epoch seconds); the actions that come out are read as the engine reads them. Nothing here
sleeps, starts a thread or opens a socket.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any

import pytest

from twyn_widgets import errors
from twyn_widgets.models import RateLimit, Simulation, SimulationPage, SimulationResult
from twyn_widgets.polling import Fixed, PhaseAware, WatchState
from twyn_widgets.polling._poller import (
    RESULTS_PATIENCE,
    Action,
    Call,
    Finish,
    Poller,
    Publish,
    Request,
    Send,
)
from twyn_widgets.polling._schedules import Schedule

T0 = 1_764_000_000.0  # the fake clock's start, epoch seconds (wall and scheduling alike)
WALL = 1.76e9  # a wall clock far from a scheduling clock that starts at 100.0
SEED = 7


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


def sim(
    sid: str,
    status: str,
    *,
    created: float | None = T0 - 600,
    entered: float = T0 - 1,
    error_log: str | None = None,
) -> Simulation:
    """A whole simulation as the API sends it (``entered``: when it reached ``status``)."""
    data: dict[str, Any] = {
        "id": sid,
        "title": "t",
        "status": status,
        "lifecycle": {"states": [{"name": "PENDING", "at": iso(T0 - 900)}, {"name": status,
                                                                             "at": iso(entered)}]},
        "error_log": error_log,
    }  # fmt: skip
    if created is not None:
        data["created_at"] = iso(created)
    return Simulation.from_json(data)


def summary(sid: str, status: str) -> Simulation:
    """A list item without ``lifecycle`` and ``error_log``."""
    return Simulation.from_json({"id": sid, "title": "t", "status": status, "created_at": iso(T0)})


def others(count: int, start: int = 0) -> list[Simulation]:
    """Simulations of the key that nobody watches."""
    return [sim(f"other-{i}", "PENDING") for i in range(start, start + count)]


def page(*items: Simulation, total: int | None = None, offset: int = 0) -> SimulationPage:
    return SimulationPage(
        items=items, total=len(items) if total is None else total, limit=100, offset=offset
    )


def result(sid: str) -> SimulationResult:
    return SimulationResult.from_json(
        {
            "id": sid,
            "status": "COMPLETED_ANALYSIS",
            "config": {},
            "metrics": {"by_group": []},
            "analysis": {},
        }
    )


def limit(remaining: int, reset: float) -> RateLimit:
    return RateLimit(limit=100, remaining=remaining, reset=reset)


def poller(time_scale: float = 1.0) -> Poller[str]:
    return Poller(time_scale, rng=random.Random(SEED))


def watch(
    p: Poller[str],
    handle: str,
    sid: str,
    now: float,
    *,
    schedule: Schedule | None = None,
    deadline: float | None = None,
    api_timeout: float | None = None,
    initial: Simulation | None = None,
) -> None:
    assert (
        p.add(
            handle,
            sid,
            schedule=schedule or Fixed(5),
            deadline=deadline,
            now=now,
            api_timeout=api_timeout,
            initial=initial,
        )
        == []
    )


def sent(actions: list[Action[str]]) -> list[Request]:
    """The requests of ``actions``, which must all be sends."""
    assert all(isinstance(a, Send) for a in actions), actions
    return [a.request for a in actions if isinstance(a, Send)]


def calls(actions: list[Action[str]]) -> list[tuple[Call, tuple[str, ...]]]:
    return [(r.call, r.ids) for r in sent(actions)]


def shown(actions: list[Action[str]]) -> list[tuple[str, tuple[str, ...], str | None, int]]:
    """Each publish or finish: its kind, handles, status shown and polls counted."""
    out = []
    for a in actions:
        assert isinstance(a, Publish | Finish), actions
        snap = a.snapshot
        status = None if snap.status is None else str(snap.status)
        out.append((type(a).__name__, a.handles, status, snap.polls))
    return out


def first_retry(attempts: int = 1) -> list[float]:
    """The poller's first retry delays (seconds, at scale 1), from the same seed."""
    rng = random.Random(SEED)
    return [min(30.0, 2.0 ** (n - 1)) * rng.uniform(0.5, 1.0) for n in range(1, attempts + 1)]


# -- the first request and batching ---------------------------------------------------------------


def test_the_first_request_goes_at_once_as_a_single_get() -> None:
    p = poller()
    watch(p, "h", "a", T0)
    assert p.wakeup() == T0
    [request] = sent(p.due(T0))
    assert (request.call, request.ids, request.seen) == (Call.SIMULATION, ("a",), None)
    assert p.wakeup() is None  # in flight, no deadline
    assert p.due(T0 + 100) == []


def test_two_listable_simulations_share_one_list_page() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [request] = sent(p.due(T0))
    assert (request.call, request.ids, request.offset, request.limit) == (
        Call.LIST, ("a", "b"), 0, 100
    )  # fmt: skip
    assert request.created_after is None  # no creation time known yet
    listed = page(sim("a", "PENDING"), sim("b", "PROCESSING_CONFIG"))
    actions = p.answered(request, listed, T0 + 0.5, wall=T0 + 0.5)
    assert shown(actions) == [
        ("Publish", ("ha",), "PENDING", 1),
        ("Publish", ("hb",), "PROCESSING_CONFIG", 1),
    ]
    assert p.wakeup() == T0 + 5.5


def test_a_sweep_asks_only_for_pages_back_to_the_oldest_watched_simulation() -> None:
    p = poller()
    watch(p, "ha", "a", T0, initial=sim("a", "PENDING", created=T0 - 60))
    watch(p, "hb", "b", T0, initial=sim("b", "PENDING", created=T0 - 600))
    [request] = sent(p.due(T0))
    assert request.created_after == iso(T0 - 601)


def test_without_every_creation_time_a_sweep_reads_the_whole_list() -> None:
    p = poller()
    watch(p, "ha", "a", T0, initial=sim("a", "PENDING", created=T0 - 60))
    watch(p, "hb", "b", T0, initial=sim("b", "PENDING", created=None))
    [request] = sent(p.due(T0))
    assert (request.call, request.created_after) == (Call.LIST, None)


def test_idle_simulations_join_a_due_ones_sweep() -> None:
    p = poller()
    watch(p, "ha", "a", T0, schedule=Fixed(5))
    watch(p, "hb", "b", T0, schedule=Fixed(60))
    [request] = sent(p.due(T0))
    p.answered(request, page(sim("a", "PENDING"), sim("b", "PENDING")), T0, wall=T0)
    assert p.wakeup() == T0 + 5  # b is not due before T0 + 60
    assert calls(p.due(T0 + 5)) == [(Call.LIST, ("a", "b"))]


def test_one_listable_simulation_is_asked_by_a_single_get_while_another_awaits_results() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [request] = sent(p.due(T0))
    listed = page(sim("a", "PENDING"), sim("b", "COMPLETED_ANALYSIS"))
    p.answered(request, listed, T0, wall=T0)
    assert calls(p.due(T0)) == [(Call.RESULTS, ("b",))]
    assert calls(p.due(T0 + 5)) == [(Call.SIMULATION, ("a",))]  # b's fetch is out


@pytest.mark.parametrize(("scale", "wait"), [(None, 5.0), (0.1, 0.5)])
def test_the_clients_time_scale_shortens_every_wait(scale: float | None, wait: float) -> None:
    p: Poller[str] = Poller() if scale is None else Poller(scale)  # real seconds by default
    watch(p, "h", "a", T0)
    [request] = sent(p.due(T0))
    p.answered(request, sim("a", "PENDING"), T0, wall=T0)
    assert p.wakeup() == pytest.approx(T0 + wait, abs=1e-6)  # Fixed(5)


@pytest.mark.parametrize("listed", [False, True])
def test_the_lifecycle_is_read_against_the_answers_wall_clock(listed: bool) -> None:
    # 10 s into the Architect by the wall clock: PhaseAware waits the 50 s left to its minimum.
    p = poller()
    running = sim("a", "PROCESSING_CONFIG", entered=WALL - 10)
    watch(p, "ha", "a", 100.0, schedule=PhaseAware(interval=5, max_interval=100))
    if listed:
        watch(p, "hb", "b", 100.0, schedule=Fixed(100))
    [request] = sent(p.due(100.0))
    answer = page(running, sim("b", "PENDING")) if listed else running
    p.answered(request, answer, 100.5, wall=WALL)
    assert p.wakeup() == 150.5


# -- the rate budget ------------------------------------------------------------------------------


def test_a_results_fetch_goes_first_and_skips_the_budgets_spacing() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    [request] = sent(p.due(T0))
    running = sim("a", "PROCESSING_SIMULATION")
    p.answered(request, running, T0, wall=T0, rate_limit=limit(10, T0 + 100))  # 10 s apart
    watch(p, "hb", "b", T0 + 1)
    [request] = sent(p.due(T0 + 1))  # the next free slot is T0 + 11
    assert (request.call, request.ids) == (Call.LIST, ("b", "a"))
    done = sim("a", "COMPLETED_ANALYSIS")
    p.answered(request, page(done, sim("b", "PROCESSING_SIMULATION")), T0 + 2, wall=T0 + 2)
    [fetch] = sent(p.due(T0 + 7))  # a's results since T0 + 2, b's poll due now
    assert (fetch.call, fetch.ids) == (Call.RESULTS, ("a",))
    assert fetch.seen is not None
    assert fetch.seen.status == "COMPLETED_ANALYSIS"
    assert p.wakeup() == T0 + 11  # b's poll, put off to the next free slot
    assert calls(p.due(T0 + 11)) == [(Call.SIMULATION, ("b",))]


def test_a_results_fetch_is_sent_before_the_polls_due_with_it() -> None:
    p = poller()
    watch(p, "hb", "b", T0)
    [request] = sent(p.due(T0))
    watch(p, "ha", "a", T0)
    [single] = sent(p.due(T0))
    p.answered(single, sim("a", "COMPLETED_ANALYSIS"), T0, wall=T0)
    p.answered(request, sim("b", "PENDING"), T0, wall=T0)
    assert calls(p.due(T0 + 5)) == [(Call.RESULTS, ("a",)), (Call.SIMULATION, ("b",))]


def test_a_results_fetch_waits_out_a_429_pause() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    [first] = sent(p.due(T0))
    watch(p, "hb", "b", T0)
    [second] = sent(p.due(T0))
    p.answered(first, sim("a", "COMPLETED_ANALYSIS"), T0, wall=T0)
    p.answered(second, errors.RateLimited(429, "slow down", retry_after=30), T0 + 1, wall=T0 + 1)
    assert p.due(T0 + 30.9) == []
    assert p.wakeup() == T0 + 31
    assert calls(p.due(T0 + 31)) == [(Call.RESULTS, ("a",)), (Call.SIMULATION, ("b",))]


def test_a_results_fetch_held_by_a_pause_goes_at_its_end_while_polls_wait_for_their_slot() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    [single_a] = sent(p.due(T0))
    watch(p, "hb", "b", T0)
    [single_b] = sent(p.due(T0))
    p.answered(single_b, sim("b", "PENDING"), T0, wall=T0, rate_limit=limit(1, T0 + 100))
    [single_b] = sent(p.due(T0 + 5))  # the next free slot is now T0 + 105
    p.answered(single_b, sim("b", "PENDING"), T0 + 5, wall=T0 + 5)  # b's next poll: T0 + 10
    spent = limit(0, T0 + 36)
    p.answered(single_a, sim("a", "COMPLETED_ANALYSIS"), T0 + 6, wall=T0 + 6, rate_limit=spent)
    assert p.due(T0 + 10) == []  # both held: the results by the pause, b's poll by its slot
    assert p.wakeup() == T0 + 36
    assert calls(p.due(T0 + 36)) == [(Call.RESULTS, ("a",))]
    assert p.wakeup() == T0 + 105


def test_the_budget_puts_off_what_it_does_not_allow_and_counts_the_hold() -> None:
    p = poller()
    watch(p, "h", "a", T0, deadline=T0 + 300, api_timeout=300.0)
    [request] = sent(p.due(T0))
    running = sim("a", "PROCESSING_SIMULATION")
    reset = T0 + 600
    p.answered(request, running, T0, wall=T0, rate_limit=limit(1, reset))  # 600 s apart
    [request] = sent(p.due(T0 + 5))  # the next free slot is now T0 + 605
    p.answered(request, running, T0 + 6, wall=T0 + 6)
    assert p.due(T0 + 11) == []  # put off 594 s
    assert p.wakeup() == T0 + 300  # the deadline comes first
    [finish] = p.due(T0 + 300)
    assert isinstance(finish, Finish)
    assert finish.handles == ("h",)
    assert finish.snapshot.state is WatchState.TIMED_OUT
    at = datetime.fromtimestamp(reset).strftime("%H:%M")
    assert str(finish.snapshot.error).startswith(
        "gave up waiting for simulation a after 5 min (timeout=300); last seen "
        "PROCESSING_SIMULATION 4 min 54 s ago; the key's rate budget held polls back "
        f"9 min 54 s in all (1 request left until {at}). It keeps running"
    )
    assert p.watching == 0


@pytest.mark.parametrize(
    "seen", [None, RateLimit(100, 5, None), RateLimit(100, None, T0 + 600)], ids=str
)
def test_429_waits_add_up_in_a_timeout_that_names_the_budget_left_only_when_known(
    seen: RateLimit | None,
) -> None:
    p = poller()
    watch(p, "h", "a", T0, deadline=T0 + 100, api_timeout=100.0)
    [request] = sent(p.due(T0))
    slow_down = errors.RateLimited(429, "slow down", retry_after=30)
    p.answered(request, slow_down, T0, wall=T0, rate_limit=seen)
    [request] = sent(p.due(T0 + 30))
    p.answered(request, slow_down, T0 + 30, wall=T0 + 30, rate_limit=seen)
    [finish] = p.due(T0 + 100)
    assert isinstance(finish, Finish)
    assert str(finish.snapshot.error).startswith(
        "gave up waiting for simulation a after 1 min 40 s (timeout=100); no status seen yet; "
        "the key's rate budget held polls back 1 min in all. It keeps running"
    )


def test_a_rate_limit_is_read_on_the_wall_clock_and_paused_on_the_scheduling_clock() -> None:
    p = poller()
    watch(p, "h", "a", 100.0)
    [request] = sent(p.due(100.0))
    spent = limit(0, WALL + 20)  # nothing left for 20 s by the server's clock
    p.answered(request, sim("a", "PENDING"), 100.5, wall=WALL, rate_limit=spent)
    assert p.rate_limit is spent
    assert p.due(105.5) == []  # the poll's time, but the key is spent
    assert p.wakeup() == 120.5
    [request] = sent(p.due(120.5))
    p.answered(
        request, sim("a", "PENDING"), 121.0, wall=WALL + 20.5, rate_limit=limit(4, WALL + 40.5)
    )
    assert p.budget.gap == 5.0  # 20 s left over 4 requests


# -- paging -----------------------------------------------------------------------------------


def test_a_sweep_asks_the_next_page_while_wanted_simulations_are_missing() -> None:
    p = poller()
    watch(p, "ha", "a", T0, initial=sim("a", "PENDING"))
    watch(p, "hb", "b", T0, initial=sim("b", "PENDING"))
    [first] = sent(p.due(T0))
    actions = p.answered(first, page(sim("a", "PENDING"), *others(99), total=150), T0, wall=T0)
    [following] = sent(actions)
    assert (following.call, following.ids, following.offset) == (Call.LIST, ("a", "b"), 100)
    assert (following.sweep, following.created_after) == (first.sweep, first.created_after)
    assert p.wakeup() is None  # both wait for the sweep's end
    rest = page(sim("b", "PROCESSING_CONFIG"), *others(49, 99), total=150, offset=100)
    actions = p.answered(following, rest, T0 + 1, wall=T0 + 1)
    assert shown(actions) == [
        ("Publish", ("ha",), "PENDING", 1),
        ("Publish", ("hb",), "PROCESSING_CONFIG", 1),
    ]


def test_a_sweep_stops_paging_once_every_wanted_simulation_is_found() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [first] = sent(p.due(T0))
    found = page(sim("b", "PENDING"), *others(98), sim("a", "PENDING"), total=500)
    assert [type(a) for a in p.answered(first, found, T0, wall=T0)] == [Publish, Publish]


@pytest.mark.parametrize(("wanted", "pages"), [(2, 2), (99, 2), (100, 3)])
def test_a_sweep_reads_at_most_a_page_per_hundred_wanted_plus_two(wanted: int, pages: int) -> None:
    p = poller()
    ids = [f"s{i:03}" for i in range(wanted)]
    for sid in ids:
        watch(p, sid, sid, T0)
    [request] = sent(p.due(T0))
    offsets = []
    actions: list[Action[str]] = []
    for n in range(pages):
        offsets.append(request.offset)
        unwatched = page(*others(100, 100 * n), total=10_000, offset=100 * n)
        actions = p.answered(request, unwatched, T0, wall=T0)
        if n < pages - 1:
            [request] = sent(actions)
    assert offsets == [100 * n for n in range(pages)]
    assert len(actions) == wanted
    assert all(isinstance(a, Publish) for a in actions)  # no further page: each asked alone
    assert calls(p.due(T0)) == [(Call.SIMULATION, (sid,)) for sid in ids]


def test_each_further_page_of_a_sweep_is_paid_for_with_the_next_slot_of_the_budget() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [first] = sent(p.due(T0))
    budget = limit(10, T0 + 101)  # 10 s apart from now on
    first_page = page(sim("a", "PENDING"), *others(99), total=150)
    [following] = sent(p.answered(first, first_page, T0 + 1, wall=T0 + 1, rate_limit=budget))
    rest = page(sim("b", "PENDING"), total=150, offset=100)
    p.answered(following, rest, T0 + 2, wall=T0 + 2)
    assert p.due(T0 + 7) == []  # the second page took the slot of T0 + 1
    assert p.wakeup() == T0 + 11
    assert calls(p.due(T0 + 11)) == [(Call.LIST, ("a", "b"))]


def test_a_pause_mid_sweep_settles_what_was_not_searched_to_ask_again_at_once() -> None:
    p = poller()
    watch(p, "ha", "a", T0, initial=sim("a", "PENDING"))
    watch(p, "hb", "b", T0, initial=sim("b", "PENDING"))
    [first] = sent(p.due(T0))
    spent = limit(0, T0 + 31)  # the key is spent until T0 + 31
    first_page = page(sim("a", "PROCESSING_CONFIG"), *others(99), total=150)
    actions = p.answered(first, first_page, T0 + 1, wall=T0 + 1, rate_limit=spent)
    assert shown(actions) == [
        ("Publish", ("ha",), "PROCESSING_CONFIG", 1),
        ("Publish", ("hb",), "PENDING", 0),  # not searched: nothing learnt
    ]
    assert p.wakeup() == T0 + 1  # b asks again at once ...
    assert p.due(T0 + 30.9) == []  # ... once the pause allows
    assert calls(p.due(T0 + 31)) == [(Call.LIST, ("a", "b"))]  # still listable, no single GET


def test_a_simulation_missing_from_a_complete_sweep_is_asked_alone() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [request] = sent(p.due(T0))
    actions = p.answered(request, page(sim("a", "PENDING")), T0 + 1, wall=T0 + 1)
    assert shown(actions) == [("Publish", ("ha",), "PENDING", 1), ("Publish", ("hb",), None, 0)]
    assert calls(p.due(T0 + 1)) == [(Call.SIMULATION, ("b",))]


def test_two_sweeps_out_at_once_are_told_apart() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [first] = sent(p.due(T0))
    watch(p, "hc", "c", T0 + 1)
    watch(p, "hd", "d", T0 + 1)
    [second] = sent(p.due(T0 + 1))
    assert (first.ids, second.ids) == (("a", "b"), ("c", "d"))
    actions = p.answered(first, page(sim("a", "PENDING"), sim("b", "PENDING")), T0 + 2, wall=T0)
    assert shown(actions) == [
        ("Publish", ("ha",), "PENDING", 1),
        ("Publish", ("hb",), "PENDING", 1),
    ]
    actions = p.answered(second, page(sim("c", "PENDING"), sim("d", "PENDING")), T0 + 2, wall=T0)
    assert shown(actions) == [
        ("Publish", ("hc",), "PENDING", 1),
        ("Publish", ("hd",), "PENDING", 1),
    ]


def test_a_sweep_settles_every_simulation_when_one_of_them_ends() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [request] = sent(p.due(T0))
    failed = sim("a", "FAILED", error_log="the architect crashed")
    actions = p.answered(request, page(failed, sim("b", "PENDING")), T0 + 1, wall=T0 + 1)
    assert shown(actions) == [("Finish", ("ha",), "FAILED", 1), ("Publish", ("hb",), "PENDING", 1)]
    assert (p.watching, p.wakeup()) == (1, T0 + 6)


def test_a_sweep_answered_after_one_of_its_simulations_was_stopped_settles_the_others() -> None:
    p = poller()
    for sid in "abc":
        watch(p, f"h{sid}", sid, T0)
    [request] = sent(p.due(T0))
    p.stop("ha", T0 + 1)
    listed = page(sim("a", "PENDING"), sim("b", "PENDING"), sim("c", "PENDING"))
    actions = p.answered(request, listed, T0 + 2, wall=T0 + 2)
    assert shown(actions) == [
        ("Publish", ("hb",), "PENDING", 1),
        ("Publish", ("hc",), "PENDING", 1),
    ]


@pytest.mark.parametrize("answer", [page(sim("a", "PENDING")), errors.ServerError(503, "busy")])
def test_a_list_answer_after_every_watch_of_it_stopped_changes_nothing(answer: Any) -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [request] = sent(p.due(T0))
    p.close(T0 + 1)
    assert p.answered(request, answer, T0 + 2, wall=T0 + 2) == []
    assert (p.watching, p.wakeup()) == (0, None)


def test_a_summary_item_at_a_terminal_status_is_followed_by_a_single_get() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [request] = sent(p.due(T0))
    listed = page(summary("a", "FAILED"), sim("b", "PENDING"))
    actions = p.answered(request, listed, T0 + 1, wall=T0 + 1)
    assert shown(actions) == [("Publish", ("ha",), "FAILED", 1), ("Publish", ("hb",), "PENDING", 1)]
    [single] = sent(p.due(T0 + 1))
    assert (single.call, single.ids) == (Call.SIMULATION, ("a",))
    failed = sim("a", "FAILED", error_log="the analyst crashed")
    [finish] = p.answered(single, failed, T0 + 2, wall=T0 + 2)
    assert isinstance(finish, Finish)
    assert isinstance(finish.snapshot.error, errors.SimulationFailed)
    assert finish.snapshot.error.error_log == "the analyst crashed"


# -- a failing list call --------------------------------------------------------------------------


def test_a_list_call_failing_for_good_falls_back_to_single_gets() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [request] = sent(p.due(T0))
    refused = errors.PermissionDenied(403, "blocked by a proxy")
    actions = p.answered(request, refused, T0 + 1, wall=T0 + 1)
    assert shown(actions) == [("Publish", ("ha",), None, 0), ("Publish", ("hb",), None, 0)]
    assert calls(p.due(T0 + 1)) == [(Call.SIMULATION, ("a",)), (Call.SIMULATION, ("b",))]


def test_a_transient_list_failure_retries_every_simulation_at_one_shared_time() -> None:
    p = poller()
    watch(p, "ha", "a", T0)
    watch(p, "hb", "b", T0)
    [request] = sent(p.due(T0))
    actions = p.answered(request, errors.ServerError(503, "busy"), T0 + 1, wall=T0 + 1)
    assert [a.snapshot.state for a in actions if isinstance(a, Publish)] == [
        WatchState.RETRYING, WatchState.RETRYING
    ]  # fmt: skip
    rng = random.Random(SEED)
    first, second = rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0)  # one draw per watch
    assert first != second
    shared = T0 + 1 + max(first, second)
    assert p.wakeup() == shared
    assert p.due(shared - 0.001) == []
    assert calls(p.due(shared)) == [(Call.LIST, ("a", "b"))]


# -- 429 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("retry_after", "wait"), [(30.0, 30.0), (None, 5.0)])
def test_a_429_pauses_every_request_of_the_key(retry_after: float | None, wait: float) -> None:
    p = poller()
    watch(p, "ha", "a", 100.0)
    [first] = sent(p.due(100.0))
    watch(p, "hb", "b", 100.0)
    [second] = sent(p.due(100.0))
    slow_down = errors.RateLimited(429, "slow down", retry_after=retry_after)
    [publish] = p.answered(first, slow_down, 100.5, wall=WALL)
    assert isinstance(publish, Publish)
    assert publish.snapshot.state is WatchState.RATE_LIMITED
    assert publish.snapshot.rate_limited_until == WALL + wait
    assert publish.snapshot.notice == f"rate limited: waiting {wait:g} s before the next poll"
    p.answered(second, sim("b", "PENDING"), 101.0, wall=WALL + 0.5)  # b's next poll: 106
    assert p.due(100.5 + wait - 0.01) == []
    assert calls(p.due(100.5 + wait)) == [(Call.LIST, ("a", "b"))]


def test_a_429_on_a_list_call_holds_every_simulation_of_the_sweep() -> None:
    p = poller()
    watch(p, "ha", "a", 100.0)
    watch(p, "hb", "b", 100.0)
    [request] = sent(p.due(100.0))
    slow_down = errors.RateLimited(429, "slow down", retry_after=30)
    actions = p.answered(request, slow_down, 100.5, wall=WALL)
    assert [
        (a.handles, a.snapshot.state, a.snapshot.rate_limited_until)
        for a in actions
        if isinstance(a, Publish)
    ] == [
        (("ha",), WatchState.RATE_LIMITED, WALL + 30),
        (("hb",), WatchState.RATE_LIMITED, WALL + 30),
    ]
    assert p.wakeup() == 130.5
    assert calls(p.due(130.5)) == [(Call.LIST, ("a", "b"))]


# -- deadlines ----------------------------------------------------------------------------------


def test_a_handle_past_its_deadline_times_out_while_another_on_the_simulation_goes_on() -> None:
    p = poller()
    watch(p, "keeps", "a", T0, schedule=Fixed(60))  # no deadline
    watch(p, "gives-up", "a", T0, schedule=Fixed(60), deadline=T0 + 10, api_timeout=10.0)
    [request] = sent(p.due(T0))
    actions = p.answered(request, sim("a", "PROCESSING_SIMULATION"), T0 + 1, wall=T0 + 1)
    assert shown(actions) == [("Publish", ("keeps", "gives-up"), "PROCESSING_SIMULATION", 1)]
    assert p.wakeup() == T0 + 10
    [finish] = p.due(T0 + 10)
    assert isinstance(finish, Finish)
    assert finish.handles == ("gives-up",)
    assert finish.snapshot.state is WatchState.TIMED_OUT
    assert str(finish.snapshot.error).startswith(
        "gave up waiting for simulation a after 10 s (timeout=10); "
        "last seen PROCESSING_SIMULATION 9 s ago. It keeps running"
    )
    assert (p.handles(), p.watching, p.wakeup()) == (["keeps"], 1, T0 + 61)
    [request] = sent(p.due(T0 + 61))
    actions = p.answered(request, sim("a", "PROCESSING_SIMULATION"), T0 + 62, wall=T0 + 62)
    assert shown(actions) == [("Publish", ("keeps",), "PROCESSING_SIMULATION", 2)]
    assert calls(p.due(T0 + 100_000)) == [(Call.SIMULATION, ("a",))]  # no deadline ends it


def test_a_timeout_counts_the_time_since_the_last_answer_in_api_seconds() -> None:
    p = poller(time_scale=1 / 60)
    watch(p, "h", "a", T0, deadline=T0 + 10, api_timeout=600.0)
    [request] = sent(p.due(T0))
    p.answered(request, sim("a", "PENDING"), T0 + 9.5, wall=T0 + 9.5)
    [finish] = p.due(T0 + 10)
    assert isinstance(finish, Finish)
    assert "; last seen PENDING 30 s ago." in str(finish.snapshot.error)  # 0.5 s at 60x


def test_a_deadline_passing_while_a_request_is_out_ends_the_watch() -> None:
    p = poller()
    watch(p, "h", "a", T0, deadline=T0 + 10, api_timeout=10.0)
    [request] = sent(p.due(T0))
    assert p.wakeup() == T0 + 10
    [finish] = p.due(T0 + 10)
    assert isinstance(finish, Finish)
    assert finish.snapshot.state is WatchState.TIMED_OUT
    assert "; no status seen yet." in str(finish.snapshot.error)
    assert p.answered(request, sim("a", "PENDING"), T0 + 11, wall=T0 + 11) == []
    assert (p.watching, p.wakeup()) == (0, None)


def test_a_simulation_seen_at_completed_analysis_gets_its_results_past_the_deadline() -> None:
    p = poller()
    watch(p, "h", "a", T0, deadline=T0 + 10, api_timeout=10.0)
    [request] = sent(p.due(T0))
    p.answered(request, sim("a", "COMPLETED_ANALYSIS"), T0 + 1, wall=T0 + 1)
    [fetch] = sent(p.due(T0 + 1))
    assert fetch.call is Call.RESULTS
    assert p.wakeup() is None  # the fetch is out and the deadline may not end it
    assert p.due(T0 + 20) == []
    watch(p, "other", "b", T0 + 20, deadline=T0 + 20, api_timeout=1.0)  # ... nor hold up others
    [finish] = p.due(T0 + 20)
    assert isinstance(finish, Finish)
    assert (finish.handles, finish.snapshot.state) == (("other",), WatchState.TIMED_OUT)
    results = result("a")
    [finish] = p.answered(fetch, results, T0 + 25, wall=T0 + 25)
    assert isinstance(finish, Finish)
    assert shown([finish]) == [("Finish", ("h",), "COMPLETED_ANALYSIS", 2)]
    assert (finish.snapshot.state, finish.snapshot.result) == (WatchState.SUCCEEDED, results)
    assert p.watching == 0


def test_failing_results_fetches_let_the_deadline_end_the_watch_after_the_patience() -> None:
    p = poller()
    watch(p, "h", "a", T0, deadline=T0 + 10, api_timeout=10.0)
    [request] = sent(p.due(T0))
    p.answered(request, sim("a", "COMPLETED_ANALYSIS"), T0 + 1, wall=T0 + 1)
    [fetch] = sent(p.due(T0 + 1))
    now = T0 + 20
    delays = first_retry(RESULTS_PATIENCE)
    for attempt in range(RESULTS_PATIENCE - 1):
        p.answered(fetch, errors.ServerError(503, "busy"), now, wall=now)
        retry = now + delays[attempt]
        assert p.wakeup() == retry  # not the deadline, long past
        [fetch] = sent(p.due(retry))
        now = retry
    p.answered(fetch, errors.ServerError(503, "busy"), now, wall=now)
    assert p.wakeup() == T0 + 10  # the patience is spent: the deadline counts again
    [finish] = p.due(now)
    assert isinstance(finish, Finish)
    assert finish.snapshot.state is WatchState.TIMED_OUT
    assert p.watching == 0


def test_an_outcome_finishes_every_handle_of_the_simulation_and_forgets_it() -> None:
    p = poller()
    watch(p, "h1", "a", T0, deadline=T0 + 50)
    watch(p, "h2", "a", T0)
    [request] = sent(p.due(T0))
    failed = sim("a", "FAILED", error_log="the simulator crashed")
    [finish] = p.answered(request, failed, T0 + 1, wall=T0 + 1)
    assert isinstance(finish, Finish)
    assert finish.handles == ("h1", "h2")
    assert finish.snapshot.state is WatchState.FAILED
    assert (p.watching, p.handles(), p.wakeup(), p.snapshot("a")) == (0, [], None, None)


@pytest.mark.parametrize(
    ("failure", "state"),
    [
        (errors.ServerError(503, "busy"), WatchState.RETRYING),
        (errors.RateLimited(429, "slow down", retry_after=2), WatchState.RATE_LIMITED),
    ],
)
def test_an_answer_after_a_failure_shows_the_watch_as_watching_again(
    failure: errors.TwynError, state: WatchState
) -> None:
    p = poller()
    watch(p, "h", "a", T0)
    [request] = sent(p.due(T0))
    [publish] = p.answered(request, failure, T0, wall=T0)
    assert isinstance(publish, Publish)
    assert publish.snapshot.state is state
    retry = p.wakeup()
    assert retry is not None
    [request] = sent(p.due(retry))
    [publish] = p.answered(request, sim("a", "PENDING"), T0 + 3, wall=T0 + 3)
    assert isinstance(publish, Publish)
    snapshot = publish.snapshot
    assert (snapshot.state, snapshot.note, snapshot.rate_limited_until) == (
        WatchState.WATCHING, None, None
    )  # fmt: skip


# -- stop and close ---------------------------------------------------------------------------


def test_stopping_one_handle_finishes_only_it() -> None:
    p = poller()
    watch(p, "h1", "a", T0, deadline=T0 + 5)
    watch(p, "h2", "a", T0)
    [request] = sent(p.due(T0))
    [finish] = p.stop("h1", T0 + 1)
    assert isinstance(finish, Finish)
    assert finish.handles == ("h1",)
    assert finish.snapshot.state is WatchState.STOPPED
    assert isinstance(finish.snapshot.error, errors.WatchStopped)
    assert finish.snapshot.notice == "stopped watching (the simulation keeps running on the server)"
    assert (p.watching, p.handles()) == (1, ["h2"])
    assert p.stop("h1", T0 + 2) == []  # it had ended
    assert p.wakeup() is None  # h1's deadline went with it
    actions = p.answered(request, sim("a", "PENDING"), T0 + 2, wall=T0 + 2)
    assert shown(actions) == [("Publish", ("h2",), "PENDING", 1)]


def test_the_last_handles_stop_forgets_the_simulation_and_its_late_answer_changes_nothing() -> None:
    p = poller()
    watch(p, "h", "a", T0)
    [request] = sent(p.due(T0))
    [finish] = p.stop("h", T0 + 1)
    assert isinstance(finish, Finish)
    assert (p.watching, p.snapshot("a"), p.wakeup()) == (0, None, None)
    assert p.answered(request, sim("a", "PENDING"), T0 + 2, wall=T0 + 2) == []
    assert (p.watching, p.due(T0 + 100)) == (0, [])
    watch(p, "h", "a", T0 + 3)  # watched again: polled afresh, at once
    assert calls(p.due(T0 + 3)) == [(Call.SIMULATION, ("a",))]


def test_close_stops_every_handle() -> None:
    p = poller()
    watch(p, "h1", "a", T0)
    watch(p, "h2", "a", T0)
    watch(p, "h3", "b", T0, deadline=T0 + 9)
    actions = p.close(T0 + 1)
    assert [(a.handles, a.snapshot.state) for a in actions if isinstance(a, Finish)] == [
        (("h1",), WatchState.STOPPED),
        (("h2",), WatchState.STOPPED),
        (("h3",), WatchState.STOPPED),
    ]
    assert len(actions) == 3
    assert (p.watching, p.handles(), p.wakeup(), p.due(T0 + 10)) == (0, [], None, [])


# -- what it holds ------------------------------------------------------------------------------


def test_a_joined_handle_sees_the_current_snapshot_and_shares_the_polling() -> None:
    p = poller()
    watch(p, "h1", "a", T0)
    [request] = sent(p.due(T0))
    p.answered(request, sim("a", "PROCESSING_SIMULATION"), T0 + 1, wall=T0 + 1)
    current = p.snapshot("a")
    assert current is not None
    assert (str(current.status), current.polls) == ("PROCESSING_SIMULATION", 1)
    watch(p, "h2", "a", T0 + 2, schedule=Fixed(1), initial=sim("a", "PENDING"))
    assert p.snapshot("a") is current  # no fresh start, no poll of its own
    assert (p.watching, p.wakeup(), p.snapshot("b")) == (1, T0 + 6, None)
    [request] = sent(p.due(T0 + 6))
    actions = p.answered(request, sim("a", "PROCESSING_SIMULATION"), T0 + 7, wall=T0 + 7)
    assert shown(actions) == [("Publish", ("h1", "h2"), "PROCESSING_SIMULATION", 2)]


def test_wakeup_is_the_earliest_due_time_of_what_is_not_in_flight() -> None:
    p = poller()
    assert p.wakeup() is None
    watch(p, "ha", "a", T0)
    [request] = sent(p.due(T0))
    assert p.wakeup() is None
    watch(p, "hb", "b", T0 + 3)
    assert p.wakeup() == T0 + 3
    p.answered(request, sim("a", "PENDING"), T0 + 4, wall=T0 + 4)  # a's next poll: T0 + 9
    assert p.wakeup() == T0 + 3
    assert calls(p.due(T0 + 3)) == [(Call.LIST, ("b", "a"))]  # a idle, joins b's sweep
    assert p.wakeup() is None
    watch(p, "hc", "a", T0 + 4, deadline=T0 + 5)
    assert p.wakeup() == T0 + 5  # a deadline counts too
