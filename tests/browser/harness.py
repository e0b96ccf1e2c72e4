"""Drive a real JupyterLab / Notebook 7 server from pytest with Playwright.

The pieces here are plain functions and one dataclass; ``conftest.py`` wraps them in fixtures.
See ``tests/browser/README.md`` for the intended use.

Pitfalls handled here (each one cost a flaky run before):

- Kernel-ready race: right after load the toolbar's kernel indicator reads "idle" before any
  kernel exists, and a Run All then silently runs nothing. :func:`wait_kernel_ready` waits for the
  notebook panel's own ``sessionContext.session.kernel`` to be connected and idle, and
  :func:`run_all` checks that the first prompt left ``[ ]:``.
- "Idle" in the status bar can show while a cell still runs: wait on DOM content
  (:func:`wait_for_text`) instead of on kernel status.
- Kernels outlive the page: :meth:`LabServer.delete_sessions` between tests.
- The server autosaves outputs: every notebook is served from a fresh temporary copy.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypedDict, TypeVar

from playwright.sync_api import Page

if TYPE_CHECKING:
    from twyn_widgets.emulator import Emulator

HERE = Path(__file__).resolve().parent
NOTEBOOKS_DIR = HERE / "notebooks"
#: The checkout under test (its ``twyn_widgets`` is what notebooks should import).
REPO_ROOT = HERE.parent.parent

# --------------------------------------------------------------------------------------------
# Browser

CHROMIUM_ENV_VAR = "TWYN_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 900}


def chromium_path() -> str:
    """Return the Chromium executable to launch.

    ``$TWYN_CHROMIUM`` wins, then ``chromium`` on ``PATH``, then ``/usr/bin/chromium``. The path
    is not checked here: the ``browser`` fixture fails (never skips) when it does not exist.
    """
    return os.environ.get(CHROMIUM_ENV_VAR) or shutil.which("chromium") or DEFAULT_CHROMIUM


# --------------------------------------------------------------------------------------------
# Selectors (ipywidgets 8 in JupyterLab 4 and Notebook 7: the same DOM in both)

#: The moving part of a FloatProgress/IntProgress; its value shows only as ``style.width``.
PROGRESS_BAR = ".jupyter-widgets.widget-hprogress .progress .progress-bar"
#: A Label widget's own text (a bare ``.widget-label`` would also match widget descriptions).
LABEL = "div.jupyter-widgets.widget-label"
#: The rendered content of an HTML widget.
HTML_CONTENT = ".jupyter-widgets.widget-html .widget-html-content"
#: Text printed by a cell (stdout/stderr and text/plain results).
OUTPUT_TEXT = ".jp-OutputArea-output pre"
#: Any button widget.
BUTTON = "button.jupyter-widgets.jupyter-button"
#: A code cell's ``[n]:`` prompt.
INPUT_PROMPT = ".jp-CodeCell .jp-InputArea-prompt"

# twyn-widgets' own classes. Every front end of the package keeps these names, so the tests
# select by them and read what a person sees there (text, a bar's width), never widget
# internals: if a class is renamed, it changes here only.

#: A :class:`SimulationWatcher`; the API's status (``COMPLETED_ANALYSIS``), its elapsed readout
#: and its outcome word (``running``, ``done``, ``failed``, ...).
WATCHER = ".twyn-watcher"
WATCHER_STATUS = f"{WATCHER} .twyn-status"
WATCHER_ELAPSED = f"{WATCHER} .twyn-elapsed"
WATCHER_OUTCOME = f"{WATCHER} .twyn-outcome"
#: A :class:`SimulationBoard`: its counts line ("3 simulations: 1 running, ...") and its rows.
BOARD = ".twyn-board"
BOARD_COUNTS = f"{BOARD} .twyn-counts"
BOARD_ROW = f"{BOARD} .twyn-row"
#: Cells of every row, one match per row (so a recorder's match index is the row's index).
ROW_PHASE = f"{BOARD_ROW} .twyn-row-phase"
ROW_ELAPSED = f"{BOARD_ROW} .twyn-row-elapsed"
ROW_BAR = f"{BOARD_ROW} .twyn-row-bar"
ROW_OUTCOME = f"{BOARD_ROW} .twyn-row-outcome"
#: A failed row's ``error_log`` (inside :data:`ROW_OUTCOME`).
ROW_ERROR = f"{BOARD_ROW} .twyn-row-error"
#: A :class:`SimulationLauncher` (its form, then a watcher per run below it).
LAUNCHER = ".twyn-launcher"
LAUNCHED_WATCHER = f"{LAUNCHER} {WATCHER}"

# twyn-widgets' live views, drawn by the package's ES module (``twyn.js``). Once a watch ends,
# each display is replaced by the static outcome (``.twyn-static``), which keeps the classes of
# the parts it shows (``.twyn-title``, ``.twyn-status``, ``.twyn-outcome``, ``.twyn-row`` ...).

#: A live watcher (one simulation).
LIVE_WATCHER = ".twyn-watcher.twyn-live"
#: A live board (a table of simulations).
LIVE_BOARD = ".twyn-board.twyn-live"
#: The moving part of a live bar (watcher or board row); its value shows as ``style.width``.
LIVE_FILL = ".twyn-fill"

Ui = Literal["lab", "notebook7"]
T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Server


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A server the tests started (JupyterLab or Voila): its process, port, root and log.

    Its environment (and so every kernel's: a server hands its own environment to the kernels
    it starts) is the test process's, plus :attr:`env`.
    """

    #: What the server is called in error messages.
    kind: ClassVar[str] = "server"

    proc: subprocess.Popen[bytes]
    port: int
    root_dir: Path
    log_path: Path
    env: dict[str, str]
    _log_file: Any = field(default=None, repr=False, kw_only=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answers(self) -> bool:
        """Whether the server serves requests yet (a cheap request that starts no kernel)."""
        raise NotImplementedError

    # -- log & lifetime -----------------------------------------------------------------------

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def read_log(self, start: int = 0, max_chars: int = 20_000) -> str:
        """The server log from byte ``start`` on, cut to its last ``max_chars`` characters."""
        with self.log_path.open("rb") as fh:
            fh.seek(start)
            text = fh.read().decode("utf-8", "replace")
        if len(text) > max_chars:
            text = "[... cut ...]\n" + text[-max_chars:]
        return text

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the server by its PID (it shuts its kernels down), then kill after a timeout."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                # The server runs in its own process group (start_new_session): that group holds
                # only it and the kernels it started.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


@dataclass
class LabServer(ServerProcess):
    """A running ``python -m jupyterlab`` started by :func:`start_lab_server`.

    It serves both JupyterLab (``/lab``) and Notebook 7 (``/notebooks``).
    """

    kind: ClassVar[str] = "jupyterlab"

    token: str
    notebook_dirs: tuple[Path, ...] = (NOTEBOOKS_DIR,)

    def answers(self) -> bool:
        try:
            self.api("GET", "/api/status", timeout=2.0)
        except (OSError, urllib.error.URLError):
            return False
        return True

    def url(self, path: str, **query: str) -> str:
        """Absolute URL of ``path`` on this server, with the token in the query string."""
        params = "&".join(
            [*(f"{k}={v}" if v else k for k, v in query.items()), f"token={self.token}"]
        )
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}{params}"

    # -- REST ---------------------------------------------------------------------------------

    def api(self, method: str, path: str, timeout: float = 10.0) -> Any:
        """Call the server's REST API (``path`` like ``"/api/sessions"``); return parsed JSON."""
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def sessions(self) -> list[dict[str, Any]]:
        """The server's open sessions (one per notebook with a kernel)."""
        result: list[dict[str, Any]] = self.api("GET", "/api/sessions")
        return result

    def delete_sessions(self) -> int:
        """Shut down every session and its kernel (kernels outlive pages); return how many."""
        count = 0
        for session in self.sessions():
            with contextlib.suppress(urllib.error.HTTPError):  # already gone: fine
                self.api("DELETE", f"/api/sessions/{session['id']}", timeout=30.0)
                count += 1
        return count

    # -- notebooks ----------------------------------------------------------------------------

    def add_notebook(self, notebook: str | Path) -> str:
        """Copy a pristine notebook into the served root; return its name there.

        ``notebook`` is a file name looked up in :attr:`notebook_dirs`, or a path to any file.
        The copy is refreshed on every call, so outputs autosaved by an earlier test never leak
        into the next one.
        """
        source = find_notebook(notebook, self.notebook_dirs)
        shutil.copyfile(source, self.root_dir / source.name)
        return source.name


def find_notebook(notebook: str | Path, dirs: Sequence[Path] = (NOTEBOOKS_DIR,)) -> Path:
    """The file of ``notebook``: a bare file name is looked up in ``dirs``, else it is a path."""
    source = Path(notebook)
    if not source.is_absolute() and len(source.parts) == 1:
        candidates = [d / source for d in dirs if (d / source).is_file()]
        if not candidates:
            raise FileNotFoundError(
                f"notebook {notebook!r} not found in: {', '.join(str(d) for d in dirs)}"
            )
        source = candidates[0]
    if not source.is_file():
        raise FileNotFoundError(f"notebook {source} does not exist")
    return source


def package_env() -> dict[str, str]:
    """Env that lets the server's kernels import this checkout's ``twyn_widgets``.

    Kernels run in the served temporary root, not in the repo, so the package must be on
    ``PYTHONPATH`` unless it is installed; putting the checkout first also makes them import the
    working tree rather than any installed copy.
    """
    paths = [str(REPO_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def isolated_env(base_dir: Path) -> dict[str, str]:
    """The test process's env with Jupyter's and IPython's config and runtime dirs below
    ``base_dir`` (created here), so the user's own configuration stays out of the test."""
    dirs = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "IPYTHONDIR": "ipython",
    }
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name, sub in dirs.items():
        (base_dir / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(base_dir / sub)
    return env


def emulator_env_for(emulator: Emulator) -> dict[str, str]:
    """Env for a server whose kernels should reach ``emulator``: they import this checkout,
    and ``tw.connect()`` there finds its key, URL and time scale."""
    return {
        **package_env(),
        "TWYN_API_KEY": emulator.api_key,
        "TWYN_BASE_URL": emulator.base_url,
        "TWYN_TIME_SCALE": repr(1 / emulator.speed),
    }


#: ``lab_server_factory(env=None, notebook_dirs=(NOTEBOOKS_DIR,)) -> LabServer`` (a fixture).
LabServerFactory = Callable[..., LabServer]

# Stops the "news" / "check for updates" toast that otherwise covers screenshots.
_NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def start_lab_server(
    base_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    notebook_dirs: Sequence[Path] = (NOTEBOOKS_DIR,),
    startup_timeout: float = 90.0,
    theme: str = "light",
) -> LabServer:
    """Start ``sys.executable -m jupyterlab`` on a free port and wait until it answers.

    Parameters
    ----------
    base_dir
        An empty directory for this server: served root, settings, workspaces, config, runtime
        files and the log all go below it.
    env
        Extra environment variables for the server, and so for every kernel it starts.
    notebook_dirs
        Where :meth:`LabServer.add_notebook` looks up notebooks by name.
    startup_timeout
        Seconds to wait for ``/api/status``.
    theme
        ``"light"`` or ``"dark"``: the JupyterLab theme of every page (also Notebook 7's).
    """
    root_dir = base_dir / "root"
    settings_dir = base_dir / "settings"
    workspaces_dir = base_dir / "workspaces"
    for d in (root_dir, workspaces_dir):
        d.mkdir(parents=True, exist_ok=True)
    notification = settings_dir / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps(_NOTIFICATION_SETTINGS), encoding="utf-8"
    )
    (notification / "themes.jupyterlab-settings").write_text(
        json.dumps({"theme": THEMES[theme]}), encoding="utf-8"
    )

    token = secrets.token_hex(24)
    server_env = {
        **isolated_env(base_dir),
        # Notebook 7 reads these too (it has its own copies of the LabApp options below).
        "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
        "JUPYTERLAB_WORKSPACES_DIR": str(workspaces_dir),
        **(env or {}),
    }
    options = [
        "--no-browser",
        "--allow-root",  # as root, the server exits at once without it
        "--ip=127.0.0.1",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={workspaces_dir}",
        "--LabApp.expose_app_in_browser=True",
        f"--JupyterNotebookApp.user_settings_dir={settings_dir}",
        f"--JupyterNotebookApp.workspaces_dir={workspaces_dir}",
        "--JupyterNotebookApp.expose_app_in_browser=True",
    ]
    return spawn_server(
        ["jupyterlab", *options],
        functools.partial(LabServer, token=token, notebook_dirs=tuple(notebook_dirs)),
        base_dir=base_dir,
        root_dir=root_dir,
        server_env=server_env,
        env=env,
        startup_timeout=startup_timeout,
    )


S = TypeVar("S", bound=ServerProcess)


def spawn_server(
    module_and_options: Sequence[str],
    make: Callable[..., S],
    *,
    base_dir: Path,
    root_dir: Path,
    server_env: Mapping[str, str],
    env: Mapping[str, str] | None,
    startup_timeout: float,
) -> S:
    """Run ``python -m <module> --port=<free port> <options>`` in ``root_dir``, logging to
    ``base_dir``, and wait until it answers.

    ``make(proc=, port=, root_dir=, log_path=, env=, _log_file=)`` wraps the process (a
    :class:`ServerProcess` class, its own fields bound with :func:`functools.partial`);
    ``server_env`` is its whole environment, ``env`` the extra part it records. The free port is
    free only "a moment ago": if another process takes it first, the server exits saying so (it
    must be told not to move to another port itself), and this tries another port, three times.
    """
    module, *options = module_and_options
    for attempt in range(1, 4):
        port = free_port()
        log_path = base_dir / f"server-{attempt}.log"
        log_file = log_path.open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", module, f"--port={port}", *options],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=dict(server_env),
            cwd=root_dir,
            start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, not the server
        )
        server = make(
            proc=proc,
            port=port,
            root_dir=root_dir,
            log_path=log_path,
            env=dict(env or {}),
            _log_file=log_file,
        )
        try:
            _wait_until_up(server, startup_timeout)
        except _PortTaken:
            if attempt == 3:
                raise
            continue
        return server
    raise AssertionError("unreachable")  # pragma: no cover


class _PortTaken(RuntimeError):
    pass


def _wait_until_up(server: ServerProcess, timeout: float) -> None:
    """Poll :meth:`ServerProcess.answers` and ``proc.poll()`` together until it answers."""
    deadline = time.monotonic() + timeout
    while True:
        if server.proc.poll() is not None:
            server.stop()
            log = server.read_log()
            error = _PortTaken if "already in use" in log else RuntimeError
            raise error(
                f"{server.kind} exited with code {server.proc.returncode} while starting:\n{log}"
            )
        if server.answers():
            return
        if time.monotonic() > deadline:
            server.stop()
            raise TimeoutError(
                f"{server.kind} did not answer in {timeout:.0f} s:\n{server.read_log()}"
            )
        time.sleep(0.2)


# --------------------------------------------------------------------------------------------
# Notebook page


_KERNEL_STATE_JS = """
() => {
  const app = window.jupyterapp;
  if (!app || !app.shell) return 'no-app';
  let panel = app.shell.currentWidget;
  if (!panel || !panel.sessionContext) {
    // Notebook 7's shell may not report the panel as current yet: look in the main area.
    panel = null;
    for (const w of app.shell.widgets('main')) {
      if (w.sessionContext) { panel = w; break; }
    }
  }
  if (!panel) return 'no-panel';
  if (!panel.context || !panel.context.isReady) return 'context-loading';
  const session = panel.sessionContext.session;
  if (!session || !session.kernel) return 'no-kernel';
  const kernel = session.kernel;
  return kernel.connectionStatus + '/' + kernel.status;
}
"""


def kernel_state(page: Page) -> str:
    """The notebook panel's kernel as ``"<connectionStatus>/<status>"`` (or why there is none)."""
    state: str = page.evaluate(_KERNEL_STATE_JS)
    return state


def wait_kernel_ready(page: Page, timeout: float = 60_000) -> None:
    """Wait until the open notebook's own kernel is ``connected`` and ``idle``.

    The status bar says "idle" before any kernel exists (the kernel-ready race); this asks the
    panel's ``sessionContext`` through ``window.jupyterapp`` instead (``expose_app_in_browser``).
    """
    try:
        page.wait_for_function(
            f"() => ({_KERNEL_STATE_JS})() === 'connected/idle'", timeout=timeout, polling=100
        )
    except Exception as exc:
        raise AssertionError(
            f"kernel not ready after {timeout / 1000:.0f} s: {kernel_state(page)}"
        ) from exc


def open_notebook(
    page: Page,
    server: LabServer,
    notebook: str | Path,
    ui: Ui = "lab",
    timeout: float = 60_000,
) -> str:
    """Open a fresh copy of ``notebook`` and wait until its kernel is connected and idle.

    ``ui="lab"`` opens ``/lab/tree/<name>?reset`` (a clean workspace), ``ui="notebook7"`` opens
    ``/notebooks/<name>``. Returns the notebook's name on the server.
    """
    name = server.add_notebook(notebook)
    if ui == "lab":
        url = server.url(f"/lab/tree/{name}", reset="")
    elif ui == "notebook7":
        url = server.url(f"/notebooks/{name}")
    else:  # pragma: no cover - guarded by the Literal type
        raise ValueError(f"unknown ui {ui!r}")
    page.goto(url, wait_until="domcontentloaded", timeout=timeout)
    wait_kernel_ready(page, timeout=timeout)
    return name


def first_prompt(page: Page) -> str:
    """Text of the first code cell's prompt, e.g. ``"[ ]:"``, ``"[*]:"`` or ``"[1]:"``."""
    text: str = page.locator(INPUT_PROMPT).first.inner_text()
    return text.strip()


def run_all(page: Page, started_timeout: float = 10_000) -> None:
    """Run all cells (``notebook:run-all-cells``) and check that execution really started.

    Returns once the first code cell's prompt has left ``[ ]:``; it does not wait for the run to
    finish: wait on the output or the widget text instead (status "idle" can lie).
    """
    page.locator(INPUT_PROMPT).first.wait_for(state="attached", timeout=started_timeout)
    # Why no `return`: the command's promise settles once every cell has run, and
    # page.evaluate would wait for it (a cell that blocks, e.g. a wait, would hold us there).
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    try:
        page.wait_for_function(
            """(sel) => {
                 const p = document.querySelector(sel);
                 return p !== null && p.textContent.trim() !== '[ ]:';
               }""",
            arg=INPUT_PROMPT,
            timeout=started_timeout,
            polling=50,
        )
    except Exception as exc:
        raise AssertionError(
            "Run All ran nothing: the first prompt is still "
            f"{first_prompt(page)!r} (kernel: {kernel_state(page)})"
        ) from exc


def save_notebook(page: Page, timeout: float = 10_000) -> None:
    """Save the open notebook (``docmanager:save``) and wait until it is no longer dirty."""
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=timeout
    )


# --------------------------------------------------------------------------------------------
# Live-update recorder


class Record(TypedDict):
    """One observed change: ``name`` (a key of the selectors dict), ``index`` (which match),
    ``value`` (``style.width`` for a progress bar, the computed background colour for a name
    in ``colors``, else the trimmed text), ``t`` (ms, ``performance.now()``)."""

    name: str
    index: int
    value: str
    t: float


_RECORDER_JS = """
([selectors, widthNames, classNames, colorNames]) => {
  if (window.__twynRecorder) window.__twynRecorder.observer.disconnect();
  const records = [];
  const last = {};
  const widths = new Set(widthNames);
  const classes = new Set(classNames);
  const colors = new Set(colorNames);
  const isBar = (el) => el.classList.contains('progress-bar') || el.classList.contains('twyn-fill');
  const valueOf = (name, el) =>
    classes.has(name) ? el.className
    : colors.has(name) ? getComputedStyle(el).backgroundColor
    : isBar(el) || widths.has(name) ? el.style.width : el.textContent.trim();
  const sample = () => {
    const t = performance.now();
    for (const [name, sel] of Object.entries(selectors)) {
      document.querySelectorAll(sel).forEach((el, index) => {
        const key = name + '#' + index;
        const value = valueOf(name, el);
        if (last[key] !== value) {
          last[key] = value;
          records.push({name, index, value, t});
        }
      });
    }
  };
  const observer = new MutationObserver(sample);
  observer.observe(document.body, {
    subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ['style', 'class'],
  });
  sample();
  window.__twynRecorder = {observer, records};
}
"""


def install_recorder(
    page: Page,
    selectors: Mapping[str, str],
    *,
    widths: Collection[str] = (),
    classes: Collection[str] = (),
    colors: Collection[str] = (),
) -> None:
    """Record every change of the elements matched by ``selectors`` (install BEFORE running).

    ``selectors`` maps a name to a CSS selector. For an element with class ``progress-bar`` or
    ``twyn-fill``, or matched by a name in ``widths`` (e.g. a bar drawn in static HTML), the
    recorded value is its ``style.width`` (e.g. ``"40%"``); for a name in ``classes``, its
    ``className``; for a name in ``colors``, its computed background colour (``"rgb(...)"``:
    what a person sees, whatever CSS variable set it); for any other its trimmed text. A
    record is added only when a value differs from the last one seen for the same match.
    """
    page.evaluate(_RECORDER_JS, [dict(selectors), list(widths), list(classes), list(colors)])


def read_records(page: Page) -> list[Record]:
    """All records so far, in the order observed."""
    records: list[Record] = page.evaluate(
        "() => window.__twynRecorder ? window.__twynRecorder.records : null"
    )
    if records is None:
        raise AssertionError("no recorder installed on this page: call install_recorder first")
    return records


def record_values(records: Sequence[Record], name: str, index: int = 0) -> list[str]:
    """The successive values recorded for one selector name and match index."""
    return [r["value"] for r in records if r["name"] == name and r["index"] == index]


def record_times(records: Sequence[Record], name: str, index: int = 0) -> list[float]:
    """The ``performance.now()`` times (ms) of the records for one name and match index."""
    return [r["t"] for r in records if r["name"] == name and r["index"] == index]


def changes(values: Sequence[T]) -> list[T]:
    """``values`` without consecutive repeats: ``[a, a, b, a] -> [a, b, a]``."""
    out: list[T] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out


def percent(width: str) -> float | None:
    """``"40%"`` -> ``40.0``; ``""`` (not yet set) -> ``None``."""
    width = width.strip()
    if not width.endswith("%"):
        return None
    return float(width[:-1])


# --------------------------------------------------------------------------------------------
# Reading the page


def wait_for_text(page: Page, selector: str, text: str, timeout: float = 20_000) -> None:
    """Wait until some element matching ``selector`` has ``text`` in its text content."""
    try:
        page.wait_for_function(
            """([sel, text]) => Array.from(document.querySelectorAll(sel))
                 .some((el) => el.textContent.includes(text))""",
            arg=[selector, text],
            timeout=timeout,
            polling=100,
        )
    except Exception as exc:
        seen = texts(page, selector)
        raise AssertionError(
            f"no {selector!r} contains {text!r} after {timeout / 1000:.0f} s; seen: {seen!r}"
        ) from exc


def texts(page: Page, selector: str) -> list[str]:
    """Trimmed text content of every element matching ``selector``."""
    result: list[str] = page.eval_on_selector_all(
        selector, "(els) => els.map((el) => el.textContent.trim())"
    )
    return result


def progress_percents(page: Page) -> list[float | None]:
    """Every progress bar's value as a percent of its range (``None`` before it is set)."""
    widths: list[str] = page.eval_on_selector_all(
        PROGRESS_BAR, "(els) => els.map((el) => el.style.width)"
    )
    return [percent(w) for w in widths]


def progress_percent(page: Page, index: int = 0) -> float | None:
    """The ``index``-th progress bar's value as a percent of its range."""
    values = progress_percents(page)
    if index >= len(values):
        raise AssertionError(f"only {len(values)} progress bar(s) on the page")
    return values[index]


def resolved_color(page: Page, css: str) -> str:
    """The computed colour of the CSS value ``css`` on this page, e.g.
    ``"var(--jp-success-color1, #4caf50)"`` -> ``"rgb(56, 142, 60)"`` in JupyterLab's theme."""
    color: str = page.evaluate(
        """(css) => {
             const probe = document.createElement('div');
             probe.style.background = css;
             document.body.appendChild(probe);
             const value = getComputedStyle(probe).backgroundColor;
             probe.remove();
             return value;
           }""",
        css,
    )
    return color


def label_texts(page: Page) -> list[str]:
    """Text of every Label widget."""
    return texts(page, LABEL)


def html_texts(page: Page) -> list[str]:
    """Visible text of every HTML widget (markup rendered, entities decoded)."""
    return texts(page, HTML_CONTENT)


def output_texts(page: Page) -> list[str]:
    """Text of every cell output (stdout, stderr, text/plain results)."""
    return texts(page, OUTPUT_TEXT)


_CELL_OUTPUTS_JS = """
() => {
  const app = window.jupyterapp;
  let panel = app && app.shell ? app.shell.currentWidget : null;
  if (!panel || !panel.content || !panel.content.model) {
    panel = null;
    for (const w of app.shell.widgets('main')) {
      if (w.content && w.content.model && w.content.model.cells) { panel = w; break; }
    }
  }
  if (!panel) return null;
  const cells = panel.content.model.cells;
  const result = [];
  for (let i = 0; i < cells.length; i++) {
    const outputs = cells.get(i).outputs;
    const list = [];
    if (outputs) for (let j = 0; j < outputs.length; j++) list.push(outputs.get(j).toJSON());
    result.push(list);
  }
  return result;
}
"""


def cell_outputs(page: Page) -> list[list[dict[str, Any]]]:
    """Every cell's outputs as the notebook model holds them (nbformat dicts), i.e. what would
    be saved: MIME bundles from ``display_data`` and their later ``update_display_data``."""
    outputs: list[list[dict[str, Any]]] | None = page.evaluate(_CELL_OUTPUTS_JS)
    if outputs is None:
        raise AssertionError("no notebook panel on this page")
    return outputs


def wait_for_output_data(
    page: Page, mime: str, text: str, timeout: float = 20_000
) -> list[list[dict[str, Any]]]:
    """Wait until some output in the notebook model has ``mime`` data containing ``text``;
    return :func:`cell_outputs` then. Sees what the page does not render (e.g. the
    ``text/html`` next to a widget view)."""
    try:
        page.wait_for_function(
            f"""([mime, text]) => {{
                  const cells = ({_CELL_OUTPUTS_JS})() || [];
                  return cells.some((outs) => outs.some((o) => {{
                    const value = o.data && o.data[mime];
                    const joined = Array.isArray(value) ? value.join('') : value;
                    return typeof joined === 'string' && joined.includes(text);
                  }}));
                }}""",
            arg=[mime, text],
            timeout=timeout,
            polling=200,
        )
    except Exception as exc:
        mimes = [[sorted(o.get("data", {})) for o in outs] for outs in cell_outputs(page)]
        raise AssertionError(
            f"no output has {mime!r} data containing {text!r} after {timeout / 1000:.0f} s; "
            f"MIME types per cell: {mimes!r}"
        ) from exc
    return cell_outputs(page)


# --------------------------------------------------------------------------------------------
# Script-execution (XSS) detection

#: Added to every page before its scripts run: counts calls of alert/confirm/prompt in
#: ``window.__twynScriptCalls`` (the native dialog still opens, and the ``dialog`` event fires).
#: Payloads may also set ``window.__twynXss = true`` themselves.
XSS_INIT_SCRIPT = """
(() => {
  window.__twynScriptCalls = [];
  for (const name of ['alert', 'confirm', 'prompt']) {
    const original = window[name];
    window[name] = function (...args) {
      window.__twynScriptCalls.push(name + ':' + String(args[0]));
      return original.apply(this, args);
    };
  }
})();
"""


def script_calls(page: Page) -> list[str]:
    """Calls of alert/confirm/prompt seen by :data:`XSS_INIT_SCRIPT`, plus ``"flag"`` when a
    payload set ``window.__twynXss``."""
    calls: list[str] = page.evaluate(
        "() => [...(window.__twynScriptCalls || []), ...(window.__twynXss ? ['flag'] : [])]"
    )
    return calls


def assert_no_script_ran(page: Page, dialogs: Sequence[str]) -> None:
    """Fail if any dialog opened or any injected script left its mark."""
    calls = script_calls(page)
    assert not dialogs, f"a dialog opened: {dialogs!r}"
    assert not calls, f"an injected script ran: {calls!r}"


# --------------------------------------------------------------------------------------------
# Contrast (WCAG 2)

_CONTRAST_JS = """
(selector) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};  // the canvas under everything
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const lum = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const out = [];
  for (const root of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      const text = t.textContent.trim();
      const el = t.parentElement;
      if (!text || !el || !el.getClientRects().length) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none') continue;
      const isSvg = el instanceof SVGElement;
      let fg = parse(isSvg ? style.fill : style.color);
      if (!fg) continue;
      const bg = background(el);
      fg = over(fg, bg);
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      out.push({text: text.slice(0, 60), ratio: (hi + 0.05) / (lo + 0.05),
                color: style.color, tag: el.tagName});
    }
  }
  return out;
}
"""


class Contrast(TypedDict):
    """One visible text: its first 60 characters, its contrast ratio, its colour and tag."""

    text: str
    ratio: float
    color: str
    tag: str


def text_contrasts(page: Page, selector: str) -> list[Contrast]:
    """The WCAG contrast of every visible text inside the elements matched by ``selector``.

    The text's colour (``fill`` for SVG text) over the first opaque background up its
    ancestors, translucent layers blended on the way.
    """
    found: list[Contrast] = page.evaluate(_CONTRAST_JS, selector)
    return found
