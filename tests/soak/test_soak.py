"""Soak: 1000 simulations watched at once in one process, through an outage.

Every result must be right, the threads bounded, the rate budget never exceeded (no 429), and
the recovery after the outage jittered, not a storm. Memory per watch is measured and printed.
"""

from __future__ import annotations

import gc
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

import twyn_widgets as tw
from tests.conftest import real
from tests.proxy import Proxy
from twyn_widgets.polling import WatchSnapshot, WatchState
from twyn_widgets.polling._engine import POOL_SIZE, get_engine

pytestmark = pytest.mark.slow

POLLING_THREADS = ("twyn-scheduler", "twyn-poll")
SPEED = 60.0  # runs last 4-8 s: all 1000 overlap, and the outage lands mid-run
CLIENTS = 10
PER_CLIENT = 100


@pytest.fixture(scope="module")
def soak_emu() -> Iterator[Any]:
    from twyn_widgets import emulator

    with emulator.start(speed=SPEED, seed=5) as server:
        yield server


def test_thousand_simulations_through_an_outage(
    soak_emu: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy = Proxy(int(soak_emu.base_url.rsplit(":", 1)[1].split("/")[0]))
    base = f"http://127.0.0.1:{proxy.port}/v1"
    clients = []
    for i in range(CLIENTS):
        _, key = soak_emu.new_tenant(f"soak-{i}")
        soak_emu.set_rate_limit(key, 5000, window=3600 / SPEED)  # 5000 per API hour
        clients.append(tw.TwynClient(key, base, time_scale=1 / SPEED))
    sims = {
        c: [c.create_simulation(f"soak {i} {j}") for j in range(PER_CLIENT)]
        for i, c in enumerate(clients)
    }
    engine = get_engine()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    watches = [(s, c.watch(s, timeout=60_000)) for c in clients for s in sims[c]]
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    per_watch = sum(d.size_diff for d in after.compare_to(before, "filename")) / len(watches)
    limited: list[WatchSnapshot] = []
    for _, w in watches:
        w.subscribe(lambda s: limited.append(s) if s.state is WatchState.RATE_LIMITED else None)

    peak = [0]
    sampling = threading.Event()

    def sample() -> None:
        # Counted from outside the engine, while the watches run. Only the polling threads:
        # this process also runs the emulator and the proxy, a thread per connection.
        while not sampling.wait(0.005):
            ours = [t for t in threading.enumerate() if t.name.startswith(POLLING_THREADS)]
            peak[0] = max(peak[0], len(ours))

    sampler = threading.Thread(target=sample, name="soak-sampler", daemon=True)
    sampler.start()
    # Outage mid-run: refuse and cut every connection for 1.5 s (90 API s), then come back.
    time.sleep(1.5)
    proxy.down()
    time.sleep(1.5)
    start = soak_emu.counters()["requests_total"]
    proxy.up()
    time.sleep(0.25)
    burst = soak_emu.counters()["requests_total"] - start
    time.sleep(1.0)
    sampling.set()
    sampler.join()
    peak_threads = peak[0]
    retried = sum(1 for _, w in watches if w.snapshot.retries)

    with capsys.disabled():
        print(
            f"\nsoak: {len(watches)} watches, {per_watch:,.0f} bytes per watch, "
            f"{retried} retried through the outage, {burst} requests in the first 0.25 s "
            f"after recovery, {peak_threads} polling threads at most"
        )
    for sim, watch in watches:
        result = watch.result(real(120, 1 / SPEED))
        assert result.id == sim.id
        assert result.analysis.executive_summary
    assert peak_threads <= 1 + POOL_SIZE
    assert not limited, "the rate budget was exceeded"
    assert retried > 0, "the outage did not hit the watches"
    # Jittered recovery: 1000 watches back at once must not send a storm (one request each);
    # each client's batch comes back as one sweep, spread by the jittered backoff.
    assert burst <= 0.1 * len(watches)
    assert per_watch < 20_000
    assert engine.active == 0
    quiet = soak_emu.counters()["requests_total"]
    time.sleep(2 * 60 / SPEED)  # two of the longest poll intervals
    assert soak_emu.counters()["requests_total"] == quiet, "something still polls"
    proxy.down()
