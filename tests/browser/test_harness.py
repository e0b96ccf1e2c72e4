"""The browser harness itself, proven on a stand-in notebook in JupyterLab and Notebook 7."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .harness import (
    HTML_CONTENT,
    LABEL,
    OUTPUT_TEXT,
    PROGRESS_BAR,
    LabServer,
    LabServerFactory,
    Ui,
    assert_no_script_ran,
    html_texts,
    install_recorder,
    label_texts,
    open_notebook,
    output_texts,
    percent,
    progress_percent,
    read_records,
    record_times,
    record_values,
    run_all,
    script_calls,
    wait_for_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

PAYLOAD = "<img src=x onerror=alert(1)>"


@pytest.mark.parametrize("ui", ["lab", "notebook7"])
def test_thread_updates_reach_the_page_live(
    page: Page, lab_server: LabServer, dialogs: list[str], ui: Ui
) -> None:
    open_notebook(page, lab_server, "harness_check.ipynb", ui=ui)
    assert len(lab_server.sessions()) == 1  # the previous test's kernel was shut down
    install_recorder(page, {"bar": PROGRESS_BAR, "label": LABEL, "html": HTML_CONTENT})

    run_all(page)
    wait_for_text(page, OUTPUT_TEXT, "done", timeout=30_000)

    records = read_records(page)
    widths = [p for p in map(percent, record_values(records, "bar")) if p is not None]
    # Live, not just the end state: many distinct values, each larger than the one before...
    assert len(set(widths)) >= 5, widths
    assert widths == sorted(widths), widths
    assert widths[-1] == pytest.approx(100.0)
    # ...spread over the ~3 s the worker takes (an end-state-only render would be one burst).
    bar_times = record_times(records, "bar")
    assert bar_times[-1] - bar_times[0] > 1_500, bar_times

    labels = record_values(records, "label")
    assert len(labels) >= 6, labels  # "waiting", then at least 5 "step i"
    assert labels[-1] == "step 10"

    assert progress_percent(page) == pytest.approx(100.0)
    assert label_texts(page) == ["step 10"]
    assert output_texts(page)[-1] == "done"

    # The escaped payload shows as text, is not markup, and never ran.
    (html_text,) = html_texts(page)
    assert html_text == f"step 10 message: {PAYLOAD}"
    assert page.locator(f"{HTML_CONTENT} img").count() == 0
    assert page.locator(f"{HTML_CONTENT} b").inner_text() == "step 10"
    assert_no_script_ran(page, dialogs)


def test_kernel_inherits_the_servers_env(page: Page, lab_server_factory: LabServerFactory) -> None:
    env = {"TWYN_HARNESS_PROBE": "probe-42", "TWYN_EMULATOR_SPEED": "60"}
    server = lab_server_factory(env=env)
    open_notebook(page, server, "env_check.ipynb")

    run_all(page)
    wait_for_text(page, OUTPUT_TEXT, "env printed")

    printed = "\n".join(output_texts(page))
    assert "TWYN_HARNESS_PROBE=probe-42" in printed
    assert "TWYN_EMULATOR_SPEED=60" in printed


def test_xss_detector_sees_a_payload_that_runs(page: Page, dialogs: list[str]) -> None:
    # The "no script ran" checks above are only worth something if this detector fires.
    page.set_content("<div id='target'></div>")
    page.evaluate("(html) => { document.getElementById('target').innerHTML = html; }", PAYLOAD)
    page.wait_for_function("() => window.__twynScriptCalls.length > 0", timeout=5_000)
    page.evaluate("() => { window.__twynXss = true; }")

    assert dialogs == ["alert: 1"]
    assert script_calls(page) == ["alert:1", "flag"]
    with pytest.raises(AssertionError, match="dialog"):
        assert_no_script_ran(page, dialogs)


def test_xss_detector_sees_an_unescaped_html_widget(
    page: Page, lab_server: LabServer, dialogs: list[str]
) -> None:
    # Positive control in a real notebook: a stock HTML widget given the raw payload runs it.
    open_notebook(page, lab_server, "unsafe_html_control.ipynb")
    run_all(page)
    wait_for_text(page, OUTPUT_TEXT, "done")
    page.wait_for_function("() => window.__twynScriptCalls.length > 0", timeout=5_000)

    assert dialogs == ["alert: 1"]
    assert page.locator(f"{HTML_CONTENT} img").count() == 1


def test_sessions_do_not_outlive_tests(lab_server: LabServer) -> None:
    # Runs after the tests above in this module: the page fixture deleted their sessions.
    assert lab_server.sessions() == []
