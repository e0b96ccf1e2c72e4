"""Take the README's pictures from a real JupyterLab in headless Chromium.

    python docs/screenshots.py [--theme light|dark] [--out docs/img]

It starts JupyterLab (with the browser tests' harness), runs a small notebook against the
embedded emulator (no key: ``tw.connect()`` starts it in the kernel) and saves, as PNG:

- ``watcher-running.png``: a watcher mid-run (bar, phase, elapsed, ETA);
- ``watcher-result.png``: the same watcher once the result is in;
- ``board.png``: a board of five simulations while some run and some have ended.

With ``--theme dark`` it saves only the board, as ``board-dark.png`` (the guide shows it).

Needs the test extra and Chromium (``/usr/bin/chromium``, or ``$TWYN_CHROMIUM``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import nbformat
from playwright.sync_api import Locator, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.harness import (  # noqa: E402 - the harness lives with the tests
    CHROMIUM_ARGS,
    LIVE_FILL,
    LIVE_WATCHER,
    chromium_path,
    open_notebook,
    package_env,
    percent,
    run_all,
    start_lab_server,
)

SPEED = "20"
"""The emulator's speed: a run takes 12-24 s, time enough to catch it mid-run."""

CELLS = [
    "import twyn_widgets as tw\n\nclient = tw.connect(quiet=True)",
    'sim = client.create_simulation(\n    "How will a 10% price increase affect churn over '
    'the next 6 months?"\n)\ntw.SimulationWatcher(sim)',
    "prompts = [\n"
    '    "Price +5% for SMB customers",\n'
    '    "Price +10% for SMB customers",\n'
    '    "Price +5% for enterprise customers",\n'
    '    "Price +10% for enterprise customers",\n'
    '    "Annual plan discount of 15%",\n'
    "]\n"
    "board = tw.SimulationBoard([client.create_simulation(p) for p in prompts])\n"
    "board",
]


def _notebook(path: Path) -> Path:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    book.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nbformat.write(book, path)
    return path


def _output(page: Page, cell: int) -> Locator:
    return page.locator(".jp-Notebook .jp-CodeCell").nth(cell).locator(".jp-OutputArea")


def _bar_percent(output: Locator) -> float:
    bars = output.locator(f"{LIVE_WATCHER} {LIVE_FILL}")
    if bars.count() == 0:
        return 0.0
    return percent(bars.first.evaluate("el => el.style.width")) or 0.0


def _wait(page: Page, predicate: object, timeout: float = 120.0, what: str = "") -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        page.wait_for_timeout(200)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")


def take(out: Path, theme: str) -> list[Path]:
    """Run the notebook in JupyterLab and save the three pictures into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        book_dir = base / "book"
        book_dir.mkdir()
        notebook = _notebook(book_dir / "readme-pictures.ipynb")
        env = {**package_env(), "TWYN_EMULATOR_SPEED": SPEED}
        server = start_lab_server(base / "lab", env=env, notebook_dirs=(book_dir,), theme=theme)
        suffix = "" if theme == "light" else f"-{theme}"
        saved: list[Path] = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=chromium_path(), headless=True, args=list(CHROMIUM_ARGS)
                )
                page = browser.new_page(viewport={"width": 1100, "height": 1400})
                open_notebook(page, server, notebook)
                run_all(page)
                watcher, board = _output(page, 1), _output(page, 2)
                _wait(page, lambda: 30 <= _bar_percent(watcher) < 90, what="the watcher mid-run")
                path = out / f"watcher-running{suffix}.png"
                if theme == "light":
                    watcher.screenshot(path=str(path))
                    saved.append(path)
                _wait(
                    page,
                    lambda: (
                        board.locator("text=/[1-9] done/").count() > 0
                        and board.locator("text=/[1-9] running/").count() > 0
                    ),
                    what="the board with some runs done and some running",
                )
                path = out / f"board{suffix}.png"
                board.screenshot(path=str(path))
                saved.append(path)
                _wait(
                    page,
                    lambda: watcher.locator(".twyn-result").count() > 0,
                    what="the watcher's result",
                )
                page.wait_for_timeout(500)  # let the charts lay out
                path = out / f"watcher-result{suffix}.png"
                if theme == "light":
                    watcher.screenshot(path=str(path))
                    saved.append(path)
                browser.close()
        finally:
            server.stop()
    return saved


def main() -> None:
    """Parse the options and take the pictures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    for path in take(args.out, args.theme):
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
              f"{path.stat().st_size // 1024} KB")  # fmt: skip


if __name__ == "__main__":
    main()
