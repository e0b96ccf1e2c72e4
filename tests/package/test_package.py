"""The package's surface and hygiene: light import, complete ``__all__``, lint and types."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import twyn_widgets

ROOT = Path(__file__).resolve().parents[2]


def test_import_is_light_and_never_loads_the_emulator_stack() -> None:
    code = (
        "import sys, twyn_widgets\n"
        "names = ('fastapi', 'uvicorn', 'starlette', 'ipywidgets', 'pandas', 'matplotlib')\n"
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


def test_emulator_is_an_attribute_loaded_on_first_use() -> None:
    code = (
        "import sys, twyn_widgets as tw\n"
        "assert 'fastapi' not in sys.modules\n"
        "start = tw.emulator.start\n"
        "print(start.__module__, 'fastapi' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["twyn_widgets.emulator._runtime._server", "True"]


def test_emulator_without_its_extra_names_the_extra() -> None:
    # FastAPI made unimportable, as on an install without the extra.
    out = run_without(
        "fastapi",
        "import twyn_widgets as tw\n"
        "try:\n"
        "    tw.emulator\n"
        "except ImportError as exc:\n"
        "    print(exc)\n",
    )
    assert "pip install 'twyn-widgets[emulator]'" in out
    assert "fastapi" in out


def run_without(module: str, code: str) -> str:
    """Run ``code`` in a fresh interpreter where ``module`` cannot be imported; its output."""
    script = f"import sys\nsys.modules[{module!r}] = None\n{code}"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


FRAMES = (
    "import twyn_widgets as tw\n"
    "from tests.docs_examples import RESULTS\n"
    "result = tw.SimulationResult.from_json(RESULTS)\n"
)


@pytest.mark.parametrize(
    "call", ["result.to_frame()", "result.metrics.to_frame()", "tw.compare([result])"]
)
def test_frames_without_pandas_name_the_extra(call: str) -> None:
    code = f"{FRAMES}try:\n    {call}\nexcept ImportError as exc:\n    print(exc)\n"
    out = run_without("pandas", code)
    assert "pip install 'twyn-widgets[pandas]'" in out
    assert "needs pandas" in out


def test_final_values_and_reprs_need_no_pandas() -> None:
    code = f"{FRAMES}print(tw.final_values([result]))\nprint(repr(result))\n"
    out = run_without("pandas", code)
    assert "'customers/churn': 0.05" in out
    assert out.splitlines()[1].startswith("SimulationResult(id=")


def test_plot_metric_without_matplotlib_names_the_extra() -> None:
    code = (
        f"{FRAMES}try:\n    tw.plot_metric([result], 'customers/churn')\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    out = run_without("matplotlib", code)
    assert "pip install 'twyn-widgets[notebooks]'" in out
    assert "matplotlib" in out


def test_pandas_is_an_extra_inside_the_notebooks_and_test_extras() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    core = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "pandas" not in core
    assert re.search(r'^pandas = \[\s*"pandas>=', text, re.MULTILINE)
    for extra in ("notebooks", "test"):
        block = text.split(f"{extra} = [", 1)[1].split("]\n", 1)[0]
        assert re.search(r'"twyn-widgets\[[a-z,]*pandas[a-z,]*\]"', block), extra


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


def test_binder_requirements_name_every_dependency_of_the_package() -> None:
    """postBuild installs the package with ``--no-deps``: binder/requirements.txt must bring
    every core and emulator dependency itself (anywidget was once missing there)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["emulator"]]
    names = {re.split(r"[<>=!\[ ]", dep, maxsplit=1)[0].lower() for dep in wanted}
    lines = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    listed = {
        re.split(r"[<>=!\[ ]", line, maxsplit=1)[0].lower()
        for line in lines
        if line.strip() and not line.startswith(("#", "-"))
    }
    assert names <= listed, sorted(names - listed)
