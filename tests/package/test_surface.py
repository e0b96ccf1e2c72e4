"""The curated public surface: complete ``__all__`` lists, and real types behind lazy names."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import twyn_widgets

ROOT = Path(__file__).resolve().parents[2]


def public_names(module: types.ModuleType) -> set[str]:
    """Every public name a module defines or imports, plus its lazy ones; not its submodules.

    Read from the module's namespace, not ``dir()``: the package's ``__dir__`` answers
    ``__all__`` itself, which would make the check below pass whatever ``__all__`` holds.
    """
    names = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "TYPE_CHECKING", "Any"}
    }
    return names | set(getattr(module, "_LAZY", {}))


@pytest.mark.parametrize("name", ["twyn_widgets", "twyn_widgets.polling"])
def test_every_public_name_is_in_all_and_every_name_in_all_resolves(name: str) -> None:
    module = importlib.import_module(name)
    missing = public_names(module) - set(module.__all__)
    assert not missing, f"public but not in {name}.__all__: {sorted(missing)}"
    for exported in module.__all__:
        assert getattr(module, exported) is not None, exported


def test_watch_state_and_snapshot_are_exported_at_the_top_level() -> None:
    assert twyn_widgets.WatchState.SUCCEEDED.is_final
    assert twyn_widgets.WatchSnapshot("s").state is twyn_widgets.WatchState.WATCHING


def test_polling_exports_only_the_schedules_and_the_watch_types() -> None:
    polling = importlib.import_module("twyn_widgets.polling")
    assert set(polling.__all__) == {
        "Backoff", "Fixed", "PhaseAware", "PollContext", "Schedule",
        "Watch", "WatchSnapshot", "WatchState",
    }  # fmt: skip


def test_internal_modules_are_private() -> None:
    package = ROOT / "twyn_widgets"
    public = {"client.py", "models.py", "errors.py", "magics.py"}
    paths = [*package.glob("*.py"), *(package / "polling").glob("*.py")]
    assert {p.name for p in paths if not p.name.startswith("_")} == public


LAZY = sorted(twyn_widgets._LAZY)


def test_mypy_sees_the_real_type_of_every_lazy_name(tmp_path: Path) -> None:
    program = tmp_path / "reveal.py"
    program.write_text(
        "import twyn_widgets as tw\n" + "".join(f"reveal_type(tw.{n})\n" for n in LAZY)
    )
    config = tmp_path / "mypy.ini"  # not the project's: it names the package to check
    config.write_text("[mypy]\nfollow_imports = silent\n")
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config),
         str(program)],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    revealed = re.findall(r'Revealed type is "(.*)"', out.stdout)
    assert len(revealed) == len(LAZY), out.stdout + out.stderr
    for name, shown in zip(LAZY, revealed, strict=True):
        # A class shows as its constructor, ``def (...) -> ...SimulationWatcher``.
        assert shown != "Any", f"tw.{name} is Any to mypy"
        if name[0].islower():  # a function shows as its signature, which names no name
            assert shown.startswith("def ("), f"tw.{name} is {shown}"
            continue
        assert re.search(rf"(-> |^def |^)[\w.]*\b{name}\b", shown), f"tw.{name} is {shown}"


@pytest.mark.parametrize("name", ["SimulationWatcher", "SimulationBoard", "SimulationLauncher"])
def test_help_of_a_widget_is_short_and_shows_no_doctest_markers(name: str) -> None:
    """``help(tw.SimulationWatcher)`` ran to 529 lines of ipywidgets' own members: a widget is a
    plain object that owns its browser view, so help shows what a user calls."""
    import pydoc

    text = pydoc.render_doc(getattr(twyn_widgets, name), renderer=pydoc.plaintext)
    assert text.count("\n") <= 160, text.count("\n")
    assert "inherited from ipywidgets" not in text


def test_no_public_class_shows_doctest_markers_in_help() -> None:
    import inspect
    import pydoc

    for name in twyn_widgets.__all__:
        value = getattr(twyn_widgets, name)
        if inspect.isclass(value):
            assert "doctest:" not in pydoc.render_doc(value, renderer=pydoc.plaintext), name
