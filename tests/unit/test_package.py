"""The package's surface and hygiene: light import, complete ``__all__``, lint and types."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import twyn_widgets

ROOT = Path(__file__).resolve().parents[2]


def test_import_is_light_and_never_loads_the_emulator_stack() -> None:
    code = (
        "import sys, twyn_widgets\n"
        "names = ('fastapi', 'uvicorn', 'starlette', 'ipywidgets')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_lists_every_public_name_and_each_resolves() -> None:
    public = {
        name
        for name in dir(twyn_widgets)
        if not name.startswith("_")
        and not isinstance(getattr(twyn_widgets, name), types.ModuleType)
    }
    assert public <= set(twyn_widgets.__all__)
    for name in twyn_widgets.__all__:
        assert getattr(twyn_widgets, name) is not None, name


def test_errors_share_one_root() -> None:
    for name in twyn_widgets.__all__:
        obj = getattr(twyn_widgets, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, twyn_widgets.TwynError), name


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_code_is_clean(command: list[str]) -> None:
    out = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_emulator_is_an_attribute_loaded_on_first_use() -> None:
    code = (
        "import sys, twyn_widgets as tw\n"
        "assert 'fastapi' not in sys.modules\n"
        "start = tw.emulator.start\n"
        "print(start.__module__, 'fastapi' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["twyn_widgets.emulator.server", "True"]


def test_emulator_without_its_extra_names_the_extra() -> None:
    # FastAPI made unimportable, as on an install without the extra.
    code = (
        "import sys\n"
        "sys.modules['fastapi'] = None\n"
        "import twyn_widgets as tw\n"
        "try:\n"
        "    tw.emulator\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "pip install 'twyn-widgets[emulator]'" in out.stdout
    assert "fastapi" in out.stdout


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'emulater'"):
        twyn_widgets.emulater  # noqa: B018


def test_readme_names_every_notebook_and_shows_committed_pictures() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for name in notebooks:
        assert f"](notebooks/{name})" in readme, f"README's notebook table misses {name}"
    pictures = re.findall(r"!\[[^\]]+\]\(([^)]+\.png)\)", readme)
    assert len(pictures) >= 3
    for picture in pictures:
        path = ROOT / picture
        assert path.is_file(), picture
        assert path.stat().st_size < 200_000, f"{picture} is too large for a README picture"
