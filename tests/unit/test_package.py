"""The package's surface and hygiene: light import, complete ``__all__``, lint and types."""

from __future__ import annotations

import subprocess
import sys
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
