"""Binder's recipe (requirements, postBuild, start) installs and runs the quickstart."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.firstrun.checkout import fresh_copy, fresh_venv

pytestmark = pytest.mark.firstrun


@pytest.mark.timeout(1500)
def test_binder_files_install_and_run_the_quickstart_under_nbval(tmp_path: Path) -> None:
    checkout = fresh_copy(tmp_path / "repo")
    env = fresh_venv(tmp_path / "venv")
    # What repo2docker does: install the requirements, then run postBuild from the repo root.
    steps = [
        ["python", "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
        ["bash", "binder/postBuild"],
        # The test tools are ours, not Binder's.
        ["python", "-m", "pip", "install", "-q", "nbval", "pytest", "pytest-timeout"],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=checkout, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{step}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    env["TWYN_EMULATOR_SPEED"] = "120"  # binder/start keeps a speed that is set
    # Why addopts reduced to nbval's: the suite's own options start parallel workers, and
    # Binder has no pytest-xdist.
    run = subprocess.run(
        ["bash", "binder/start", "python", "-m", "pytest", "-p", "no:cacheprovider",
         "-o", "addopts=--nbval-lax", "notebooks/quickstart.ipynb"],
        cwd=checkout, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]
    assert " passed" in run.stdout
    assert "failed" not in run.stdout
