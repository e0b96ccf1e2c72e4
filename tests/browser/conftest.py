"""Fixtures for browser tests: a JupyterLab server, headless Chromium, a page per test.

- ``lab_server_factory(env=..., notebook_dirs=...)``: one server per distinct env (session-wide).
- ``lab_env``: extra env for ``lab_server``; override it in a test module (it may depend on other
  fixtures, e.g. an emulator's URL).
- ``lab_server``: the server for ``lab_env``.
- ``browser``: session-wide Chromium; fails (never skips) when Chromium is missing.
- ``page``: a fresh context and page per test (1280x900); the server's sessions are deleted after
  the test; on failure a full-page screenshot and the HTML go to ``test-artifacts/browser/``.
- ``dialogs``: messages of every alert/confirm/prompt the page opened.
- ``voila_server_factory(notebook, env=...)``: Voila serving one notebook, for one test; list it
  BEFORE ``page`` in the test's arguments, so the page (and its failure screenshot) is torn
  down while the server still runs.
- ``twyn_emulator`` / ``emulator_env``: a Twyn emulator at 60x in the test process, and the env
  that points kernels at it (``tw.connect()`` in a notebook then talks to it).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Dialog, Page, Playwright, sync_playwright

from .harness import (
    CHROMIUM_ARGS,
    NOTEBOOKS_DIR,
    VIEWPORT,
    XSS_INIT_SCRIPT,
    LabServer,
    LabServerFactory,
    chromium_path,
    emulator_env_for,
    start_lab_server,
)
from .voila_harness import VoilaServer, VoilaServerFactory, start_voila_server

if TYPE_CHECKING:
    from twyn_widgets.emulator import Emulator

#: Speed of :func:`twyn_emulator`: a simulation lasts 4-8 s, several one-second refreshes.
EMULATOR_SPEED = 60.0

_SERVERS = pytest.StashKey[dict[tuple[object, ...], LabServer]]()
_LOG_OFFSETS = pytest.StashKey[dict[int, int]]()
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
#: Servers started for one test only (Voila), beside the session's JupyterLab servers.
_TEST_SERVERS = pytest.StashKey[list[VoilaServer]]()


def artifacts_dir(config: pytest.Config) -> Path:
    """``<repo root>/test-artifacts/browser`` (created on demand)."""
    path = config.rootpath / "test-artifacts" / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def artifact_stem(item: pytest.Item) -> str:
    """A file-name-safe name for a test, e.g. ``test_live_updates-lab``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", item.name).strip("-")


# --------------------------------------------------------------------------------------------
# Hooks: remember each phase's report; on failure attach this test's slice of the server log.


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    servers = item.config.stash.get(_SERVERS, {})
    item.stash[_LOG_OFFSETS] = {id(s): s.log_size() for s in servers.values()}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    if report.failed and report.when in ("setup", "call"):
        offsets = item.stash.get(_LOG_OFFSETS, {})
        servers = [
            *item.config.stash.get(_SERVERS, {}).values(),
            *item.stash.get(_TEST_SERVERS, []),
        ]
        for server in servers:
            log = server.read_log(start=offsets.get(id(server), 0))
            if not log.strip():
                continue
            report.sections.append((f"{server.kind} server log (port {server.port})", log))
            out = artifacts_dir(item.config) / f"{artifact_stem(item)}.server-{server.port}.log"
            out.write_text(server.read_log(max_chars=2_000_000), encoding="utf-8")
    return report


def phase_failed(item: pytest.Item) -> bool:
    """Whether the setup or call phase of ``item`` has failed so far."""
    reports = item.stash.get(_REPORTS, {})
    return any(r.failed for w, r in reports.items() if w in ("setup", "call"))


# --------------------------------------------------------------------------------------------
# Server


@pytest.fixture(scope="session")
def lab_server_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServerFactory]:
    """Start (or reuse) a server: ``lab_server_factory(env={...}, notebook_dirs=[...])``.

    One server per distinct ``(env, notebook_dirs)``, kept for the whole session and stopped at
    its end. The env reaches every kernel the server starts.
    """
    servers: dict[tuple[object, ...], LabServer] = {}
    request.config.stash[_SERVERS] = servers

    def factory(
        env: Mapping[str, str] | None = None,
        notebook_dirs: Sequence[Path] = (NOTEBOOKS_DIR,),
        theme: str = "light",
    ) -> LabServer:
        key = (
            frozenset((env or {}).items()),
            tuple(Path(d).resolve() for d in notebook_dirs),
            theme,
        )
        server = servers.get(key)
        if server is None or server.proc.poll() is not None:
            base = tmp_path_factory.mktemp("lab")
            server = start_lab_server(base, env=env, notebook_dirs=key[1], theme=theme)
            servers[key] = server
        return server

    yield factory
    for server in servers.values():
        server.stop()


@pytest.fixture
def lab_env() -> dict[str, str]:
    """Extra environment for ``lab_server`` (and its kernels). Override it in a test module::

    @pytest.fixture
    def lab_env(emulator_url: str) -> dict[str, str]:
        return {"TWYN_BASE_URL": emulator_url, "TWYN_EMULATOR_SPEED": "60"}
    """
    return {}


@pytest.fixture
def lab_server(lab_server_factory: LabServerFactory, lab_env: dict[str, str]) -> LabServer:
    """The session's server for ``lab_env`` (started on first use)."""
    return lab_server_factory(env=lab_env)


@pytest.fixture
def browser_artifacts(request: pytest.FixtureRequest) -> Path:
    """``test-artifacts/browser/``: where a test saves what a person should look at."""
    return artifacts_dir(request.config)


@pytest.fixture
def voila_server_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[VoilaServerFactory]:
    """Serve a notebook with Voila for this test: ``voila_server_factory(name, env={...})``.

    Each call starts its own server on a fresh copy; every page load of it starts a kernel and
    runs the notebook. All are stopped (by PID) after the test, and their kernels with them.
    """
    servers = request.node.stash.setdefault(_TEST_SERVERS, [])

    def factory(notebook: str | Path, env: Mapping[str, str] | None = None) -> VoilaServer:
        base = tmp_path / f"voila-{len(servers)}"
        base.mkdir()
        server = start_voila_server(base, notebook, env=env)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


# --------------------------------------------------------------------------------------------
# Browser


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Headless Chromium (``$TWYN_CHROMIUM``, else ``chromium`` on PATH, else /usr/bin/chromium).

    A missing browser FAILS the tests: CI installs it, and a skip would hide that it did not.
    """
    executable = chromium_path()
    if not Path(executable).is_file():
        pytest.fail(
            f"Chromium not found at {executable!r}: install it (Debian: apt-get install chromium) "
            "or point TWYN_CHROMIUM at it",
            pytrace=False,
        )
    browser = playwright_instance.chromium.launch(
        executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
    )
    yield browser
    browser.close()


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of every alert/confirm/prompt opened by ``page`` (dismissed at once)."""
    return []


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    browser: Browser,
    dialogs: list[str],
    lab_server_factory: LabServerFactory,
) -> Iterator[Page]:
    """A fresh browser context and page for one test.

    After the test: on failure, a full-page screenshot and the page's HTML are saved to
    ``test-artifacts/browser/<test>.png|.html``; then the context closes and every server's
    sessions are deleted, so no kernel outlives the test.
    """
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.add_init_script(XSS_INIT_SCRIPT)
    page = context.new_page()

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page

    try:
        if phase_failed(request.node):
            out = artifacts_dir(request.config) / artifact_stem(request.node)
            try:
                page.screenshot(path=f"{out}.png", full_page=True, timeout=10_000)
                Path(f"{out}.html").write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # the page may be what broke; keep the original failure
                Path(f"{out}.error.txt").write_text(repr(exc), encoding="utf-8")
    finally:
        context.close()
        for server in request.config.stash.get(_SERVERS, {}).values():
            if server.proc.poll() is None:
                server.delete_sessions()


# --------------------------------------------------------------------------------------------
# Emulator


@pytest.fixture(scope="session")
def twyn_emulator() -> Iterator[Emulator]:
    """A Twyn emulator at :data:`EMULATOR_SPEED`, served from the test process for the session."""
    from twyn_widgets import emulator

    with emulator.start(speed=EMULATOR_SPEED) as emu:
        yield emu


@pytest.fixture
def emulator_env(twyn_emulator: Emulator) -> dict[str, str]:
    """Env for ``lab_env``: kernels reach :func:`twyn_emulator` (see :func:`emulator_env_for`)."""
    return emulator_env_for(twyn_emulator)
