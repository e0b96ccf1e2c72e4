"""Benchmark: the docs' polling loops beside the twyn-widgets engine, on the local emulator.

Run ``python benchmarks/run.py`` (add ``--quick`` for 1 and 20 simulations only). The emulator
runs in its own process, time-scaled; every figure is measured in the same run:

- requests and TCP connections, from the emulator's own counters;
- completion-detection delay: from the server's COMPLETED_ANALYSIS timestamp to the moment
  the caller knows, in API seconds (real seconds times the speed);
- threads at peak and CPU seconds of this (client) process;
- requests per API hour against the documented budget of 1000.

First it prints, for one simulation, the requests-versus-delay trade-off of each schedule beside
the docs' two loops, computed through the polling state machine on a fake clock over many
lifecycles drawn from the documented phase durations, with the floor next to it: the fewest
requests that can reach a given mean delay.

The docs' loops run as published (``requests.get`` per poll, one thread per simulation,
sleeping 5 s or the 2-5-10-15-30 s backoff), with their sleeps scaled by the same speed. Their
key gets an unlimited budget so they are measured, not throttled; the engine's key gets the
documented 1000 requests an hour (scaled), which it must stay under.

Last, it measures the widgets' browser traffic in real kernels (``traffic.py``, about 3
minutes): ``--traffic-only`` runs just that part, ``--no-traffic`` skips it. A part that is not
run keeps its section of the output file as it was.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests
import traffic

import twyn_widgets as tw
from twyn_widgets.models import Simulation
from twyn_widgets.polling import Backoff, Fixed, PhaseAware, Schedule
from twyn_widgets.polling._engine import get_engine
from twyn_widgets.polling._poller import Fetch, PollState

ROOT = Path(__file__).resolve().parent.parent
ENGINE = "twyn-widgets engine"


@dataclass
class Server:
    """The emulator in a child process, reached over loopback HTTP."""

    proc: subprocess.Popen[str]
    base_url: str
    api_key: str
    speed: float
    control_token: str

    @property
    def root(self) -> str:
        return self.base_url.rsplit("/v1", 1)[0]

    def control(self, method: str, path: str, **body: Any) -> Any:
        resp = requests.request(
            method,
            f"{self.root}/_emulator{path}",
            # The control API takes JSON only and needs the instance's token (the CLI prints it).
            json=body if method in ("POST", "PUT", "PATCH") else None,
            headers={"X-Emulator-Token": self.control_token},
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def new_key(self, limit: int, window: float) -> str:
        key: str = self.control("POST", "/tenants", name="bench")["api_key"]
        self.control("POST", "/rate-limit", api_key=key, limit=limit, window=window)
        return key

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def start_server(speed: float) -> Server:
    proc = subprocess.Popen(
        [sys.executable, "-m", "twyn_widgets.emulator", "--port", "0", "--speed", str(speed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    text = ""
    token_line = re.compile(r"X-Emulator-Token: (\S+)")
    while not (re.search(r"http://\S+/v1", text) and token_line.search(text)):
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("emulator did not start")
        text += line
    url = re.search(r"http://\S+/v1", text)
    key = re.search(r"twyn_test_[0-9a-f]{64}", text)
    token = token_line.search(text)
    assert url is not None
    assert key is not None
    assert token is not None
    return Server(proc, url.group(0), key.group(0), speed, token.group(1))


# -- the docs' loops, as published (sleeps scaled) ------------------------------------------------


def docs_basic_loop(base: str, sid: str, key: str, scale: float) -> float:
    """POLL 'Basic Polling': GET every 5 s until COMPLETED_ANALYSIS or FAILED, 600 s timeout."""
    start_time = time.time()
    url = f"{base}/simulations/{sid}"
    headers = {"X-API-Key": key}
    while time.time() - start_time < 600 * scale:
        response = requests.get(url, headers=headers, timeout=30)
        data = response.json()
        if data["status"] in ("COMPLETED_ANALYSIS", "FAILED"):
            return time.time()
        time.sleep(5 * scale)
    raise TimeoutError("Simulation timeout")


def docs_backoff_loop(base: str, sid: str, key: str, scale: float) -> float:
    """POLL 'Exponential Backoff': sleep 2, 5, 10, 15, 30, 30... s; 600 s max wait."""
    intervals = [2, 5, 10, 15, 30]
    start = time.time()
    index = 0
    url = f"{base}/simulations/{sid}"
    headers = {"X-API-Key": key}
    while time.time() - start < 600 * scale:
        response = requests.get(url, headers=headers, timeout=30)
        data = response.json()
        if data["status"] in ("COMPLETED_ANALYSIS", "FAILED"):
            return time.time()
        time.sleep(intervals[min(index, len(intervals) - 1)] * scale)
        index += 1
    raise TimeoutError("Simulation timeout")


# -- the trade-off on paper: the state machine on a fake clock ----------------------------------

EPOCH = 1_700_000_000.0
ANALYST_WINDOW = 120.0 - 60.0  # the documented Analyst phase: 60 to 120 s
MEAN_WINDOW = ANALYST_WINDOW / 2  # how long past its 60 s minimum it lasts, on average
OTHER_CHANGES = 5  # PROCESSING_CONFIG, COMPLETED_CONFIG, ..., PROCESSING_ANALYSIS


def draw_lifecycle(rng: random.Random) -> list[tuple[str, float]]:
    """Statuses and when each began (API seconds), phases drawn from the documented ranges."""
    t, out = 0.0, [("PENDING", 0.0)]
    for phase, low, high in (("CONFIG", 60, 120), ("SIMULATION", 120, 240), ("ANALYSIS", 60, 120)):
        t += 1.0
        out.append((f"PROCESSING_{phase}", t))
        t += rng.uniform(low, high)
        out.append((f"COMPLETED_{phase}", t))
    return out


def seen_at(states: list[tuple[str, float]], t: float) -> Simulation:
    past = [(name, at) for name, at in states if at <= t]
    lifecycle = [
        {"name": name, "at": datetime.fromtimestamp(EPOCH + at, timezone.utc).isoformat()}
        for name, at in past
    ]
    return Simulation.from_json(
        {"id": "s", "status": past[-1][0], "lifecycle": {"states": lifecycle}, "error_log": None}
    )


def on_paper(schedule: Schedule, runs: int = 2000, seed: int = 1) -> tuple[float, float]:
    """Mean requests (polls and the results fetch) and mean detection delay of one simulation."""
    rng = random.Random(seed)
    requests_, delays = [], []
    for _ in range(runs):
        states = draw_lifecycle(rng)
        machine = PollState("s", schedule)
        decision, count = machine.start(EPOCH), 0
        while decision.fetch is not Fetch.RESULTS:
            assert decision.at is not None
            count += 1
            now = decision.at
            decision = machine.on_simulation(seen_at(states, now - EPOCH), now)
        requests_.append(count + 1)
        delays.append(now - EPOCH - states[-1][1])
    return statistics.fmean(requests_), statistics.fmean(delays)


def floor(delay: float, window: float = MEAN_WINDOW) -> float:
    """The fewest requests for a mean delay: the Analyst's window polled every 2 x delay, one
    poll per other status change, and the results fetch."""
    return window / (2 * delay) + OTHER_CHANGES + 1


TRADEOFF = [
    ("docs 5 s loop", Fixed(5)),
    ("docs backoff loop", Backoff()),
    ("default PhaseAware()", PhaseAware()),
    ("PhaseAware(final_interval=2)", PhaseAware(final_interval=2)),
    ("PhaseAware(final_interval=5)", PhaseAware(final_interval=5)),
    ("PhaseAware(interval=30, final_interval=4)", PhaseAware(interval=30, final_interval=4)),
    ("previous default (10 s / 3 s / 30 s)", PhaseAware(interval=10, final_interval=3,
                                                          max_interval=30)),
]  # fmt: skip


def tradeoff_table() -> str:
    rows = [(name, *on_paper(schedule)) for name, schedule in TRADEOFF]
    docs = rows[0][1]
    head = (
        "| schedule | requests | x docs 5 s loop | mean delay (API s) | floor at that delay "
        "| floor x docs | floor, whole 60 s window, x docs |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = [
        f"| {name} | {req:.1f} | {req / docs:.2f} | {delay:.2f} | {floor(delay):.1f} | "
        f"{floor(delay) / docs:.2f} | {floor(delay, ANALYST_WINDOW) / docs:.2f} |"
        for name, req, delay in rows
    ]
    return head + "\n".join(lines) + "\n"


# -- measuring ------------------------------------------------------------------------------------


@dataclass
class Row:
    method: str
    sims: int
    speed: float
    requests: int
    connections: int
    mean_delay: float
    worst_delay: float
    threads: int
    cpu: float
    per_hour: float
    polls_per_hour: float
    wall: float


class PeakThreads:
    """Samples ``threading.active_count()`` every 10 ms."""

    def __init__(self) -> None:
        self.peak = threading.active_count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, threading.active_count())

    def __enter__(self) -> PeakThreads:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def completed_at(client: tw.TwynClient, sid: str) -> float:
    sim = client.get_simulation(sid)
    at = sim.entered(tw.Status.COMPLETED_ANALYSIS)
    assert at is not None, f"{sid} is {sim.status}"
    return at.timestamp()


Work = list[tuple[tw.TwynClient, list[str]]]


def measure(
    server: Server,
    method: str,
    n: int,
    run: Callable[[Work], dict[str, float]],
    *,
    limit: int,
    window: float,
    trials: int = 1,
) -> Row:
    """Run ``trials`` independent users (a key each) watching ``n`` simulations each, at once.

    Counts are per user; delays are pooled over every simulation.
    """
    work: Work = []
    for t in range(trials):
        key = server.new_key(limit, window)
        client = tw.TwynClient(key, server.base_url, time_scale=1 / server.speed)
        sims = [client.create_simulation(f"benchmark {method} {t}.{i}").id for i in range(n)]
        work.append((client, sims))
    server.control("POST", "/counters/reset")
    baseline_threads = threading.active_count()
    cpu0, wall0 = time.process_time(), time.monotonic()
    with PeakThreads() as peak:
        detected = run(work)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    counters = server.control("GET", "/counters")
    results = counters["requests"].get("GET /v1/simulations/{id}/results", 0)
    threads = peak.peak - baseline_threads
    if method == ENGINE:  # its threads outlive one run: count them, not the growth
        threads = get_engine().threads
    delays = [
        (detected[s] - completed_at(client, s)) * server.speed
        for client, sims in work
        for s in sims
    ]
    requests_per_user = counters["requests_total"] / trials
    for client, _ in work:
        client.close()
    return Row(
        method=method,
        sims=n,
        speed=server.speed,
        requests=round(requests_per_user),
        connections=round(counters["connections_total"] / trials),
        mean_delay=statistics.fmean(delays),
        worst_delay=max(delays),
        threads=round(threads / trials) if method != ENGINE else threads,
        cpu=cpu / trials,
        per_hour=requests_per_user / (wall * server.speed / 3600),
        polls_per_hour=(counters["requests_total"] - results)
        / trials
        / (wall * server.speed / 3600),
        wall=wall,
    )


def run_docs(loop: Callable[[str, str, str, float], float]) -> Callable[[Work], dict[str, float]]:
    def run(work: Work) -> dict[str, float]:
        out: dict[str, float] = {}

        def one(client: tw.TwynClient, sid: str) -> None:
            key = client._transport._key  # the benchmark's own throwaway key
            out[sid] = loop(client.base_url, sid, key, client.time_scale)

        threads = [threading.Thread(target=one, args=(c, s)) for c, sims in work for s in sims]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    return run


def run_engine(work: Work) -> dict[str, float]:
    out: dict[str, float] = {}
    watches = []
    for client, sims in work:
        for sid in sims:
            watch = client.watch(sid)
            watch.add_done_callback(lambda _f, sid=sid: out.__setitem__(sid, time.time()))
            watches.append(watch)
    for watch in watches:
        watch.result()
    limited = [w for w in watches if w.snapshot.retries]  # a 429 counts as a retry
    if limited:
        raise RuntimeError(f"{len(limited)} watches saw a 429 or a fault: the budget was exceeded")
    while len(out) < len(watches):  # callbacks run right after the result is set
        time.sleep(0.001)
    return out


def table(rows: list[Row]) -> str:
    head = (
        "| simulations | method | requests | TCP connections | mean delay (API s) | worst delay "
        "(API s) | threads | CPU s | requests per API hour | of which polls (budget 1000) |\n"
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = [
        f"| {r.sims} | {r.method} | {r.requests} | {r.connections} | {r.mean_delay:.1f} | "
        f"{r.worst_delay:.1f} | {r.threads} | {r.cpu:.2f} | {r.per_hour:,.0f} | "
        f"{r.polls_per_hour:,.0f} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


TITLE = "# Benchmarks: polling, and the widgets' browser traffic\n"


def machine() -> str:
    return f"{platform.system()} ({os.cpu_count()} cores), Python {platform.python_version()}"


def polling_section(quick: bool) -> str:
    """Measure the polling figures; return their part of the output file."""
    # (simulations per user, users at once, speed): one simulation is measured over 20 users
    # at once, each with its own key, so its delays are an average, not one draw.
    plan = [(1, 20, 60.0), (20, 1, 60.0)] + ([] if quick else [(200, 1, 10.0)])
    paper = tradeoff_table()
    print(paper, flush=True)
    rows: list[Row] = []
    for n, trials, speed in plan:
        server = start_server(speed)
        try:
            free = {"limit": 10**9, "window": 3600 / speed, "trials": trials}
            budget = {"limit": 1000, "window": 3600 / speed, "trials": trials}
            rows.append(measure(server, "docs 5 s loop", n, run_docs(docs_basic_loop), **free))
            rows.append(
                measure(server, "docs backoff loop", n, run_docs(docs_backoff_loop), **free)
            )
            rows.append(measure(server, ENGINE, n, run_engine, **budget))
        finally:
            server.stop()
        print(table([r for r in rows if r.sims == n]), flush=True)
    engine = get_engine()
    return (
        "## Polling: the docs' loops beside the twyn-widgets engine\n\n"
        f"Measured {stamp()} by `python benchmarks/run.py` on {machine()}. Figures are per user "
        "(one key); the 1-simulation rows average 20 users at once. The emulator runs in "
        "its own process, time-scaled (60x for 1 and 20 simulations, 10x for 200, to keep the "
        "docs' loops from saturating it); delays are in API seconds (real seconds times the "
        "speed). Requests include the engine's one results fetch per simulation, which the "
        "docs' loops do not make; 'of which polls' leaves those out. The engine's key had the "
        "documented budget of 1000 requests an hour (scaled) and never got a 429; the docs' "
        "loops had none, so their rate shows what they would need.\n\n"
        + table(rows)
        + f"\nEngine threads at the end: {engine.threads} (1 scheduler + up to 4 workers).\n"
        + "\n### Requests versus delay, on paper\n\n"
        "One simulation, 2000 lifecycles drawn from the documented phase durations, each "
        "schedule run through the polling state machine on a fake clock (no HTTP latency, "
        "which adds a few tenths of a second to the measured delays above). Requests count "
        "the polls and the results fetch. The floor is the fewest requests that can reach "
        "that mean delay: the Analyst's window (on average 30 s past its 60 s minimum) polled "
        "every twice the delay, one poll per other status change (5) and the results fetch; "
        "the last column counts the whole 60 s window (the coarser estimate of the floor).\n\n"
        + paper
    )


def traffic_section(command: str) -> str:
    """Measure the browser traffic; return its part of the output file."""
    rows = traffic.measure_all()
    print(traffic.table(rows), flush=True)
    return traffic.section(rows, f"{stamp()} by `{command}` on {machine()}")


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def splice(old: str, polling: str | None, browser: str | None) -> str:
    """The output file: the parts measured now, and the old text of the parts not run."""
    head, heading, tail = old.partition(traffic.HEADING)
    if polling is None:
        # The old polling part, under the current title.
        polling = head.split("\n", 1)[1].lstrip("\n") if head.startswith("# ") else head
    if browser is None:
        browser = heading + tail
    return TITLE + "\n" + "\n".join(part.rstrip("\n") + "\n" for part in (polling, browser) if part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 20 simulations only")
    parts = parser.add_mutually_exclusive_group()
    parts.add_argument(
        "--traffic-only", action="store_true", help="only the browser traffic (about 3 minutes)"
    )
    parts.add_argument("--no-traffic", action="store_true", help="skip the browser traffic")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    polling = None if args.traffic_only else polling_section(args.quick)
    command = "python benchmarks/run.py" + (" --traffic-only" if args.traffic_only else "")
    browser = None if args.no_traffic else traffic_section(command)
    old = args.out.read_text() if args.out.exists() else ""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(splice(old, polling, browser))
    out = args.out.resolve()
    print(f"written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
