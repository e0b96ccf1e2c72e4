"""A dashboard in Voila: a launcher and a board of three, in headless Chromium.

Voila runs every cell before it sends the page, then the widgets connect to the page's kernel;
the board's rows and a launched watcher must then move in the page by themselves (updates sent
from the widgets' background thread). The tests read what a person sees: text, a bar's width.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from twyn_widgets import emulator
from twyn_widgets.emulator import Emulator

from .harness import (
    BOARD,
    BOARD_COUNTS,
    BOARD_ROW,
    LAUNCHED_WATCHER,
    LAUNCHER,
    OUTPUT_TEXT,
    ROW_BAR,
    ROW_ELAPSED,
    ROW_ERROR,
    ROW_OUTCOME,
    ROW_PHASE,
    WATCHER_ELAPSED,
    WATCHER_OUTCOME,
    WATCHER_STATUS,
    assert_no_script_ran,
    changes,
    emulator_env_for,
    install_recorder,
    percent,
    read_records,
    record_times,
    record_values,
    script_calls,
    texts,
    wait_for_text,
)
from .voila_harness import VoilaServerFactory, open_voila

pytestmark = [pytest.mark.browser, pytest.mark.timeout(150)]

DASHBOARD = "voila_dashboard.ipynb"
#: The board's rows in the dashboard, in order; "New tax" carries a fail marker (Analyst).
TITLES = ("Price rise", "Free delivery", "New tax")
FAILING_ROW = 2
FINAL_COUNTS = "3 simulations: 0 running, 2 done, 1 failed"
#: Why a slower emulator for the board: Voila shows the page only after every cell ran, so the
#: board's simulations start a kernel start and a notebook run before the page can watch them.
#: At this speed they take 8-16 s, and the page sees them run, not only their ends.
BOARD_SPEED = 30.0

LAUNCHED_STATUS = f"{LAUNCHER} {WATCHER_STATUS}"
LAUNCHED_ELAPSED = f"{LAUNCHER} {WATCHER_ELAPSED}"
LAUNCHED_OUTCOME = f"{LAUNCHER} {WATCHER_OUTCOME}"
#: The API's status of a simulation that finished.
ENDED = "COMPLETED_ANALYSIS"


@pytest.fixture(scope="module")
def board_emulator() -> Iterator[Emulator]:
    """A Twyn emulator at :data:`BOARD_SPEED` for this module."""
    with emulator.start(speed=BOARD_SPEED) as emu:
        yield emu


def launch(page: Page, prompt: str, title: str = "") -> None:
    """Fill the launcher's form as a person would, and press Run."""
    form = page.locator(LAUNCHER)
    form.get_by_label("Prompt").fill(prompt)
    if title:
        form.get_by_label("Title").fill(title)
    form.get_by_role("button", name="Run").click()


def screenshot(page: Page, path: Path) -> None:
    """The whole dashboard: Voila scrolls inside its own panel, so grow the viewport to it."""
    height = page.evaluate(
        "(sel) => Math.ceil(document.querySelector(sel).closest('.jp-Notebook, body')"
        ".getBoundingClientRect().bottom) + 40",
        BOARD,
    )
    page.set_viewport_size({"width": 1280, "height": max(900, height)})
    page.screenshot(path=str(path), full_page=True)


def test_board_rows_advance_then_end_two_done_one_failed_with_its_error(
    voila_server_factory: VoilaServerFactory,
    page: Page,
    dialogs: list[str],
    board_emulator: Emulator,
    browser_artifacts: Path,
) -> None:
    server = voila_server_factory(DASHBOARD, env=emulator_env_for(board_emulator))
    open_voila(page, server, ready=BOARD_COUNTS)
    install_recorder(
        page,
        {"elapsed": ROW_ELAPSED, "phase": ROW_PHASE, "bar": ROW_BAR, "counts": BOARD_COUNTS},
        widths=("bar",),
    )
    wait_for_text(page, BOARD_COUNTS, "0 running", timeout=60_000)

    expect(page.locator(BOARD_COUNTS)).to_have_text(re.compile(re.escape(FINAL_COUNTS)))
    rows = page.locator(BOARD_ROW)
    expect(rows).to_have_count(3)
    for i, title in enumerate(TITLES):
        expect(rows.nth(i)).to_contain_text(title)
    outcomes = texts(page, ROW_OUTCOME)
    assert [o for i, o in enumerate(outcomes) if i != FAILING_ROW] == ["done", "done"], outcomes
    assert outcomes[FAILING_ROW].startswith("failed in the Analyst"), outcomes
    error = page.locator(ROW_ERROR)
    expect(error).to_have_count(1)
    expect(error).to_be_visible()
    assert len(error.inner_text().strip()) > 10, error.inner_text()

    records = read_records(page)
    # Live in the page, not only the end state: the counts were seen with rows running...
    counts = changes(record_values(records, "counts"))
    assert "0 running" not in counts[0], counts
    assert counts[-1] == FINAL_COUNTS, counts
    for row in range(3):
        # ...and every row's elapsed readout moved on several times after the page showed it
        # (a board that drew only its first and last frames would show two values).
        elapsed = changes(record_values(records, "elapsed", row))
        assert len(elapsed) >= 3, (row, elapsed)
        times = record_times(records, "elapsed", row)
        assert times[-1] - times[0] > 1_500, (row, times)
        phases = changes(record_values(records, "phase", row))
        assert phases[-1].startswith("Analyst"), (row, phases)  # all three reach the last phase
        widths = [p for p in map(percent, record_values(records, "bar", row)) if p is not None]
        assert len(set(widths)) >= 3, (row, widths)  # the bar grew in steps
        if row == FAILING_ROW:
            assert widths[-1] < 100, (row, widths)
        else:
            assert widths == sorted(widths), (row, widths)
            assert widths[-1] == pytest.approx(100.0), (row, widths)
    assert_no_script_ran(page, dialogs)
    screenshot(page, browser_artifacts / "voila-dashboard-board.png")


def test_launcher_run_shows_a_watcher_that_reaches_done(
    voila_server_factory: VoilaServerFactory,
    page: Page,
    dialogs: list[str],
    emulator_env: dict[str, str],
    browser_artifacts: Path,
) -> None:
    server = voila_server_factory(DASHBOARD, env=emulator_env)
    open_voila(page, server, ready=LAUNCHER)
    expect(page.locator(LAUNCHED_WATCHER)).to_have_count(0)
    install_recorder(page, {"status": LAUNCHED_STATUS, "elapsed": LAUNCHED_ELAPSED})

    launch(page, "How will a 10% price rise affect churn?", title="Launched from Voila")
    watcher = page.locator(LAUNCHED_WATCHER)
    expect(watcher).to_have_count(1, timeout=20_000)
    expect(watcher).to_contain_text("Launched from Voila")
    wait_for_text(page, LAUNCHED_STATUS, ENDED, timeout=60_000)
    expect(page.locator(LAUNCHED_OUTCOME)).to_have_text(re.compile(r"\bdone$"))

    records = read_records(page)
    statuses = changes(record_values(records, "status"))
    assert len(statuses) >= 3, statuses  # it ran through its phases in the page...
    assert statuses[-1] == ENDED, statuses  # ...to its end
    elapsed = changes(record_values(records, "elapsed"))
    assert len(elapsed) >= 3, elapsed
    assert_no_script_ran(page, dialogs)
    screenshot(page, browser_artifacts / "voila-dashboard-launcher.png")


#: Typed into the form; the server hands both back (title, and the prompt in the config's
#: description and the analysis), and the watcher must show them as text.
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>window.__twynXss=true</script><svg onload=alert(2)>"


def test_server_strings_from_a_launched_run_stay_text(
    voila_server_factory: VoilaServerFactory,
    page: Page,
    dialogs: list[str],
    emulator_env: dict[str, str],
) -> None:
    server = voila_server_factory(DASHBOARD, env=emulator_env)
    open_voila(page, server, ready=LAUNCHER)
    launch(page, f"How will a price rise affect churn? {SCRIPT}", title=IMG)
    wait_for_text(page, LAUNCHED_STATUS, ENDED, timeout=60_000)

    assert_no_script_ran(page, dialogs)
    expect(page.locator(LAUNCHED_WATCHER)).to_contain_text(IMG)  # shown, not parsed
    assert page.locator(f"{LAUNCHER} img[src='x'], {LAUNCHER} svg[onload]").count() == 0


def test_script_detector_sees_an_unescaped_html_widget_in_voila(
    voila_server_factory: VoilaServerFactory, page: Page, dialogs: list[str]
) -> None:
    """The positive control of the test above: markup that does run is seen in Voila too."""
    server = voila_server_factory("unsafe_html_control.ipynb")
    open_voila(page, server, ready=OUTPUT_TEXT)
    page.wait_for_function("() => window.__twynScriptCalls.length > 0", timeout=10_000)
    assert script_calls(page) == ["alert:1"]
    assert dialogs == ["alert: 1"]
