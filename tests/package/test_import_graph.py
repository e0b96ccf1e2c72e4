"""No import cycle in the package, counting imports inside functions (``TYPE_CHECKING`` aside)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "twyn_widgets"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(tree: ast.AST, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """Every package module ``tree`` imports, at any depth except under ``if TYPE_CHECKING``."""
    found: set[str] = set()
    package = name if is_package else name.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from . import errors`` imports the module errors (its package is a parent,
            # imported first in any case); ``from .models import Status`` imports models.
            submodules = {f"{target}.{alias.name}" for alias in node.names} & modules
            found.update(submodules or {target})
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in modules}


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    modules = set(files)
    return {
        name: imports_of(ast.parse(path.read_text()), name, path.name == "__init__.py", modules)
        - {name}
        for name, path in files.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that starts and ends on the same module, or ``None``."""
    done: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()

    def walk(node: str) -> list[str] | None:
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_stack:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in done:
                cycle = walk(nxt)
                if cycle:
                    return cycle
        stack.pop()
        on_stack.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = walk(start)
            if cycle:
                return cycle
    return None


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "twyn_widgets.polling._engine" in graph  # the walk saw the package
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_polling_layer_never_imports_the_client() -> None:
    graph = import_graph()
    polling = {m for m in graph if m.startswith("twyn_widgets.polling")}
    for module in polling:
        assert "twyn_widgets.client" not in graph[module], module


def test_the_emulated_content_depends_on_no_client_code() -> None:
    # The emulator designs configs, metrics and reports from the prompt alone: what it
    # reaches, at any depth, stays inside the emulator package.
    graph = import_graph()
    reached: set[str] = set()
    todo = [f"twyn_widgets.emulator._domain._{name}" for name in ("content", "metrics", "analysis")]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(graph[module])
    assert "twyn_widgets.emulator._domain._asks" in reached
    assert {m for m in reached if not m.startswith("twyn_widgets.emulator.")} == set()


@pytest.mark.parametrize(
    ("source", "cycle"),
    [
        ("def f():\n    from .b import x\n", True),  # an import hidden in a function counts
        ("from . import b\n", True),
        ("if TYPE_CHECKING:\n    from .b import x\n", False),
        ("import json\n", False),
    ],
)
def test_the_cycle_finder_sees_imports_in_functions_but_not_type_checking(
    tmp_path: Path, source: str, cycle: bool
) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(source)
    (pkg / "b.py").write_text("from .a import y\n")
    found = find_cycle(import_graph(pkg))
    assert (found is not None) is cycle, found
