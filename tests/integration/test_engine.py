"""The polling engine against the emulator: results, failures, faults, budget, threads."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

import twyn_widgets as tw
from tests.conftest import SPEED, real
from tests.integration.probes import quiet_for, requests_total
from twyn_widgets.client import TwynClient
from twyn_widgets.polling import Fixed, WatchSnapshot, WatchState
from twyn_widgets.polling._engine import POOL_SIZE, get_engine


def record(watch: tw.Watch) -> list[WatchSnapshot]:
    seen: list[WatchSnapshot] = []
    watch.subscribe(seen.append)
    return seen


def test_watch_gives_the_result_and_snapshots_walk_the_phases(client: TwynClient) -> None:
    sim = client.create_simulation("engine: happy path")
    watch = client.watch(sim)
    seen = record(watch)
    result = watch.result(timeout=real(20))
    assert result.id == sim.id
    assert result.analysis.executive_summary
    assert result.simulation is not None
    assert result.simulation.status is tw.Status.COMPLETED_ANALYSIS
    assert seen[-1].state is WatchState.SUCCEEDED
    assert seen[-1].result is result
    phases = [s.phase for s in seen if s.phase is not None]
    assert phases[0] is tw.Phase.ARCHITECT
    assert phases[-1] is tw.Phase.ANALYST
    assert watch.snapshot.polls >= 2


def test_failed_simulation_raises_simulation_failed_with_phase_and_log(client: TwynClient) -> None:
    sim = client.create_simulation("engine: fails [fail:analyst]")
    watch = client.watch(sim.id)
    with pytest.raises(tw.SimulationFailed) as exc:
        watch.result(timeout=real(20))
    assert exc.value.phase == "Analyst"
    assert exc.value.error_log
    assert watch.snapshot.state is WatchState.FAILED


def test_watching_the_same_simulation_twice_shares_one_poller(client: TwynClient) -> None:
    sim = client.create_simulation("engine: shared")
    first = client.watch(sim)
    second = client.watch(sim.id)
    assert first is not second
    assert get_engine().watching(client) == 1
    assert first.result(real(20)).id == second.result(real(20)).id


def test_stop_cancels_only_that_handle_and_polling_ends(client: TwynClient, emu: Any) -> None:
    sim = client.create_simulation("engine: stopped")
    first = client.watch(sim, schedule=Fixed(5))
    second = client.watch(sim)
    assert first.stop()
    with pytest.raises(concurrent.futures.CancelledError):  # WatchStopped is one too
        first.result(real(1))
    assert isinstance(first.exception(0), tw.WatchStopped)
    assert first.snapshot.state is WatchState.STOPPED
    assert second.stop()
    before = emu.counters()["requests_total"]
    time.sleep(0.1)  # 60 polls' worth of Fixed(5) at 600x
    assert emu.counters()["requests_total"] == before


def test_timeout_ends_the_watch_with_wait_timeout(client: TwynClient) -> None:
    sim = client.create_simulation("engine: timeout")
    watch = client.watch(sim, timeout=10)  # 10 API seconds = 17 ms at 600x
    with pytest.raises(tw.WaitTimeout, match="gave up waiting") as exc:
        watch.result(real(5))
    assert isinstance(exc.value, TimeoutError)
    assert watch.snapshot.state is WatchState.TIMED_OUT


def test_add_done_callback_and_asyncio_gather(client: TwynClient) -> None:
    sims = [client.create_simulation(f"engine: gather {i}") for i in range(3)]
    called = threading.Event()
    watches = [client.watch(s) for s in sims]
    watches[0].add_done_callback(lambda _f: called.set())

    async def main() -> list[tw.SimulationResult]:
        return await asyncio.gather(*watches)

    results = asyncio.run(main())
    assert [r.id for r in results] == [s.id for s in sims]
    assert called.wait(5)


FAULTS = [
    "status_500", "status_502", "status_503", "status_504", "html_error", "drop",
    "reset_mid_body", "malformed_json", "truncated_json", "slow",
]  # fmt: skip


@pytest.mark.parametrize("kind", FAULTS)
def test_transient_faults_are_retried_reported_and_the_watch_still_succeeds(
    emu: Any, kind: str
) -> None:
    client = emu.client(timeout=(1.0, 0.5))
    sim = client.create_simulation(f"engine: fault {kind}")
    emu.inject(kind, count=3, path=f"^/v1/simulations/{sim.id}$", delay=1.0)
    try:
        # Three 0.5 s read timeouts outlast the default 600 API s (1 real s at 600x).
        watch = client.watch(sim, timeout=6000)
        seen = record(watch)
        assert watch.result(real(30)).id == sim.id
    finally:
        emu.clear_faults()
    notices = [s.notice for s in seen if s.state is WatchState.RETRYING]
    assert notices, f"no retry reported for {kind}"
    assert notices[0] is not None
    assert ", retry 1 in 1 s" in notices[0]
    assert watch.snapshot.retries >= 1


@pytest.mark.parametrize("where", ["body", "header"])
def test_after_a_429_the_server_sees_nothing_for_retry_after(where: str) -> None:
    from twyn_widgets import emulator

    with emulator.start(speed=SPEED, seed=5) as server:  # alone: its counters are this test's
        client = server.client()
        sims = [client.create_simulation(f"engine: 429 {i}") for i in range(3)]
        limited = threading.Event()
        at: list[float] = []

        def on(snapshot: WatchSnapshot) -> None:
            if snapshot.state is WatchState.RATE_LIMITED and not at:
                at.append(time.monotonic())
                limited.set()

        # The first status request, whichever it is, answers 429 with a 1 s wait.
        server.inject(f"rate_limited_{where}", count=1, path="^/v1/simulations(/[^/]+)?$", delay=1)
        # Fixed(1) polls every 1.7 ms at this speed: any poll during the pause would show.
        first = client.watch(sims[0], schedule=Fixed(1), timeout=6000)
        first.subscribe(on)
        assert limited.wait(10)
        base = requests_total(server)
        # A watch started during the pause is held too: the wait is the key's, not one watch's.
        later = [client.watch(s, schedule=Fixed(1), timeout=6000) for s in sims[1:]]
        gap = quiet_for(server, at[0], base, timeout=3)
        # retry_after is the server's 1 real second, never scaled by the 600x client.
        assert gap >= 0.95
        assert [w.result(real(20)).id for w in [first, *later]] == [s.id for s in sims]


@pytest.mark.parametrize(
    ("action", "error"),
    [("delete", tw.NotFound), ("revoke", tw.AuthenticationError)],
)
def test_terminal_errors_mid_watch_end_it_at_once(
    emu: Any, action: str, error: type[Exception]
) -> None:
    _, key = emu.new_tenant(f"terminal-{action}")
    client = TwynClient(key, emu.base_url, time_scale=1 / 60)  # slow enough to act mid-run
    sim = client.create_simulation("engine: terminal")
    watch = client.watch(sim)
    time.sleep(0.2)
    if action == "delete":
        emu.delete_simulation(sim.id)
    else:
        key_id = client.list_keys()[0].key_id
        client._call("PATCH", f"/keys/{key_id}", body={"is_active": False})
    with pytest.raises(error):
        watch.result(real(20, scale=1 / 60))
    assert watch.snapshot.state is WatchState.ERROR


def test_unknown_status_is_reported_not_fatal(client: TwynClient, emu: Any) -> None:
    sim = client.create_simulation("engine: unknown status")
    emu.force_status(sim.id, "QUEUED", duration=0.2)
    watch = client.watch(sim)
    seen = record(watch)
    assert watch.result(real(20)).id == sim.id
    assert any(s.notice and "unknown status 'QUEUED'" in s.notice for s in seen)


def test_status_going_backwards_is_reported_not_fatal(client: TwynClient, emu: Any) -> None:
    sim = client.create_simulation("engine: backwards")
    watch = client.watch(sim)
    seen = record(watch)
    deadline = time.monotonic() + 5
    later = ("PROCESSING_SIMULATION", "COMPLETED_SIMULATION", "PROCESSING_ANALYSIS")
    while watch.snapshot.status not in later and time.monotonic() < deadline:
        time.sleep(0.005)
    emu.force_status(sim.id, "PROCESSING_CONFIG", duration=0.2)
    assert watch.result(real(20)).id == sim.id
    assert any(s.notice and "went back" in s.notice for s in seen)


def test_many_watches_on_one_client_are_refreshed_by_list_pages(emu: Any) -> None:
    _, key = emu.new_tenant("batching")
    client = TwynClient(key, emu.base_url, time_scale=1 / 600)
    sims = [client.create_simulation(f"engine: batch {i}") for i in range(30)]
    emu.reset_counters()
    # Why a timeout of an API hour: the docs' default 600 s is one real second at 600x, and 30
    # watches on a busy 2-core machine can take longer than that to finish.
    watches = [client.watch(s, timeout=3600) for s in sims]
    for w in watches:
        assert w.result(real(30))
    by_route = emu.counters()["requests"]
    lists = by_route.get("GET /v1/simulations", 0)
    singles = by_route.get("GET /v1/simulations/{id}", 0)
    assert lists > 0
    # Without batching each simulation needs several single GETs; with it, one GET each
    # (the first, which checks access) plus a few stragglers.
    assert singles <= 2 * len(sims)


def test_a_timeout_while_the_keys_budget_is_spent_says_so_and_until_when(emu: Any) -> None:
    _, key = emu.new_tenant("spent budget")
    emu.set_rate_limit(key, 3, window=60.0)  # 3 requests a real minute
    client = TwynClient(key, emu.base_url, time_scale=1 / SPEED)
    sim = client.create_simulation("engine: spent budget")  # 1
    emu.force_status(sim.id, "PROCESSING_ANALYSIS", duration=30)
    client.get_simulation(sim)  # 2: the watch's first poll takes the last one
    watch = client.watch(sim, timeout=real(1.5))
    with pytest.raises(tw.WaitTimeout) as exc:
        watch.result(real(20))
    emu.clear_faults()
    text = str(exc.value)
    assert "; last seen PROCESSING_ANALYSIS " in text
    assert "; the key's rate budget held polls back " in text
    assert " in all (0 requests left until " in text


LIMIT, WINDOW = 40, 4.0
"""A key's budget for the rate-limit tests: 40 requests per 4 real seconds."""


def unpaced_loop(client: TwynClient, sid: str, out: list[BaseException]) -> None:
    """The docs' basic loop: GET every 5 s (API time) until the end, no pacing."""
    try:
        while not client.get_simulation(sid).status.is_terminal:
            time.sleep(client.scaled(5))
        client.get_results(sid)
    except tw.TwynError as exc:
        out.append(exc)


def test_unpaced_traffic_exceeds_the_limit_the_engine_keeps(emu: Any) -> None:
    def tenant(name: str) -> TwynClient:
        _, key = emu.new_tenant(name)
        emu.set_rate_limit(key, LIMIT, window=WINDOW)
        return TwynClient(key, emu.base_url, time_scale=1 / SPEED)

    # The control: three docs loops at 5 s against the limit get a 429.
    control = tenant("unpaced")
    sims = [control.create_simulation(f"engine: unpaced {i}") for i in range(3)]
    failures: list[BaseException] = []
    loops = [threading.Thread(target=unpaced_loop, args=(control, s.id, failures)) for s in sims]
    for t in loops:
        t.start()
    for t in loops:
        t.join(30)
    assert any(isinstance(f, tw.RateLimited) for f in failures), failures
    # The engine, on the same work at the same 5 s, stays inside the same limit.
    client = tenant("paced")
    sims = [client.create_simulation(f"engine: paced {i}") for i in range(3)]
    watches = [client.watch(s, schedule=Fixed(5), timeout=60_000) for s in sims]
    seen = [record(w) for w in watches]
    assert [w.result(real(30)).id for w in watches] == [s.id for s in sims]
    assert not any(s.state is WatchState.RATE_LIMITED for snaps in seen for s in snaps)


THREADS_PROBE = """
import json, sys, threading, time
from twyn_widgets.client import TwynClient

key, base, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = TwynClient(key, base, time_scale=1 / 600)
before = threading.active_count()
# ids that do not exist: each watch polls, then ends with NotFound
watches = [client.watch(f"missing-{i}", timeout=60_000) for i in range(count)]
peak, busy = before, 0
while not all(w.done() for w in watches):
    running = sum(not w.done() for w in watches)
    threads = len(threading.enumerate())
    if running >= 0.9 * count:  # a sample taken while (nearly) every watch runs
        busy = max(busy, running)
        peak = max(peak, threads)
    time.sleep(0.001)
ended = sum(isinstance(w.exception(), Exception) for w in watches)
print(json.dumps({"before": before, "peak": peak, "busy": busy, "ended": ended}))
"""


def thread_peak(emu: Any, key: str, count: int) -> dict[str, int]:
    """Threads of a fresh interpreter, counted by ``threading.enumerate``, while it watches."""
    out = subprocess.run(
        [sys.executable, "-c", THREADS_PROBE, key, emu.base_url, str(count)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["ended"] == count
    assert data["busy"] >= 0.9 * count, "no sample was taken while the watches ran"
    return data


def test_thousand_watches_use_the_threads_of_one(emu: Any) -> None:
    _, key = emu.new_tenant("threads")
    emu.set_rate_limit(key, 1_000_000)
    # Slow answers keep every watch running for a while: the list sweep, and missing-0's GET.
    emu.inject("slow", fraction=1.0, path="^/v1/simulations/missing-0$", delay=0.5)
    emu.inject("slow", fraction=1.0, path="^/v1/simulations$", delay=0.05)
    try:
        one = thread_peak(emu, key, 1)
        many = thread_peak(emu, key, 1000)
    finally:
        emu.clear_faults()
    assert one["before"] == many["before"]
    # One watch starts the scheduler and a worker; a thousand may fill the pool, no more.
    assert one["peak"] - one["before"] >= 2
    assert many["peak"] - many["before"] <= 1 + POOL_SIZE
    assert many["peak"] <= one["peak"] + POOL_SIZE - 1


def singles_for_three_watches(items: str) -> int:
    """Single GETs the server saw while three watches on one client ran to their end."""
    from twyn_widgets import emulator

    with emulator.start(speed=SPEED, seed=11, list_items=items) as server:
        client = server.client()
        # A neighbour held at an unknown status keeps the client's polls in list sweeps.
        holder = client.create_simulation("engine: held")
        server.force_status(holder.id, "QUEUED", duration=60)
        failing = client.create_simulation("engine: shapes [fail:analyst]")
        fine = [client.create_simulation(f"engine: shapes {i}") for i in range(2)]
        held = client.watch(holder, schedule=Fixed(600), timeout=60_000)
        server.reset_counters()
        watches = [client.watch(s) for s in [failing, *fine]]
        with pytest.raises(tw.SimulationFailed) as exc:
            watches[0].result(real(30))
        assert exc.value.error_log  # the failure's log is never lost, whatever the list serves
        assert exc.value.phase == "Analyst"
        for w in watches[1:]:
            assert w.result(real(30)).analysis.executive_summary
        held.stop()
        by_route = server.counters()["requests"]
        assert by_route.get("GET /v1/simulations", 0) > 0
        return int(by_route.get("GET /v1/simulations/{id}", 0))


def test_summary_list_items_cost_single_gets_only_for_decisions_whole_ones_none() -> None:
    summary = singles_for_three_watches("summary")
    # At least the terminal status of each watch; at most that, one per phase entered and
    # a first poll that found the sweep busy.
    assert 3 <= summary <= 5 * 3
    # Whole items need no follow-up: only a first poll that finds the sweep busy goes alone.
    assert singles_for_three_watches("full") < 3
