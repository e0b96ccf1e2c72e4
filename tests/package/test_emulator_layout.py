"""The emulator's layout: its surface is its only public face, and its parts import one way.

Read from the source (``ast``), every import counted: at any depth and under
``if TYPE_CHECKING`` too, since a type-only import is still a dependency between parts.
"""

from __future__ import annotations

import ast
import types
from pathlib import Path

import twyn_widgets.emulator as emulator

from .test_import_graph import module_name

EMULATOR = Path(__file__).resolve().parents[2] / "twyn_widgets" / "emulator"
PACKAGE = "twyn_widgets.emulator"
PARTS = ["_domain", "_guard", "_control", "_http", "_runtime"]
"""The emulator's parts, in import order: each may import only the parts before it."""
WEB = {"fastapi", "starlette", "uvicorn", "pydantic", "requests", "h11"}


def modules() -> dict[str, Path]:
    return {module_name(path, EMULATOR.parent): path for path in EMULATOR.rglob("*.py")}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The absolute name of every module ``path`` imports (a package stands for its front)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from . import _asks`` imports a module; ``from .._domain import ApiError``
            # imports the part's front.
            submodules = {f"{target}.{alias.name}" for alias in node.names} & known
            found.update(submodules or {target})
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
            if not target.startswith(PACKAGE + ".") or other is None or other == mine:
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
        for target in imports(name, path, set(found)):
            assert target.split(".")[0] not in WEB, f"{name} imports {target}"
            if target.startswith(PACKAGE):
                assert part_of(target) == "_domain", f"{name} imports {target}"
