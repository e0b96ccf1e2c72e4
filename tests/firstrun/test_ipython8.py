"""The package supports IPython 8 as well as the IPython 9 the constraints pin.

A brand-new venv with ``ipython<9`` type-checks the package with the pinned mypy and runs the
magics' tests, so neither the typing nor the magics silently need IPython 9.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.firstrun.checkout import ROOT, fresh_copy, fresh_venv

pytestmark = pytest.mark.firstrun


def _pinned(name: str) -> str:
    text = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    found = re.search(rf"^{re.escape(name)}==(\S+)$", text, re.M | re.I)
    assert found, f"{name} is not pinned in constraints.txt"
    return f"{name}=={found.group(1)}"


@pytest.mark.timeout(1500)
def test_ipython_8_type_checks_and_runs_the_magics(tmp_path: Path) -> None:
    checkout = fresh_copy(tmp_path / "repo")
    env = fresh_venv(tmp_path / "venv")
    install = [
        "python", "-m", "pip", "install", "-q", "-e", ".[emulator]", "ipython>=8,<9",
        _pinned("mypy"), _pinned("types-requests"), "pytest", "pytest-timeout", "hypothesis",
        # What mypy needs to see the optional features' types (frames, plots, the report).
        _pinned("pandas-stubs"), _pinned("matplotlib"), _pinned("markdown-it-py"),
    ]  # fmt: skip
    done = subprocess.run(install, cwd=checkout, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=checkout, env=env, capture_output=True, text=True)

    version = run("python", "-c", "import IPython; print(IPython.__version__)")
    assert version.stdout.startswith("8."), version.stdout + version.stderr
    typing = run("python", "-m", "mypy")
    assert typing.returncode == 0, typing.stdout + typing.stderr
    magics = run(
        "python", "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
        "tests/integration/test_magics.py",
    )  # fmt: skip
    assert magics.returncode == 0, magics.stdout[-5000:] + magics.stderr[-3000:]
    assert " passed" in magics.stdout
