"""``SimulationWatcher`` and ``%twyn_wait`` in a real JupyterLab / Notebook 7 and Chromium.

The kernels reach the session's emulator (``emulator_env``): ``tw.connect()`` in a notebook finds
its key, URL and time scale in the env. One test runs the embedded emulator instead, the way a
user without a key does.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from twyn_widgets._render import DANGER, INFO, SUCCESS

from .harness import (
    INPUT_PROMPT,
    LIVE_FILL,
    LIVE_WATCHER,
    OUTPUT_TEXT,
    LabServer,
    LabServerFactory,
    Record,
    Ui,
    assert_no_script_ran,
    changes,
    install_recorder,
    open_notebook,
    output_texts,
    package_env,
    percent,
    read_records,
    record_times,
    record_values,
    resolved_color,
    run_all,
    texts,
    wait_for_output_data,
    wait_for_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

WATCHER = ".twyn-watcher"
#: The live view's bar (the static outcome has its own, STATIC_BAR).
BAR = f"{LIVE_WATCHER} {LIVE_FILL}"
BAR_PERCENT = f"{LIVE_WATCHER} .twyn-pct"
TITLE = f"{WATCHER} .twyn-title"
PHASE = f"{WATCHER} .twyn-phase"
STATUS = f"{WATCHER} .twyn-status"
ELAPSED = f"{WATCHER} .twyn-elapsed"
OUTCOME = f"{WATCHER} .twyn-outcome"
RESULT = f"{WATCHER} .twyn-result"
FAILURE = f"{WATCHER} .twyn-failure"
ENDED = f"{RESULT}, {FAILURE}"

PHASES = ("Architect, 1 of 3", "Simulator, 2 of 3", "Analyst, 3 of 3")
ELAPSED_TEXT = re.compile(r"elapsed (\d+ s|\d+ min( \d+ s)?|\d+ h( \d+ min)?)")
#: Once ended, the live view is replaced by static HTML with its own bar and percentage.
STATIC = f"{WATCHER}.twyn-static"
STATIC_BAR = f"{STATIC} .twyn-static-bar"
STATIC_PERCENT = f"{STATIC} .twyn-static-percent"

#: How long a watcher at 60x may take to end: a run lasts 4-8 s, plus the kernel's start.
END_TIMEOUT = 30_000


@pytest.fixture
def lab_env(emulator_env: dict[str, str]) -> dict[str, str]:
    return emulator_env


# --------------------------------------------------------------------------------------------
# Helpers


def wait_until_ended(page: Page, count: int = 1, timeout: float = END_TIMEOUT) -> None:
    """Wait until ``count`` watchers show their result or failure view."""
    try:
        page.wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length >= n",
            arg=[ENDED, count],
            timeout=timeout,
            polling=100,
        )
    except Exception as exc:
        raise AssertionError(
            f"{count} watcher(s) did not end in {timeout / 1000:.0f} s; status lines: "
            f"{texts(page, f'{WATCHER} .twyn-line')!r}"
        ) from exc


def assert_succeeded(page: Page, index: int = 0) -> None:
    """The ``index``-th watcher shows a result view, not a failure (say why if not)."""
    failures = texts(page, FAILURE)
    assert page.locator(RESULT).count() > index, (
        f"watcher {index} ended without a result: outcome {texts(page, OUTCOME)!r}, "
        f"failure view {failures!r}"
    )


def bar_colors(records: list[Record], index: int = 0) -> list[str]:
    """Every colour the live bar was drawn in, in order (recorded under ``barcolor``)."""
    return changes(record_values(records, "barcolor", index))


def first_percent(records: list[Record], name: str, index: int, at_least: float) -> float | None:
    """Time of the first ``name``/``index`` bar record at ``at_least`` percent or more."""
    for record in records:
        if record["name"] == name and record["index"] == index:
            value = percent(record["value"])
            if value is not None and value >= at_least:
                return record["t"]
    return None


def bar_percents(records: list[Record], name: str = "bar", index: int = 0) -> list[float]:
    return [p for p in map(percent, record_values(records, name, index)) if p is not None]


def first_time(records: list[Record], name: str, index: int, predicate: str) -> float | None:
    """Time of the first record of ``name``/``index`` whose value matches regex ``predicate``."""
    pattern = re.compile(predicate)
    for record in records:
        if record["name"] == name and record["index"] == index and pattern.search(record["value"]):
            return record["t"]
    return None


def assert_saved_summary(page: Page, marker: str) -> str:
    """The display was replaced by a static ``text/html`` face (what a saved notebook shows),
    with no widget view left in it; return that HTML."""
    outputs = wait_for_output_data(page, "text/html", "twyn-static", timeout=10_000)
    bundles = [o["data"] for outs in outputs for o in outs if "text/html" in o.get("data", {})]
    assert len(bundles) == 1, bundles
    data = bundles[0]
    assert "application/vnd.jupyter.widget-view+json" not in data, sorted(data)
    html = data["text/html"]
    html = "".join(html) if isinstance(html, list) else html
    assert marker in html, html
    return str(html)


# --------------------------------------------------------------------------------------------
# Tests


@pytest.mark.parametrize("ui", ["lab", "notebook7"])
def test_watcher_updates_live_then_shows_the_result(
    page: Page, lab_server: LabServer, dialogs: list[str], ui: Ui
) -> None:
    open_notebook(page, lab_server, "watcher_live.ipynb", ui=ui)
    install_recorder(
        page,
        {
            "bar": BAR,
            "phase": PHASE,
            "elapsed": ELAPSED,
            "outcome": OUTCOME,
            "prompt": INPUT_PROMPT,
            "barcolor": BAR,
            "percent": BAR_PERCENT,
        },
        colors=("barcolor",),
    )
    run_all(page)
    wait_until_ended(page)
    assert_succeeded(page)
    # The ticker's last step: the live view is replaced by its static face.
    assert_saved_summary(page, 'class="twyn-summary"')

    records = read_records(page)
    widths = bar_percents(records)
    # Live: several distinct, increasing values spread over seconds, ending full.
    assert len(set(widths)) >= 4, widths
    assert widths == sorted(widths), widths
    assert widths[-1] == pytest.approx(100.0), widths
    bar_times = record_times(records, "bar")
    assert bar_times[-1] - bar_times[0] > 2_000, bar_times

    phases = [p for p in changes(record_values(records, "phase")) if p != "\u2013"]
    assert set(phases) <= set(PHASES), phases
    assert len(set(phases)) >= 2, phases
    assert phases == sorted(phases, key=PHASES.index), phases  # in order, never back

    elapsed = changes(record_values(records, "elapsed"))
    assert all(ELAPSED_TEXT.fullmatch(e) for e in elapsed), elapsed
    assert len(elapsed) >= 4, elapsed  # ticked at least three times
    # The number beside the bar says what the bar shows.
    shown = [int(p.rstrip("%")) for p in changes(record_values(records, "percent"))]
    assert len(shown) >= 4, shown
    assert shown == sorted(shown), shown
    assert shown[-1] == 100, shown

    # Non-blocking: the cell was done ("[1]:") while the bar still had a way to go.
    cell_done = first_time(records, "prompt", 0, r"^\[\d+\]:$")
    full = first_percent(records, "bar", 0, 100.0)
    assert cell_done is not None, record_values(records, "prompt")
    assert full is not None
    assert cell_done < full - 1_000, (cell_done, full)

    # The live bar ran in the running colour, then turned green before the static face took
    # its place.
    colors = bar_colors(records)
    assert colors[0] == resolved_color(page, INFO), colors
    assert colors[-1] == resolved_color(page, SUCCESS), colors
    # The end state, static now.
    expect(page.locator(OUTCOME)).to_have_text("done")
    expect(page.locator(STATUS)).to_have_text("COMPLETED_ANALYSIS")
    expect(page.locator(STATIC)).to_have_attribute("data-state", "succeeded")
    expect(page.locator(STATIC_BAR)).to_have_attribute("style", re.compile(r"width:\s*100(\.0)?%"))
    expect(page.locator(STATIC_PERCENT)).to_have_text("100%")
    expect(page.locator(f"{RESULT} .twyn-summary")).to_have_text(re.compile(r"\w{3,}"))
    assert page.locator(f"{RESULT} .twyn-chart svg").count() >= 1
    expect(page.locator(f"{RESULT} .twyn-chart svg").first).to_be_visible()
    expect(page.locator(TITLE)).to_have_text("Browser test: price rise")
    assert page.locator(FAILURE).count() == 0
    assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()
    assert_no_script_ran(page, dialogs)


def test_failed_simulation_shows_the_phase_and_error_log_with_a_red_bar(
    page: Page, lab_server: LabServer, dialogs: list[str]
) -> None:
    open_notebook(page, lab_server, "watcher_failure.ipynb")
    install_recorder(
        page,
        {
            "bar": BAR,
            "outcome": OUTCOME,
            "barcolor": BAR,
            "livephase": f"{LIVE_WATCHER} .twyn-phase",
            "livestatus": f"{LIVE_WATCHER} .twyn-status",
            "livedetail": f"{LIVE_WATCHER} .twyn-detail",
        },
        colors=("barcolor",),
    )
    run_all(page)
    wait_until_ended(page)
    assert_saved_summary(page, 'class="twyn-failure"')

    failure = page.locator(FAILURE)
    expect(failure).to_contain_text("Simulation failed in the Simulator phase")
    log = page.locator(f"{FAILURE} pre.twyn-error-log")
    expect(log).to_have_text(re.compile(r"\w{3,}"))
    assert page.locator(RESULT).count() == 0
    expect(page.locator(OUTCOME)).to_have_text("failed")
    expect(page.locator(STATUS)).to_have_text("FAILED")
    expect(page.locator(PHASE)).to_have_text("Simulator, 2 of 3")

    # The live view said where it failed and why (the error_log's first line) before the
    # static face took its place; its bar turned red.
    records = read_records(page)
    assert changes(record_values(records, "livephase"))[-1] == "Simulator, 2 of 3", records
    assert changes(record_values(records, "livestatus"))[-1] == "FAILED"
    detail = [d for d in changes(record_values(records, "livedetail")) if d]
    assert detail, record_values(records, "livedetail")
    first_line = log.inner_text().strip().splitlines()[0].strip()
    assert detail[-1] == first_line, (detail, first_line)
    assert bar_colors(records)[-1] == resolved_color(page, DANGER), bar_colors(records)
    # The static face keeps the bar at the progress it had reached (not reset, not full).
    expect(page.locator(STATIC)).to_have_attribute("data-state", "failed")
    bar = page.locator(STATIC_BAR)
    expect(bar).to_be_visible()
    final = percent(bar.evaluate("(el) => el.style.width"))
    assert final is not None
    assert 0 < final < 100, final
    widths = bar_percents(records)
    assert len(set(widths)) >= 2, widths  # it moved before failing
    # On FAILED the bar is re-estimated at the failure time, a little earlier than the last
    # live render: it may step back slightly at the end, never much.
    assert widths[:-1] == sorted(widths[:-1]), widths
    assert widths[-1] >= max(widths) - 2, widths
    assert_no_script_ran(page, dialogs)


def test_markup_in_titles_and_config_names_shows_as_text(
    page: Page, lab_server: LabServer, dialogs: list[str]
) -> None:
    img = "<img src=x onerror=alert(1)>"
    script = "<script>window.__twynXss=true</script><svg onload=alert(2)>"
    titles = [img, script, f"config {img}"]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    open_notebook(page, lab_server, "watcher_xss.ipynb")
    install_recorder(page, {"title": TITLE, "live": f"{LIVE_WATCHER} .twyn-title"})
    run_all(page)
    wait_until_ended(page, count=3)
    for index in range(3):
        assert_succeeded(page, index)

    # Shown literally, in the live line and in the result view, from the first render on.
    assert texts(page, TITLE) == titles
    assert texts(page, f"{RESULT} > div:first-child") == titles
    # Every value any title element ever had was one of the titles, as text. (Indexes shift
    # while the display update re-renders a watcher, so the values are not per watcher.)
    records = read_records(page)
    seen = {r["value"] for r in records if r["name"] == "title"}
    assert seen == set(titles), seen
    # The live views drew them as text too, while they ran.
    live = {r["value"] for r in records if r["name"] == "live"}
    assert live == set(titles), live
    # Config names reach the chart (group headings, panel labels): text there too.
    chart = page.locator(f"{WATCHER} .twyn-chart").nth(2).inner_text()
    assert "<img src=x onerror=alert(3)>" in chart, chart
    assert "<script>window.__twynXss=true</script>" in chart, chart
    assert "<img src=y onerror=alert(4)>" in chart, chart
    # The Analyst's report (markdown) names the same groups: text there too, once unfolded.
    report = page.locator(f"{WATCHER} .twyn-report").nth(2)
    report.locator("summary").click()
    body = report.locator(".twyn-report-body").inner_text()
    assert "<b>customers</b>" in body, body
    assert "<img src=x onerror=alert(3)>" in body, body

    # Nothing was turned into markup, nothing ran, nothing was fetched.
    assert page.locator(f"{WATCHER} img, {WATCHER} script").count() == 0
    handlers = page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel + ' *')).flatMap((el) =>
             Array.from(el.attributes).filter((a) => a.name.startsWith('on'))
               .map((a) => el.tagName + '[' + a.name + ']'))""",
        WATCHER,
    )
    assert handlers == []
    assert [u for u in requests if re.search(r"/[xy](\?|$)", u)] == []
    assert_no_script_ran(page, dialogs)


def test_twyn_wait_shows_a_live_watcher_while_its_cell_blocks(
    page: Page, lab_server: LabServer, dialogs: list[str]
) -> None:
    open_notebook(page, lab_server, "magic_wait.ipynb")
    # Code cells: 0 %load_ext, 1 create, 2 `res = %twyn_wait $sid`, 3 print.
    install_recorder(
        page,
        {
            "bar": BAR,
            "prompt": INPUT_PROMPT,
            "outcome": OUTCOME,
            "barcolor": BAR,
            "static": f"{STATIC} .twyn-status",
        },
        colors=("barcolor",),
    )
    run_all(page)
    wait_for_text(page, OUTPUT_TEXT, "summary:", timeout=END_TIMEOUT)

    records = read_records(page)
    prompts = changes(record_values(records, "prompt", 2))
    assert "[*]:" in prompts, prompts
    # The magic's cell ended when its prompt last changed (from "[*]:" to "[3]:").
    assert re.fullmatch(r"\[\d+\]:", prompts[-1]), prompts
    cell_end = record_times(records, "prompt", 2)[-1]
    during = [
        p
        for r in records
        if r["name"] == "bar" and r["t"] < cell_end and (p := percent(r["value"])) is not None
    ]
    assert len(set(during)) >= 3, (during, bar_percents(records))
    assert during == sorted(during), during
    times = [r["t"] for r in records if r["name"] == "bar" and r["t"] < cell_end]
    assert times[-1] - times[0] > 1_500, times  # live while blocked, not one burst
    outcomes = [r for r in records if r["name"] == "outcome" and r["t"] < cell_end]
    assert any(r["value"] == "running" for r in outcomes), outcomes

    # The magic returned only once the page showed the end: the static outcome was there
    # before its cell's prompt left "[*]:".
    shown = first_time(records, "static", 0, "COMPLETED_ANALYSIS")
    assert shown is not None, record_values(records, "static")
    assert shown < cell_end, (shown, cell_end)
    # The cell returned the result; the next cell used it.
    (line,) = [t for t in output_texts(page) if "summary:" in t]
    summary = line.split("summary:", 1)[1].strip()
    assert len(summary) > 20, line
    wait_until_ended(page, timeout=5_000)
    assert_succeeded(page)
    expect(page.locator(f"{RESULT} .twyn-summary")).to_have_text(summary)
    expect(page.locator(STATIC)).to_have_attribute("data-state", "succeeded")
    assert bar_colors(records)[-1] == resolved_color(page, SUCCESS), bar_colors(records)
    assert_no_script_ran(page, dialogs)


def test_watcher_on_the_embedded_emulator_gets_its_result(
    page: Page, lab_server_factory: LabServerFactory, dialogs: list[str]
) -> None:
    # What a user without a key gets: `tw.connect()` starts an emulator in the kernel, with its
    # default rate limit, and the watcher keeps its default timeout (600 API s = 10 s at 60x).
    # While that limit was 1000 requests per real hour, the engine spaced polls 3.6 s apart and
    # every watch here ended "timed out" at COMPLETED_ANALYSIS, before fetching the results.
    server = lab_server_factory(
        env={**package_env(), "TWYN_API_KEY": "", "TWYN_EMULATOR_SPEED": "60"}
    )
    open_notebook(page, server, "watcher_live.ipynb")
    install_recorder(page, {"bar": BAR})
    run_all(page)
    wait_for_text(page, OUTPUT_TEXT, "using a local Twyn emulator")
    wait_until_ended(page)

    assert_succeeded(page)
    expect(page.locator(OUTCOME)).to_have_text("done")
    expect(page.locator(STATIC)).to_have_attribute("data-state", "succeeded")
    assert len(set(bar_percents(read_records(page)))) >= 4
    assert_no_script_ran(page, dialogs)
