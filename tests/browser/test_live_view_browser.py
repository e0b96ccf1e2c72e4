"""The live views tick in the browser, and a reloaded page draws them again from the kernel.

The kernel sends a model only when something changes (a status, a notice, the end); between
two, the page moves the elapsed time, the ETA and the bars by itself. The proof: read the
readouts every 250 ms for 5 s while counting the ``comm_msg`` frames the kernel sends on the
page's own kernel websocket.

Slow emulators here: at 4x a phase lasts 15 s or more, so a 5 s window inside one sees no
status change; at 20x a run lasts 12-24 s, time enough to reload the page mid-run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from twyn_widgets import emulator
from twyn_widgets.emulator import Emulator

from .harness import (
    LIVE_BOARD,
    LIVE_FILL,
    LIVE_WATCHER,
    LabServer,
    LabServerFactory,
    changes,
    emulator_env_for,
    open_notebook,
    percent,
    run_all,
    save_notebook,
    wait_kernel_ready,
)
from .probes import KernelFrames

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

TICK_SPEED = 4.0
RELOAD_SPEED = 20.0
WINDOW_S = 5.0
SAMPLE_MS = 250
#: The most comm messages the kernel may send in the window (the brief's "a couple").
MAX_MESSAGES = 2

ROWS = f"{LIVE_BOARD} tr.twyn-row"
#: How long a view may take to show its model once it is on the page (ms).
DRAWN = 500
MID_RUN = re.compile(r"PROCESSING_(CONFIG|SIMULATION|ANALYSIS)|COMPLETED_(CONFIG|SIMULATION)")


@pytest.fixture(scope="module")
def tick_emulator() -> Iterator[Emulator]:
    with emulator.start(speed=TICK_SPEED) as emu:
        yield emu


@pytest.fixture(scope="module")
def reload_emulator() -> Iterator[Emulator]:
    with emulator.start(speed=RELOAD_SPEED) as emu:
        yield emu


@pytest.fixture
def tick_server(lab_server_factory: LabServerFactory, tick_emulator: Emulator) -> LabServer:
    return lab_server_factory(env=emulator_env_for(tick_emulator))


@pytest.fixture
def reload_server(lab_server_factory: LabServerFactory, reload_emulator: Emulator) -> LabServer:
    return lab_server_factory(env=emulator_env_for(reload_emulator))


_READOUTS_JS = """
([sel, parts]) => Array.from(document.querySelectorAll(sel)).map((view) =>
  Object.fromEntries(Object.entries(parts).map(([name, part]) => {
    const el = view.querySelector(part);
    if (!el) return [name, null];
    return [name, el.classList.contains('twyn-fill') ? el.style.width : el.textContent.trim()];
  })))
"""


def sample(
    page: Page, selector: str, parts: dict[str, str], seconds: float = WINDOW_S
) -> tuple[list[list[dict[str, str | None]]], float, float]:
    """Read ``parts`` of every ``selector`` view every 250 ms for ``seconds``.

    Returns the samples and the window's ``time.monotonic()`` bounds.
    """
    samples = []
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        samples.append(page.evaluate(_READOUTS_JS, [selector, parts]))
        page.wait_for_timeout(SAMPLE_MS)
    return samples, start, time.monotonic()


def series(samples: list[list[dict[str, str | None]]], index: int, part: str) -> list[str | None]:
    return [s[index][part] if index < len(s) else None for s in samples]


def wait_running(page: Page, selector: str, part: str, count: int, prefix: str) -> None:
    """Wait until ``count`` views (or rows) show a ``part`` text starting with ``prefix``."""
    page.wait_for_function(
        """([sel, part, n, prefix]) => {
             const els = Array.from(document.querySelectorAll(sel));
             return els.length === n && els.every((el) => {
               const p = el.querySelector(part);
               return p !== null && p.textContent.trim().startsWith(prefix);
             });
           }""",
        arg=[selector, part, count, prefix],
        timeout=60_000,
        polling=100,
    )


def test_a_watcher_ticks_in_the_browser_while_the_kernel_stays_quiet(
    page: Page, tick_server: LabServer
) -> None:
    frames = KernelFrames(page)
    open_notebook(page, tick_server, "watcher_live.ipynb")
    run_all(page)
    # Inside the Architect phase (15-30 s at 4x): no status change in the next 5 s.
    wait_running(page, LIVE_WATCHER, ".twyn-status code", 1, "PROCESSING_CONFIG")
    samples, start, end = sample(
        page, LIVE_WATCHER, {"elapsed": ".twyn-elapsed", "eta": ".twyn-eta", "bar": LIVE_FILL}
    )

    elapsed = changes(series(samples, 0, "elapsed"))
    assert len(elapsed) - 1 >= 4, elapsed  # changed at least 4 times
    eta = changes(series(samples, 0, "eta"))
    assert len(eta) - 1 >= 3, eta
    bars = [percent(w or "") for w in changes(series(samples, 0, "bar"))]
    assert len(bars) - 1 >= 3, bars
    assert bars == sorted(bars), bars  # type: ignore[type-var]
    sent = frames.between(start, end)
    assert len(sent) <= MAX_MESSAGES, sent
    # The count is real: the page's kernel socket was caught, and it carried the view's
    # messages before the window (its opening, the first statuses).
    assert frames.sockets, "no kernel websocket seen"
    assert frames.between(0.0, start, "comm_open", "comm_msg"), frames.frames[:20]
    print(f"watcher: elapsed {elapsed}, {len(sent)} comm_msg in {end - start:.1f} s")


def test_a_board_ticks_every_row_in_the_browser_while_the_kernel_stays_quiet(
    page: Page, tick_server: LabServer
) -> None:
    frames = KernelFrames(page)
    open_notebook(page, tick_server, "board_five.ipynb")
    run_all(page)
    wait_running(page, ROWS, ".twyn-row-phase", 5, "Architect")
    samples, start, end = sample(page, ROWS, {"elapsed": ".twyn-row-elapsed", "bar": LIVE_FILL})

    for row in range(5):
        elapsed = changes(series(samples, row, "elapsed"))
        assert len(elapsed) - 1 >= 4, (row, elapsed)
        bars = changes(series(samples, row, "bar"))
        assert len(bars) - 1 >= 3, (row, bars)
    sent = frames.between(start, end)
    assert len(sent) <= MAX_MESSAGES, sent
    assert frames.between(0.0, start, "comm_open", "comm_msg"), frames.frames[:20]
    print(f"board: {len(sent)} comm_msg in {end - start:.1f} s")


def reload_mid_run(
    page: Page, server: LabServer, notebook: str, running: tuple[str, str, int, str]
) -> None:
    """Run ``notebook``; once ``wait_running(page, *running)`` holds, save it and reload the
    page (the kernel lives on), then wait for the kernel to be ready again."""
    open_notebook(page, server, notebook)
    run_all(page)
    wait_running(page, *running)
    save_notebook(page)
    page.reload(wait_until="domcontentloaded")
    wait_kernel_ready(page)


def test_a_watcher_reloaded_mid_run_is_drawn_from_the_kernel_and_runs_to_the_end(
    page: Page, reload_server: LabServer
) -> None:
    running = (LIVE_WATCHER, ".twyn-status code", 1, "PROCESSING_")
    reload_mid_run(page, reload_server, "watcher_live.ipynb", running)

    # Drawn again at once from the kernel's model (no waiting for the next change), mid-run,
    # and ticking.
    view = page.locator(LIVE_WATCHER)
    view.wait_for(timeout=20_000)
    expect(view.locator(".twyn-title")).to_have_text("Browser test: price rise", timeout=DRAWN)
    expect(view.locator(".twyn-word")).to_have_text("running", timeout=DRAWN)
    expect(view.locator(".twyn-status code")).to_have_text(MID_RUN, timeout=DRAWN)
    samples, _, _ = sample(page, LIVE_WATCHER, {"elapsed": ".twyn-elapsed"}, seconds=3.0)
    assert len(changes(series(samples, 0, "elapsed"))) - 1 >= 2, samples
    # ...and it goes on to the end.
    expect(view.locator(".twyn-word")).to_have_text("done", timeout=60_000)
    expect(view.locator(".twyn-pct")).to_have_text("100%")
    assert percent(view.locator(LIVE_FILL).evaluate("(el) => el.style.width")) == 100.0
    expect(view.locator(".twyn-status code")).to_have_text("COMPLETED_ANALYSIS")


def test_a_board_reloaded_mid_run_is_drawn_from_the_kernel_and_runs_to_the_end(
    page: Page, reload_server: LabServer
) -> None:
    reload_mid_run(
        page, reload_server, "board_five.ipynb", (ROWS, ".twyn-row-phase", 5, "Architect")
    )

    # Drawn again at once from the kernel's rows, not row by row as they change.
    page.locator(LIVE_BOARD).wait_for(timeout=20_000)
    rows = page.locator(ROWS)
    expect(rows.locator(".twyn-row-name")).to_have_text(
        [f"Board run {i}" for i in range(1, 6)], timeout=DRAWN
    )
    expect(page.locator(f"{LIVE_BOARD} .twyn-counts")).to_contain_text(
        "5 simulations", timeout=DRAWN
    )
    samples, _, _ = sample(page, ROWS, {"elapsed": ".twyn-row-elapsed"}, seconds=3.0)
    for row in range(5):
        assert len(changes(series(samples, row, "elapsed"))) - 1 >= 2, (row, samples)
    # ...and it goes on to the end, the rows' messages reaching the reloaded page.
    expect(page.locator(f"{LIVE_BOARD} .twyn-counts")).to_have_text(
        "5 simulations: 0 running, 4 done, 1 failed", timeout=60_000
    )
    states = rows.evaluate_all("(rows) => rows.map((r) => r.dataset.state)")
    assert states == ["succeeded", "succeeded", "succeeded", "failed", "succeeded"]
