"""What a user keeps, in a real JupyterLab / Notebook 7: run, save, shut the kernel down,
reopen; and the text contrast of the widgets in the light and the dark theme."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from .conftest import artifacts_dir
from .harness import (
    LabServer,
    LabServerFactory,
    Ui,
    open_notebook,
    run_all,
    save_notebook,
    text_contrasts,
    wait_for_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

NOTEBOOK = "kept_outcome.ipynb"
VIEW = "application/vnd.jupyter.widget-view+json"
WIDGETS = ".twyn-watcher, .twyn-board"
LIVE = ".twyn-watcher.twyn-live, .twyn-board.twyn-live"
MIN_CONTRAST = 4.5  # WCAG AA for normal text


def _notebook_url(server: LabServer, name: str, ui: Ui) -> str:
    path = f"/lab/tree/{name}" if ui == "lab" else f"/notebooks/{name}"
    return server.url(path, reset="") if ui == "lab" else server.url(path)


def _run_to_the_end(page: Page) -> None:
    run_all(page)
    wait_for_text(page, ".jp-OutputArea-output", "ALL DONE", timeout=60_000)


@pytest.mark.parametrize("ui", ["lab", "notebook7"])
def test_saved_and_reopened_without_a_kernel_the_outcome_shows(
    page: Page,
    lab_server_factory: LabServerFactory,
    emulator_env: dict[str, str],
    ui: Ui,
    request: pytest.FixtureRequest,
) -> None:
    server = lab_server_factory(env=emulator_env)
    name = open_notebook(page, server, NOTEBOOK, ui=ui)
    _run_to_the_end(page)
    save_notebook(page)
    assert server.delete_sessions() >= 1  # the kernel is gone
    page.close()

    reopened = page.context.new_page()
    reopened.goto(_notebook_url(server, name, ui), wait_until="domcontentloaded")
    reopened.locator(".twyn-static").nth(1).wait_for(timeout=30_000)
    reopened.wait_for_timeout(1_000)  # any widget renderer would have failed by now
    reopened.screenshot(
        path=str(artifacts_dir(request.config) / f"reopened-{ui}.png"), full_page=True
    )
    text = reopened.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in text
    assert "model not found" not in text
    outcomes = reopened.locator(".twyn-watcher .twyn-outcome").all_inner_texts()
    assert [o.strip() for o in outcomes] == ["done"]
    counts = reopened.locator(".twyn-board .twyn-counts").inner_text()
    assert "3 simulations: 0 running, 2 done, 1 failed" in counts
    assert reopened.locator(".twyn-board .twyn-row-error").count() == 1
    assert "running" not in " ".join(
        reopened.locator(".twyn-board .twyn-row-outcome").all_inner_texts()
    )
    # And the file itself holds no live view for them.
    saved = json.loads((Path(server.root_dir) / name).read_text(encoding="utf-8"))
    bundles = [o.get("data", {}) for cell in saved["cells"] for o in cell.get("outputs", [])]
    static = [b for b in bundles if "twyn-static" in "".join(b.get("text/html", ""))]
    assert len(static) == 2
    assert not [b for b in static if VIEW in b]


@pytest.mark.parametrize(
    ("ui", "theme"), [("lab", "light"), ("lab", "dark"), ("notebook7", "dark")]
)
def test_every_text_of_the_widgets_keeps_a_readable_contrast(
    page: Page,
    lab_server_factory: LabServerFactory,
    emulator_env: dict[str, str],
    ui: Ui,
    theme: str,
    request: pytest.FixtureRequest,
) -> None:
    server = lab_server_factory(env=emulator_env, theme=theme)
    open_notebook(page, server, NOTEBOOK, ui=ui)
    run_all(page)
    page.locator(".twyn-board .twyn-row").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1_500)  # mid-run: bars, phases and notices are showing
    live = text_contrasts(page, LIVE)
    live_texts = " ".join(c["text"] for c in live)
    for part in ("elapsed", "Notify off", "Stop all", "running"):  # the live views, drawn
        assert part in live_texts, (part, live_texts)
    out = artifacts_dir(request.config)
    for kind in ("watcher", "board"):  # to look at: the live views mid-run
        view = page.locator(f".twyn-{kind}.twyn-live").first
        view.screenshot(path=str(out / f"live-{theme}-{ui}-{kind}.png"))
    _run_to_the_end(page)
    page.locator(".twyn-static").nth(1).wait_for(timeout=10_000)
    ended = text_contrasts(page, WIDGETS)
    page.screenshot(path=str(out / f"theme-{theme}-{ui}.png"), full_page=True)
    # Why ":visible": the ended board's live view is being swapped for its static outcome here,
    # and the first match can be the node on its way out, which cannot be photographed.
    board = page.locator(".twyn-board:visible").first
    board.screenshot(path=str(out / f"theme-{theme}-{ui}-board.png"))
    assert len(live) >= 10
    assert len(ended) >= 20  # the result view and the table are measured too
    worst = min([*live, *ended], key=lambda c: c["ratio"])
    print(f"{ui} {theme}: {len(live) + len(ended)} texts, worst contrast {worst['ratio']:.2f}:1")
    assert worst["ratio"] >= MIN_CONTRAST, worst
