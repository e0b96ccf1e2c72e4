"""The README's first command, exactly as written, on a fresh copy in a brand-new venv."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.firstrun.checkout import fresh_copy, fresh_venv, readme_commands, venv_env

pytestmark = pytest.mark.firstrun

URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab\?token=([0-9a-f]+)")


def _wait_for_url(proc: subprocess.Popen[bytes], log: Path, timeout: float) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = URL.search(log.read_text(errors="replace"))
        if found:
            return int(found.group(1)), found.group(2)
        if proc.poll() is not None:
            pytest.fail(
                f"the first command ended with {proc.returncode}:\n{log.read_text()[-4000:]}"
            )
        time.sleep(0.5)
    pytest.fail(f"no JupyterLab URL after {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def _status_once_listening(
    proc: subprocess.Popen[bytes], log: Path, port: int, token: str, timeout: float
) -> object:
    """``GET /api/status`` as soon as the server listens on ``port``.

    Why retry a refused connection: Jupyter Server 2.21 prints its URL before it listens (the
    bind is the first callback of its event loop, which starts after the URL is logged), so a
    client as quick as this test can be refused for a moment; a person at a browser never is.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _api(port, token, "GET", "/api/status")
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError):
                raise
            if proc.poll() is not None:
                pytest.fail(
                    f"the server ended with {proc.returncode} after printing its URL:\n"
                    f"{log.read_text(errors='replace')[-4000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"nothing listens on port {port} {timeout:.0f} s after the URL was printed:\n"
                    f"{log.read_text(errors='replace')[-4000:]}"
                )
        time.sleep(0.2)


def _api(port: int, token: str, method: str, path: str) -> object:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        headers={"Authorization": f"token {token}"},
        data=b"{}" if method == "POST" else None,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status in (200, 201)
        return json.loads(response.read())


NOBODY = 65534
"""The unprivileged user (``nobody``) the command also runs as when the suite runs as root."""
SYSTEM_PYTHON = Path("/usr/bin/python3")
"""An interpreter any user can run: the tests' own may live where only root can read (pyenv)."""


def _as_nobody(base: Path) -> tuple[Path, dict[str, str], list[str]]:
    """A fresh copy and venv owned by ``nobody`` in ``base``, and the prefix that runs as it."""
    assert SYSTEM_PYTHON.is_file(), f"{SYSTEM_PYTHON} is needed to run as an unprivileged user"
    checkout = fresh_copy(base / "clone")
    for folder in (base / "home", base / "runtime"):
        folder.mkdir()
    for path in [base, *base.rglob("*")]:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    subprocess.run(
        [*prefix, str(SYSTEM_PYTHON), "-m", "venv", str(base / "venv")], check=True, cwd=base
    )
    env = venv_env(base / "venv")
    env.update(
        HOME=str(base / "home"),
        USER="nobody",
        LOGNAME="nobody",
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
    )
    return checkout, env, prefix


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary folder that another user can be let into.

    Why not ``tmp_path``: pytest makes its base folder 0700 for root, so nobody cannot enter it.
    """
    base = Path(tempfile.mkdtemp(prefix="twyn-firstrun-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.timeout(1500)
@pytest.mark.parametrize("who", ["this user", "an unprivileged user"])
def test_readme_first_command_serves_jupyterlab_and_one_ctrl_c_ends_everything(
    tmp_path: Path, open_tmp: Path, who: str
) -> None:
    prefix: list[str] = []
    if who == "an unprivileged user" and os.geteuid() == 0:
        checkout, env, prefix = _as_nobody(open_tmp)
    else:
        # Not root: this user is the unprivileged one, and both cases run as it.
        checkout = fresh_copy(tmp_path / "clone")
        env = fresh_venv(tmp_path / "venv")
        env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")  # keep the user's runtime clean
    command = readme_commands(checkout / "README.md")[0]
    log = tmp_path / "first-command.log"
    # Why a terminal on stdin: Jupyter treats Ctrl-C differently there (it asks "Shut down this
    # Jupyter server (y/[n])?" and goes on running without an answer), as a user's shell has.
    terminal, terminal_end = pty.openpty()
    with log.open("wb") as out:
        # Why a new session: Ctrl-C in a terminal signals the whole foreground process group;
        # the test does the same to this group, and to nothing of its own.
        proc = subprocess.Popen(
            [*prefix, "bash", "-c", command],
            cwd=checkout,
            env=env,
            stdin=terminal_end,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    os.close(terminal_end)
    try:
        port, token = _wait_for_url(proc, log, timeout=1200)
        status = _status_once_listening(proc, log, port, token, timeout=60)
        assert isinstance(status, dict)
        assert "started" in status
        kernel = _api(port, token, "POST", "/api/kernels")  # something for Ctrl-C to clean up
        assert isinstance(kernel, dict)
        started = psutil.Process(proc.pid).children(recursive=True)
        kernels = [p for p in started if "ipykernel" in " ".join(p.cmdline())]
        assert kernels, [p.cmdline() for p in started]
        if prefix:  # the server and its kernel really run as that user, not as root
            assert {p.uids().effective for p in started} == {NOBODY}
        text = log.read_text(errors="replace")
        assert "local Twyn emulator" in text  # the command says what the notebooks talk to

        os.killpg(proc.pid, signal.SIGINT)  # one Ctrl-C
        proc.wait(timeout=60)
        _, alive = psutil.wait_procs(started, timeout=30)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(terminal)
