"""Fresh copies of this checkout and brand-new virtual environments, as a new user gets them.

A copy holds exactly the files git would give a fresh clone of the working tree (tracked and
new, never ignored ones), so a test here sees what a clone sees, uncommitted edits included.
Each venv is made with ``python -m venv`` from the interpreter running the tests and sees no
package of that interpreter.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fresh_copy(dest: Path) -> Path:
    """Copy the checkout's files (as a clone would have them) into ``dest``; return ``dest``."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted in the working tree is not in a clone either
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def fresh_venv(path: Path) -> dict[str, str]:
    """Make a brand-new venv at ``path``; return the environment that "activates" it."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return venv_env(path)


def venv_env(path: Path) -> dict[str, str]:
    """The environment that "activates" the venv at ``path``, without this interpreter's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        # The tests' own interpreter and checkout must not leak into the new venv.
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV"}
    }
    env["VIRTUAL_ENV"] = str(path)
    env["PATH"] = os.pathsep.join([str(path / "bin"), env.get("PATH", "")])
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def readme_commands(readme: Path) -> list[str]:
    """The README's ```bash blocks, in order (the first two are the run and test commands)."""
    return [
        block.strip()
        for block in re.findall(r"```bash\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    ]


def venv_python(path: Path) -> str:
    """The venv's interpreter."""
    return str(path / "bin" / "python")


__all__ = ["ROOT", "fresh_copy", "fresh_venv", "readme_commands", "venv_env", "venv_python"]
