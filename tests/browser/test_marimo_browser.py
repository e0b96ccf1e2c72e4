"""The live views in marimo (``marimo run``), in headless Chromium.

marimo shows an anywidget model itself (``mo.ui.anywidget(w.widget)``, or ``w`` as a cell's last
expression: it turns the widget-view MIME bundle into its own element). What these tests pin is
that the kernel's background thread reaches the page there: the watcher's ``sim`` trait is set
by the ticker thread long after the cell returned, and the board's rows go out as custom
messages from that thread. marimo before 0.23.14 dropped every message sent from a thread that
has no marimo runtime context (it looked the session up per thread), so the view froze at its
first state: these tests fail there.

marimo is not a test dependency (its pins would move shared ones): the server runs in the
Python named by ``$TWYN_MARIMO_PYTHON`` (an environment with marimo and this package), else in
a venv these tests build once per session from the package index (about a minute), as the
first-run tests do. Never a skip: a machine that cannot build it fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from playwright.sync_api import Page, expect

from .harness import ServerProcess, free_port, package_env

pytestmark = [pytest.mark.browser, pytest.mark.timeout(660)]  # the first builds the venv

WATCHER = ".twyn-watcher"
BOARD = ".twyn-board"

NOTEBOOK = textwrap.dedent(
    """
    import marimo

    app = marimo.App()


    @app.cell
    def _():
        import marimo as mo
        import twyn_widgets as tw

        client = tw.connect()
        return client, mo, tw


    @app.cell
    def _(client, mo, tw):
        sim = client.create_simulation("A 10% price rise?", title="marimo watcher")
        watcher = tw.SimulationWatcher(sim, client=client)
        mo.ui.anywidget(watcher.widget)
        return (watcher,)


    @app.cell
    def _(client, tw):
        prompts = ["What if a competitor halves its prices?", "A new tax on shops? [fail:analyst]"]
        sims = [client.create_simulation(p, title=f"row {i}") for i, p in enumerate(prompts, 1)]
        board = tw.SimulationBoard(sims, client=client)
        board
        return (board,)
    """
)


MARIMO = "marimo==0.25.2"
"""The marimo these tests show (0.23.14 is the first that carries a thread's updates)."""

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def marimo_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Python with marimo and this package: ``$TWYN_MARIMO_PYTHON``, else a new venv."""
    named = os.environ.get("TWYN_MARIMO_PYTHON")
    if named:
        return named
    venv = tmp_path_factory.mktemp("marimo") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", MARIMO,
         "-e", f"{ROOT}[emulator]"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    return python


@dataclass
class MarimoServer(ServerProcess):
    """``marimo run notebook.py``: each page load starts a session that runs every cell."""

    kind: ClassVar[str] = "marimo"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/health", timeout=2.0) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False


@pytest.fixture
def marimo_server(
    tmp_path: Path, emulator_env: dict[str, str], marimo_python: str
) -> Iterator[MarimoServer]:
    python = marimo_python
    notebook = tmp_path / "live.py"
    notebook.write_text(NOTEBOOK, encoding="utf-8")
    (tmp_path / "config").mkdir()
    extra = {**emulator_env, **package_env()}
    env = {
        **os.environ,
        **extra,
        # Why: the user's marimo config and marimo's update check stay out of the test.
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "MARIMO_SKIP_UPDATE_CHECK": "1",
        "PYTHONUNBUFFERED": "1",
    }
    port = free_port()
    log_path = tmp_path / "marimo.log"
    log_file = log_path.open("wb")
    proc = subprocess.Popen(
        [
            python,
            "-m",
            "marimo",
            "run",
            str(notebook),
            "--headless",
            "--no-token",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
        start_new_session=True,  # stopped by its PID below, its whole group if it hangs
    )
    server = MarimoServer(
        proc=proc, port=port, root_dir=tmp_path, log_path=log_path, env=extra, _log_file=log_file
    )
    try:
        deadline = time.monotonic() + 30
        while not server.answers():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"marimo did not start:\n{server.read_log()}")
            time.sleep(0.2)
        yield server
    finally:
        server.stop()  # SIGTERM by its PID, then its process group if it hangs


def _sample(page: Page) -> tuple[str, str, str, str]:
    watcher = page.locator(WATCHER)
    return (
        watcher.locator(".twyn-status").text_content() or "",
        watcher.locator(".twyn-elapsed").text_content() or "",
        watcher.get_attribute("data-state") or "",
        page.locator(f"{BOARD} .twyn-counts").text_content() or "",
    )


def test_marimo_views_follow_the_background_thread_to_the_end(
    marimo_server: MarimoServer, page: Page
) -> None:
    page.goto(marimo_server.base_url)
    # Playwright's CSS selectors pierce the open shadow roots marimo draws widgets in.
    page.locator(WATCHER).wait_for(timeout=30_000)
    page.locator(BOARD).wait_for(timeout=10_000)
    first_status = _sample(page)[0]

    samples = []
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline:
        samples.append(_sample(page))
        _, _, state, counts = samples[-1]
        if state == "succeeded" and "0 running" in counts:
            break
        time.sleep(0.5)

    statuses = list(dict.fromkeys(s[0] for s in samples))
    elapsed = list(dict.fromkeys(s[1] for s in samples if s[2] == "watching"))
    # The status moved after the cells had run: only the ticker thread sets it then.
    assert len(statuses) >= 3, f"the status barely moved from {first_status!r}: {statuses}"
    assert statuses[-1] == "COMPLETED_ANALYSIS", statuses
    expect(page.locator(f"{WATCHER} .twyn-word")).to_have_text("done")
    # The board's rows arrive as custom messages, one changed row at a time.
    expect(page.locator(f"{BOARD} .twyn-counts")).to_have_text(
        "2 simulations: 0 running, 1 done, 1 failed"
    )
    expect(page.locator(f"{BOARD} tr.twyn-row[data-state='failed']")).to_have_count(1)
    # The browser ticks the readout on its own while the run goes on.
    assert len(elapsed) >= 2, elapsed


def test_marimo_view_is_styled_inside_its_shadow_root(
    marimo_server: MarimoServer, page: Page
) -> None:
    page.goto(marimo_server.base_url)
    track = page.locator(f"{WATCHER} .twyn-track")
    track.wait_for(state="attached", timeout=30_000)
    # marimo draws each widget in a shadow root: a <style> in the document's head does not
    # reach it, and the bar (a styled empty div) would be 0 px high, invisible.
    height = track.evaluate("el => getComputedStyle(el).height")
    assert height not in ("0px", "auto"), f"the bar's track is {height} high: no style inside"
