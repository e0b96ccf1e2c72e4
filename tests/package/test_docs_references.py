"""Every test that docs/reliability.md names as a proof exists under that name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"^(?:(?P<path>(?:tests/[\w/]+/)?test_\w+\.py))?(?:::)?(?P<name>test_\w+)?")


def _tests_by_file() -> dict[Path, set[str]]:
    found = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found[path.relative_to(ROOT)] = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test")
        }
    return found


def unresolved(text: str, tests: dict[Path, set[str]]) -> list[str]:
    """The test references in ``text`` (code spans naming a test) that name no existing test."""
    missing = []
    for span in re.findall(r"`([^`]*test_[^`]*)`", text):
        match = REFERENCE.match(span)
        assert match is not None  # every part of the pattern is optional
        path, name = match["path"], match["name"]
        if path is None and name is None:
            missing.append(span)
            continue
        files = [
            file
            for file in tests
            if path is None or (str(file) == path if "/" in path else file.name == path)
        ]
        if not files or (name is not None and not any(name in tests[f] for f in files)):
            missing.append(span)
    return missing


def test_every_test_reliability_md_names_exists() -> None:
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    tests = _tests_by_file()
    assert len(re.findall(r"`[^`]*test_[^`]*`", text)) > 50  # the table was read at all
    assert unresolved(text, tests) == []


def test_a_renamed_or_moved_test_is_reported() -> None:
    tests = {Path("tests/unit/test_core.py"): {"test_one"}}
    assert unresolved("`tests/unit/test_core.py::test_one`, `test_core.py::test_one`", tests) == []
    assert unresolved("`test_core.py::test_two`", tests) == ["test_core.py::test_two"]
    assert unresolved("`tests/package/test_core.py::test_one`", tests) == [
        "tests/package/test_core.py::test_one"
    ]
    assert unresolved("`test_other.py::test_one`", tests) == ["test_other.py::test_one"]
