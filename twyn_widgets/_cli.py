"""``python -m twyn_widgets lab``: JupyterLab on the example notebooks, for anyone, anywhere.

The one command a new user runs. It opens ``notebooks/quickstart.ipynb`` (the checkout's, or a
copy of the notebooks shipped in the wheel) in JupyterLab; without ``TWYN_API_KEY`` the
notebooks' ``tw.connect()`` starts the local emulator in the kernel. It works as root (cloud
notebook images, containers, CI boxes run as root, and JupyterLab refuses root without
``--allow-root``), prints the URL with its token on a headless machine, and one Ctrl-C ends the
server and its kernels.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["find_notebooks", "lab_command", "main"]

NOTEBOOKS = "notebooks"
FIRST_NOTEBOOK = "quickstart.ipynb"
COPY_DIR = "twyn-widgets-notebooks"
"""Where the wheel's notebooks are copied when there is no checkout: the user's own folder."""


def find_notebooks(cwd: Path) -> Path:
    """The folder of example notebooks to open.

    The checkout's ``notebooks/`` when run from it (or its parent holds the package), else a
    copy of the notebooks that a wheel ships, made once in ``./twyn-widgets-notebooks``: a
    server must never autosave outputs into ``site-packages``.

    Raises
    ------
    FileNotFoundError
        No notebooks are found anywhere.
    """
    package_dir = Path(__file__).resolve().parent
    for candidate in (cwd / NOTEBOOKS, package_dir.parent / NOTEBOOKS):
        if (candidate / FIRST_NOTEBOOK).is_file():
            return candidate
    shipped = package_dir / NOTEBOOKS
    if (shipped / FIRST_NOTEBOOK).is_file():
        target = cwd / COPY_DIR
        if not target.exists():
            shutil.copytree(shipped, target)
        return target
    raise FileNotFoundError(
        f"no example notebooks found: run this from a twyn-widgets checkout (with {NOTEBOOKS}/)"
    )


def lab_command(
    notebooks: Path, notebook: str = FIRST_NOTEBOOK, extra: Sequence[str] = ()
) -> list[str]:
    """The ``jupyter lab`` command line that :func:`main` runs.

    Parameters
    ----------
    notebooks
        The folder to serve (JupyterLab's root directory).
    notebook
        The notebook to open, relative to ``notebooks``.
    extra
        Further JupyterLab options, appended last so they win.
    """
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        str(notebooks / notebook),
        f"--ServerApp.root_dir={notebooks}",
        # Why: on Ctrl-C in a terminal Jupyter asks "Shut down this Jupyter server (y/[n])?" and
        # goes on running after 5 s without an answer; one Ctrl-C should end it.
        "--ServerApp.answer_yes=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Why: as root JupyterLab exits at once ("Running as root is not recommended") unless
        # told; containers, cloud notebook images and CI boxes all run as root.
        command.append("--allow-root")
    return [*command, *extra]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m twyn_widgets`` and the ``twyn-widgets`` script."""
    parser = argparse.ArgumentParser(
        prog="python -m twyn_widgets",
        description="Open the twyn-widgets example notebooks in JupyterLab.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    lab = sub.add_parser(
        "lab",
        help="JupyterLab on notebooks/quickstart.ipynb (the local emulator without a key)",
        description="Any option after the notebook name is passed on to JupyterLab "
        "(for example --no-browser or --port=8890).",
    )
    lab.add_argument("notebook", nargs="?", default=FIRST_NOTEBOOK, help="notebook to open")
    args, extra = parser.parse_known_args(argv)

    if importlib.util.find_spec("jupyterlab") is None:
        print(
            "twyn-widgets: JupyterLab is not installed: pip install 'twyn-widgets[notebooks]'",
            file=sys.stderr,
        )
        return 2
    try:
        notebooks = find_notebooks(Path.cwd())
    except FileNotFoundError as exc:
        print(f"twyn-widgets: {exc}", file=sys.stderr)
        return 2
    where = (
        "the Twyn API (TWYN_API_KEY is set)"
        if os.environ.get("TWYN_API_KEY")
        else "a local Twyn emulator (no TWYN_API_KEY set)"
    )
    print(f"twyn-widgets: opening {notebooks / args.notebook} in JupyterLab against {where}")
    print("twyn-widgets: press Ctrl-C once to stop the server and its kernels", flush=True)
    command = lab_command(notebooks, args.notebook, extra)
    if os.name == "posix":
        # Why exec: the server takes this process's place, so Ctrl-C and SIGTERM reach it
        # directly and nothing is left behind to forward signals.
        os.execv(command[0], command)
    import subprocess

    return subprocess.call(command)
