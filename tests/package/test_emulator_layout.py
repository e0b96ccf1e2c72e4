"""The emulator's layout: its surface is its only public face, and its parts import one way.

Read from the source (``ast``, with the import graph's reader), every import counted: at
any depth and under ``if TYPE_CHECKING`` too, since a type-only import still ties two parts.
"""

from __future__ import annotations

import ast
import types
from pathlib import Path

import twyn_widgets.emulator as emulator

from .test_import_graph import imports_of, is_type_checking, module_name

EMULATOR = Path(__file__).resolve().parents[2] / "twyn_widgets" / "emulator"
PACKAGE = "twyn_widgets.emulator"
PARTS = ["_domain", "_guard", "_control", "_http", "_runtime"]
"""The emulator's parts, in import order: each may import only the parts before it."""
WEB = {"fastapi", "starlette", "uvicorn", "pydantic", "requests", "h11"}


def modules() -> dict[str, Path]:
    return {module_name(path, EMULATOR.parent): path for path in EMULATOR.rglob("*.py")}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The emulator modules ``path`` imports (a part's package stands for its front)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and is_type_checking(node):
            node.test = ast.Constant(True)  # counted: a type-only import still ties two parts
    return imports_of(tree, name, path.name == "__init__.py", known)


def outside_imports(path: Path) -> set[str]:
    """The top-level names of the absolute imports in ``path`` (``fastapi``, ``json``...)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def part_of(name: str) -> str | None:
    """The part a module belongs to (``_domain``...), or ``None`` for the package's top."""
    rest = name.removeprefix(PACKAGE + ".").split(".")
    return rest[0] if name != PACKAGE and rest[0] in PARTS else None


def test_the_emulator_shows_only_its_surface() -> None:
    assert sorted(emulator.__all__) == sorted(
        ["start", "Emulator", "EmulatorError", "FAULT_KINDS", "create_app"]
    )
    public = {
        name
        for name, value in vars(emulator).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert public == set(emulator.__all__)
    # No public module or sub-package: every path below the package is private, but for
    # the package's own ``__init__`` and its command line ``__main__``.
    paths = [path.relative_to(EMULATOR) for path in EMULATOR.rglob("*.py")]
    assert len(paths) > 30, paths  # the walk saw the modules
    public_paths = [p for p in paths if any(not part.startswith("_") for part in p.parts)]
    assert public_paths == []


def test_each_part_imports_only_the_parts_before_it_through_their_front() -> None:
    found = modules()
    known = set(found)
    assert {part_of(name) for name in found} == {None, *PARTS}
    wrong: list[str] = []
    crossings = 0
    for name, path in sorted(found.items()):
        mine = part_of(name)
        allowed = PARTS if mine is None else PARTS[: PARTS.index(mine)]
        for target in imports(name, path, known):
            other = part_of(target)
            if other is None and mine is not None:
                wrong.append(f"{name} imports {target}, the package's top")
            if other is None or other == mine:
                continue
            crossings += 1
            if other not in allowed:
                wrong.append(f"{name} imports {target}: {other} comes after {mine}")
            elif target != f"{PACKAGE}.{other}":
                wrong.append(f"{name} imports {target}, not {other}'s front")
    assert crossings > 20  # the walk saw the imports between parts
    assert wrong == []


def test_the_domain_imports_no_other_part_and_no_web_framework() -> None:
    found = modules()
    domain = {name: path for name, path in found.items() if part_of(name) == "_domain"}
    assert f"{PACKAGE}._domain._state" in domain
    for name, path in domain.items():
        assert outside_imports(path) & WEB == set(), name
        for target in imports(name, path, set(found)):
            assert part_of(target) == "_domain", f"{name} imports {target}"
