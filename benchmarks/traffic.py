"""Browser traffic: what a real ipykernel sends on iopub while live widgets watch simulations.

Each scenario starts its own python3 ipykernel through jupyter_client. In the kernel, an
emulator runs in the background (as ``tw.connect()`` starts one when no ``TWYN_API_KEY`` is
set), slowed to 1x or 2x so the simulations run for minutes; the kernel creates the
simulations and displays a ``SimulationBoard`` or a ``SimulationWatcher``. Once every
simulation is running and the widget has seen it, every iopub message is recorded for a
window, and the window is checked afterwards against the simulations' lifecycle timestamps.

Only what the kernel sends is measured, never a widget's private fields, so the same code
measures any implementation of the widgets. Nothing is executed in the kernel during a
window, so every message in it is the widgets' own traffic (their updates come from a
background thread and carry the parent header of the cell that started it, so messages are
picked by their send time, whatever their parent). Bytes are the JSON length of each
message's content plus the length of its binary buffers; the wire adds a header and framing
to each message, which the message rate shows.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twyn_widgets import Phase, Status

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Why: the kernel harness lives with the kernel tests, and the benchmark runs as a script
    # from benchmarks/; one copy of the harness serves both.
    sys.path.insert(0, str(ROOT))

from tests.kernel.harness import Kernel, errors_of, kernel, sent_at, stdout_of  # noqa: E402

WINDOW = 60.0
"""Seconds a board is recorded for: the target's "over a minute"."""

RATE_LIMIT = 10**6
"""Requests per (scaled) hour for the emulator's key: the engine polls on its own schedule,
never slowed by the budget, so the widgets learn of every change as early as they can (the
most traffic they could send)."""

SETTLE = 4.0
"""API seconds from a simulation entering a phase to its widget having seen it: the engine
polls again 2 API s after PENDING (its transition interval); twice that for slack."""

GUARD = 1.0
"""API seconds kept clear before the earliest possible end of the watcher's phase."""

BEFORE = "the widgets built from stock ipywidgets parts (measured 2026-12-05)"
"""Whose figures the table's last column gives."""

MARK = "TRAFFIC-LIFECYCLES "

Lifecycles = dict[str, list[tuple[str, float]]]
"""Simulation id -> (status, when it was entered, epoch seconds) in order."""


@dataclass(frozen=True)
class Scenario:
    """One measured case: what the kernel shows, how fast the emulator runs, the target."""

    name: str
    simulations: int
    speed: float
    show: str  # the cell that displays the widget (``sims`` and ``tw`` are defined)
    target: str
    meets: Callable[[Traffic], bool] | None
    before: str  # this benchmark's figure for the widgets built from stock ipywidgets parts


@dataclass
class Traffic:
    """What the kernel sent during one scenario's window."""

    scenario: Scenario
    start: float  # epoch seconds
    end: float
    messages: int
    bytes: int
    largest: int
    changes: int  # status changes of the simulations during the window (from lifecycles)
    types: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0  # real seconds the whole scenario took, kernel start to shutdown

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    @property
    def kb_per_second(self) -> float:
        return self.bytes / 1000 / self.seconds


def board(n: int, speed: float, target: str, meets: Callable[[Traffic], bool] | None,
          before: str) -> Scenario:  # fmt: skip
    show = "board = tw.SimulationBoard(sims)\ndisplay(board)\n"
    return Scenario(f"board of {n} running", n, speed, show, target, meets, before)


SCENARIOS = [
    board(200, 2.0, "<= 5 KB/s", lambda t: t.kb_per_second <= 5.0, "0.98 msg/s, 335.5 KB/s"),
    board(20, 2.0, "", None, "1.00 msg/s, 34.9 KB/s"),
    Scenario(
        "one watcher, between status changes",
        1,
        # Why 1x: the window lies in the Architect phase, which the widget sees begin within
        # 2 s and which lasts at least 60 API s; the engine polls again only at that minimum,
        # so neither the server nor the widget changes status inside it. (A later phase is
        # seen up to a minute late, so server timestamps alone could not place a clean
        # window there.)
        1.0,
        "watcher = tw.SimulationWatcher(sims[0])\ndisplay(watcher)\n",
        "<= 0.2 msg/s",
        lambda t: t.per_second <= 0.2,
        "2.00 msg/s, 1.4 KB/s",
    ),
]


def setup_code(n: int, speed: float) -> str:
    """The first cell: an emulator in this kernel and ``n`` simulations created on it."""
    return (
        "import json\n"
        "import twyn_widgets as tw\n"
        "from IPython.display import display\n"
        "from twyn_widgets import emulator\n"
        f"emu = emulator.start(speed={speed}, rate_limit={RATE_LIMIT})\n"
        "client = emu.client()\n"
        f"sims = [client.create_simulation(f'traffic benchmark {{i}}: a price rise of 5%')"
        f" for i in range({n})]\n"
    )


LIFECYCLES_CODE = (
    "ids = {s.id for s in sims}\n"
    f"print({MARK!r} + json.dumps({{s.id: [[str(e.status), e.at.timestamp()] "
    "for e in s.lifecycle] for s in client.iter_simulations() if s.id in ids}))\n"
)


def _checked(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors = errors_of(messages)
    if errors:
        raise RuntimeError("the kernel raised:\n" + "\n".join(errors))
    return messages


def lifecycles(k: Kernel) -> Lifecycles:
    """Every simulation's lifecycle, read in the kernel (its key never leaves it)."""
    out = stdout_of(_checked(k.execute(LIFECYCLES_CODE, timeout=60)))
    line = next(x for x in out.splitlines() if x.startswith(MARK))
    data: dict[str, list[list[Any]]] = json.loads(line[len(MARK) :])
    return {sid: [(str(s), float(at)) for s, at in states] for sid, states in data.items()}


def entered(states: list[tuple[str, float]], status: Status) -> float | None:
    """When ``status`` was last entered, or ``None``."""
    times = [at for name, at in states if name == status.value]
    return times[-1] if times else None


def changes_within(seen: Lifecycles, start: float, end: float) -> int:
    """Status changes (lifecycle entries) in ``[start, end)``."""
    return sum(start <= at < end for states in seen.values() for _, at in states)


def size(msg: dict[str, Any]) -> int:
    """The JSON length of the content (as the kernel serialises it) plus its buffers."""
    content = json.dumps(msg["content"], ensure_ascii=False, default=str).encode()
    return len(content) + sum(memoryview(b).nbytes for b in msg.get("buffers") or ())


def wait_until_running(k: Kernel, timeout: float) -> Lifecycles:
    """Poll the lifecycles until every simulation has entered the Architect phase."""
    deadline = time.monotonic() + timeout
    while True:
        seen = lifecycles(k)
        if all(entered(s, Status.PROCESSING_CONFIG) is not None for s in seen.values()):
            return seen
        if time.monotonic() > deadline:
            raise TimeoutError("the simulations did not start")
        time.sleep(0.5)


def plan_window(scenario: Scenario, seen: Lifecycles) -> tuple[float, float]:
    """The recording window (epoch seconds), from the lifecycle timestamps.

    A board: from the moment the last row has been running long enough for the widget to
    see it, for :data:`WINDOW` seconds. One watcher: from then until just before the Architect
    phase's documented minimum ends, the earliest the next status change can come.
    """
    scale = 1.0 / scenario.speed
    began = [entered(s, Status.PROCESSING_CONFIG) or 0.0 for s in seen.values()]
    # Nothing may be executed in the window: start it after the last cell has gone idle.
    start = max(max(began) + SETTLE * scale, time.time() + 0.5)
    if scenario.simulations > 1:
        return start, start + WINDOW
    end = min(began) + (Phase.ARCHITECT.min_seconds - GUARD) * scale
    if end - start < 30:
        raise RuntimeError(f"the watcher's window is only {end - start:.0f} s long")
    return start, end


def check_window(scenario: Scenario, seen: Lifecycles, start: float, end: float) -> int:
    """Raise unless every simulation ran through the window; return its status changes.

    For one watcher the window must hold no status change at all.
    """
    for sid, states in seen.items():
        began = entered(states, Status.PROCESSING_CONFIG)
        if began is None or began > start - SETTLE / scenario.speed:
            raise RuntimeError(f"{sid} was not running (and seen) when the window opened")
        ended = [at for name, at in states if Status(name).is_terminal]
        if ended and ended[0] < end:
            raise RuntimeError(f"{sid} ended inside the window: slow the emulator down")
    changes = changes_within(seen, start, end)
    if scenario.simulations == 1 and changes:
        raise RuntimeError(f"the watcher's window holds {changes} status changes")
    return changes


def measure(scenario: Scenario) -> Traffic:
    """Run one scenario in a fresh kernel; return what it sent during its window."""
    began = time.monotonic()
    with kernel({"TWYN_API_KEY": ""}) as k:  # no key: the emulator, as on a first run
        _checked(k.execute(setup_code(scenario.simulations, scenario.speed), timeout=120))
        _checked(k.execute(scenario.show, timeout=60))
        seen = wait_until_running(k, timeout=30)
        start, end = plan_window(scenario, seen)
        k.drain(end - time.time() + 1.0)  # one more second for the last messages in flight
        changes = check_window(scenario, lifecycles(k), start, end)
    window = [m for m in k.messages if start <= sent_at(m) < end]
    sizes = [size(m) for m in window]
    return Traffic(
        scenario=scenario,
        start=start,
        end=end,
        messages=len(window),
        bytes=sum(sizes),
        largest=max(sizes, default=0),
        changes=changes,
        types=Counter(m["msg_type"] for m in window),
        wall=time.monotonic() - began,
    )


def measure_all(scenarios: list[Scenario] | None = None) -> list[Traffic]:
    """Every scenario, one kernel after another, printing each as it is measured."""
    rows = []
    for scenario in scenarios or SCENARIOS:
        rows.append(measure(scenario))
        print(f"{scenario.name}: {describe(rows[-1])}", flush=True)
    return rows


def describe(t: Traffic) -> str:
    types = ", ".join(f"{n} {name}" for name, n in t.types.most_common())
    return (
        f"{t.messages} messages, {t.bytes:,} bytes in {t.seconds:.1f} s "
        f"({types or 'none'}); largest {t.largest:,} bytes; scenario took {t.wall:.0f} s"
    )


def verdict(t: Traffic) -> str:
    if t.scenario.meets is None:
        return ""
    return "met" if t.scenario.meets(t) else "NOT met"


def table(rows: list[Traffic]) -> str:
    """Markdown: one row per scenario, the target and the stock widgets' figure beside it."""
    head = (
        "| scenario | emulator speed | window (s) | status changes in window | messages/s "
        "| KB/s | largest message (KB) | target | target met | stock ipywidgets (before) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---|---|---|\n"
    )
    lines = [
        f"| {t.scenario.name} | {t.scenario.speed:g}x | {t.seconds:.0f} | {t.changes} | "
        f"{t.per_second:.2f} | {t.kb_per_second:.1f} | {t.largest / 1000:.1f} | "
        f"{t.scenario.target or '-'} | {verdict(t) or '-'} | {t.scenario.before} |"
        for t in rows
    ]
    return head + "\n".join(lines) + "\n"


HEADING = "## Browser traffic"


def section(rows: list[Traffic], measured: str) -> str:
    """The browser-traffic part of ``docs/benchmarks.md``."""
    details = "\n".join(f"- {t.scenario.name}: {describe(t)}." for t in rows)
    return (
        f"{HEADING}\n\n"
        f"Measured {measured}. What a real ipykernel sends on iopub while the live widgets "
        "watch running simulations: each scenario starts its own kernel (through "
        "jupyter_client), in which an emulator runs in the background with no API key, "
        "slowed so the simulations run for minutes (2x: a run lasts 2-4 minutes; 1x for the "
        "watcher), and its key's budget raised so polling is never slowed by it (the widgets "
        "then learn of every change as early as they can). The kernel creates the simulations "
        "and displays the widget; once every simulation has been running for 4 API seconds "
        "(the engine has polled it since), every iopub message is recorded, whatever its "
        "parent, and nothing is executed in the kernel until the window closes. A board is "
        f"recorded for {WINDOW:.0f} s: the minute in which every row leaves the Architect "
        "phase (two status changes a row), the busiest minute of a run. The watcher is "
        "recorded inside the Architect phase, from 4 s after it began to 1 s before its "
        "documented 60 s minimum: the widget sees that phase begin within 2 s and the "
        "engine polls again only at that minimum, so neither the server nor the widget "
        "changes status in the window. Both windows are checked afterwards against the "
        "simulations' lifecycle timestamps. Bytes are the JSON length of each message's "
        "content plus its binary buffers (KB = 1000 bytes); on the wire each message also "
        "carries its headers, which the message rate shows. The last column is this "
        f"benchmark's figure for {BEFORE}, which re-rendered their whole view in the kernel "
        "and sent it every second (measured earlier by hand: 311 KB/s for 200 rows, 33 KB/s "
        "for 20, 2 messages a second for one watcher).\n\n" + table(rows) + "\n" + details + "\n"
    )
