"""Serve one notebook with Voila (``python -m voila``) and open it in a page, for browser tests.

Voila turns a notebook into a page without code: it starts a kernel per page load, runs every
cell, and only then sends the page; widgets then connect to that kernel. Pitfalls handled here:

- Voila answers every path it does not know with a redirect to ``/voila/files/<path>`` (a 404
  there): ``/api/status`` does not tell whether it is up. :meth:`VoilaServer.answers` asks for
  one of its own static files instead, which starts no kernel (``/`` would run the notebook).
- Given a busy port, Voila silently serves on the next one; ``--Voila.port_retries=0`` makes it
  exit instead, and :func:`~.harness.spawn_server` tries another free port.
- Served from a temporary copy, so nothing a run writes next to the notebook reaches the repo.
"""

from __future__ import annotations

import functools
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from playwright.sync_api import Page

from .harness import ServerProcess, find_notebook, isolated_env, spawn_server

#: One of Voila's own static files: answered as soon as the server is up, with no kernel.
_PROBE_PATH = "/voila/static/voila.js"


@dataclass
class VoilaServer(ServerProcess):
    """A running ``python -m voila <notebook>`` started by :func:`start_voila_server`."""

    kind: ClassVar[str] = "voila"

    notebook: str

    @property
    def url(self) -> str:
        """The page: each load starts a kernel and runs every cell of :attr:`notebook`."""
        return f"{self.base_url}/"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}{_PROBE_PATH}", timeout=2.0) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False


#: ``voila_server_factory(notebook, env=None) -> VoilaServer`` (a fixture).
VoilaServerFactory = Callable[..., VoilaServer]


def start_voila_server(
    base_dir: Path,
    notebook: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    startup_timeout: float = 60.0,
) -> VoilaServer:
    """Serve a fresh copy of ``notebook`` with Voila on a free port; wait until it answers.

    Parameters
    ----------
    base_dir
        An empty directory for this server: the served copy, config, runtime files and the log.
    notebook
        A file name in ``tests/browser/notebooks/``, or a path.
    env
        Extra environment variables for the server, and so for every kernel it starts.
    startup_timeout
        Seconds to wait for the server to answer.
    """
    root_dir = base_dir / "root"
    root_dir.mkdir(parents=True, exist_ok=True)
    source = find_notebook(notebook)
    shutil.copyfile(source, root_dir / source.name)
    options = [
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        # Why: a cell that raises then shows its traceback in the page (and the failure
        # screenshot), not only "There was an error when executing cell".
        "--show_tracebacks=True",
        source.name,
    ]
    return spawn_server(
        ["voila", *options],
        functools.partial(VoilaServer, notebook=source.name),
        base_dir=base_dir,
        root_dir=root_dir,
        server_env={**isolated_env(base_dir), **(env or {})},
        env=env,
        startup_timeout=startup_timeout,
    )


def open_voila(page: Page, server: VoilaServer, ready: str, timeout: float = 60_000) -> float:
    """Load the dashboard and wait until ``ready`` (a selector) is visible; return the seconds
    that took.

    Voila sends the page only once every cell has run, so this covers starting a kernel and
    running the notebook, then the widgets connecting and rendering.
    """
    start = time.monotonic()
    page.goto(server.url, wait_until="domcontentloaded", timeout=timeout)
    try:
        page.locator(ready).first.wait_for(state="visible", timeout=timeout)
    except Exception as exc:
        shown = page.locator("body").inner_text()[-2_000:]
        raise AssertionError(
            f"{ready!r} not visible in the Voila page after {timeout / 1000:.0f} s; "
            f"the page shows:\n{shown}\nserver log:\n{server.read_log(max_chars=4_000)}"
        ) from exc
    return time.monotonic() - start
