"""The example notebooks: a reading order, a "Next:" link at the end of each, and real charts.

The notebooks promising charts are executed as a reader would run them (nbclient, a fresh
``python3`` kernel, offline on the embedded emulator) and must produce ``image/png`` outputs;
the rest of this file only reads the files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

ORDER = [
    "quickstart",
    "wait-magic",
    "many-simulations",
    "launch-and-sweep",
    "schedules-and-rate-limits",
    "errors-and-retries",
]
"""The reading order: the README's table, "Notebook N of 6" and the "Next:" links follow it."""

WITH_CHARTS = ["quickstart", "many-simulations", "launch-and-sweep", "schedules-and-rate-limits"]
"""The notebooks that promise charts."""

MAX_BYTES = 300_000

LINK = re.compile(r"\[[^\]]+\]\(([^)#\s]+)(?:#[^)\s]*)?\)")
KEY_LIKE = re.compile(r"twyn_(?:live|test)_[0-9A-Za-z]{8,}|\b[0-9a-f]{64}\b")


def _read(name: str) -> Any:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def test_the_notebooks_folder_holds_exactly_the_reading_order() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(ORDER)


@pytest.mark.parametrize(("number", "name"), list(enumerate(ORDER, start=1)))
def test_each_notebook_says_its_place_first_and_links_the_next_last(number: int, name: str) -> None:
    cells = _read(name).cells
    first, last = cells[0], cells[-1]
    assert first.cell_type == "markdown"
    assert f"Notebook {number} of {len(ORDER)}" in first.source
    assert last.cell_type == "markdown"
    assert last.source.startswith("Next:"), last.source
    targets = LINK.findall(last.source)
    expected = f"{ORDER[number]}.ipynb" if number < len(ORDER) else f"{ORDER[0]}.ipynb"
    assert targets[0] == expected, last.source
    for target in targets:
        assert (NOTEBOOKS / target).is_file(), target


def test_readme_table_lists_every_notebook_in_reading_order() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| *(\d+) *\| *\[[^\]]+\]\(notebooks/([^)]+)\.ipynb\) *\|", readme, re.M)
    assert rows == [(str(n), name) for n, name in enumerate(ORDER, start=1)]


@pytest.mark.parametrize("name", ORDER)
def test_notebooks_are_committed_small_without_outputs_or_secrets(name: str) -> None:
    path = NOTEBOOKS / f"{name}.ipynb"
    assert path.stat().st_size < MAX_BYTES
    text = path.read_text(encoding="utf-8")
    assert not KEY_LIKE.search(text)
    for cell in _read(name).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], cell.source
            assert cell.execution_count is None, cell.source


@pytest.mark.parametrize("name", ORDER)
def test_notebooks_export_to_python_scripts(name: str) -> None:
    """``jupyter nbconvert --to script`` writes ``.py``: it reads ``language_info``, which a
    notebook saved without a kernel lacks (it wrote ``.txt`` files)."""
    from nbconvert import ScriptExporter

    _, resources = ScriptExporter().from_notebook_node(_read(name))
    assert resources["output_extension"] == ".py"


def _images(book: Any) -> list[int]:
    """Indexes of the code cells that output a PNG image."""
    return [
        index
        for index, cell in enumerate(book.cells)
        if cell.cell_type == "code"
        and any("image/png" in output.get("data", {}) for output in cell.outputs)
    ]


@pytest.mark.kernel
@pytest.mark.parametrize("name", WITH_CHARTS)
def test_notebooks_promising_charts_draw_png_images(name: str, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    book = _read(name)
    NotebookClient(
        book, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    images = _images(book)
    assert images, f"{name} shows no image/png output"
