"""Starting and stopping: the thread runner, the CLI, in-process use and import hygiene."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from twyn_widgets.emulator import Emulator, EmulatorError, create_app, start
from twyn_widgets.emulator.__main__ import main

PACKAGE = Path(__file__).resolve().parents[2] / "twyn_widgets" / "emulator"
ROOT = PACKAGE.parents[1]


def test_start_returns_a_running_server_on_a_free_port() -> None:
    with start(speed=60) as emulator:
        assert emulator.port > 0
        assert emulator.base_url == f"http://127.0.0.1:{emulator.port}/v1"
        assert emulator.root_url == f"http://127.0.0.1:{emulator.port}"
        assert emulator.api_key.startswith("twyn_test_")
        assert len(emulator.api_key) == 74
        assert emulator.tenant_id
        assert emulator.speed == 60
        names = {thread.name: thread for thread in threading.enumerate()}
        assert names["twyn-emulator"].daemon
        keys = requests.get(
            f"{emulator.base_url}/keys", headers={"X-API-Key": emulator.api_key}, timeout=10
        ).json()
        assert keys["keys"][0]["tenant_id"] == emulator.tenant_id
        assert "running" in repr(emulator)
    assert not emulator.running
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{emulator.root_url}/_emulator/health", timeout=2)


def test_stop_is_idempotent_and_quick() -> None:
    emulator = start(speed=10)
    started = time.monotonic()
    emulator.stop()
    emulator.stop()
    assert time.monotonic() - started < 2.0
    assert not emulator._thread.is_alive()


def test_stop_does_not_hang_on_an_endless_response() -> None:
    emulator = start(speed=10)
    emulator.inject("endless_body")
    response = requests.get(
        f"{emulator.base_url}/keys",
        headers={"X-API-Key": emulator.api_key},
        stream=True,
        timeout=10,
    )
    next(response.iter_content(1024))
    started = time.monotonic()
    emulator.stop()
    assert time.monotonic() - started < 4.0
    response.close()


def _first_ids(emulator: Emulator) -> list[str]:
    headers = {"X-API-Key": emulator.api_key}
    return [
        requests.post(
            f"{emulator.base_url}/simulations", json={"prompt": "same"}, headers=headers, timeout=10
        ).json()["id"]
        for _ in range(2)
    ]


def test_two_instances_hand_out_different_keys_and_ids() -> None:
    with start() as first, start() as second:
        assert first.api_key != second.api_key
        assert first.seed != second.seed
        assert first.tenant_id != second.tenant_id
        assert set(_first_ids(first)).isdisjoint(_first_ids(second))


def test_same_seed_same_key_and_ids() -> None:
    with start(seed=42) as first, start(seed=42) as second, start(seed=43) as third:
        assert first.api_key == second.api_key != third.api_key
        assert first.seed == 42
        assert first.port != second.port
        assert _first_ids(first) == _first_ids(second) != _first_ids(third)
        assert first.control_token != second.control_token


def test_the_seed_of_a_random_instance_reproduces_it() -> None:
    with start() as first:
        ids = _first_ids(first)
        with start(seed=first.seed) as again:
            assert again.api_key == first.api_key
            assert _first_ids(again) == ids


def test_busy_port_raises_at_once() -> None:
    with start() as emulator, pytest.raises(OSError, match="in use"):
        start(port=emulator.port)


def test_client_is_a_twyn_client_scaled_to_the_speed(server: Emulator) -> None:
    from twyn_widgets.client import TwynClient  # an import error fails here, never skips

    client = server.client()
    assert isinstance(client, TwynClient)
    assert client.time_scale == pytest.approx(1 / server.speed)
    client.close()


def _call(
    app: Any,
    method: str,
    path: str,
    key: str | None,
    body: Any = None,
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> tuple[int, Any]:
    """Drive the ASGI app directly, the way any in-process server would."""
    raw = b"" if body is None else json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"host", b"localhost"), *extra]
    if key is not None:
        headers.append((b"x-api-key", key.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = sent[0]["status"]
    content = b"".join(message.get("body", b"") for message in sent[1:])
    return status, json.loads(content) if content else None


def test_create_app_works_in_process_without_the_server() -> None:
    app = create_app(speed=1000)
    key = app.state.emulator.key.secret
    status, sim = _call(app, "POST", "/v1/simulations", key, {"prompt": "x"})
    assert status == 201
    assert sim["status"] == "PENDING"
    assert _call(app, "GET", f"/v1/simulations/{sim['id']}", key)[0] == 200
    assert _call(app, "GET", "/v1/keys", None) == (401, {"detail": "Invalid or missing API key"})
    token = (b"x-emulator-token", app.state.emulator.control_token.encode())
    assert _call(app, "POST", "/_emulator/faults", None, {"kind": "drop"})[0] == 403
    assert _call(app, "POST", "/_emulator/faults", None, {"kind": "drop"}, (token,))[0] == 200
    with pytest.raises(ConnectionAbortedError):
        _call(app, "GET", "/v1/keys", key)


def test_cli_help() -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = subprocess.run(
        [sys.executable, "-m", "twyn_widgets.emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        check=True,
    ).stdout
    for option in ("--host", "--port", "--speed", "--seed"):
        assert option in out


def test_cli_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "twyn_widgets.emulator", "--port", "0", "--speed", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines: dict[str, str] = {}
        deadline = time.monotonic() + 20
        while "seed" not in lines and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if ":" in line:
                name, _, value = line.strip().partition(":")
                lines[name] = value.strip()
        base_url, api_key = lines["base URL"], lines["API key"]
        root = base_url.removesuffix("/v1")
        token = lines["X-Emulator-Token"]
        health = requests.get(
            f"{root}/_emulator/health", headers={"X-Emulator-Token": token}, timeout=10
        )
        assert health.json() == {"ok": True, "speed": 30.0}
        assert requests.get(f"{root}/_emulator/health", timeout=10).status_code == 403
        keys = requests.get(f"{base_url}/keys", headers={"X-API-Key": api_key}, timeout=10)
        assert keys.status_code == 200
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_importing_the_package_does_not_import_fastapi() -> None:
    code = (
        "import sys, twyn_widgets; "
        "bad = [m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_emulator_imports_nothing_else_from_the_package() -> None:
    """The emulator stays an independent implementation of the docs (client() aside)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                module = node.module
            elif isinstance(node, ast.Import):
                module = node.names[0].name
            else:
                continue
            if module.startswith("twyn_widgets") and not module.startswith("twyn_widgets.emulator"):
                offenders.append((path.name, module))
    assert set(offenders) == {("_server.py", "twyn_widgets.client")}


def _cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twyn_widgets.emulator", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )


def test_cli_refuses_to_listen_off_loopback_without_allow_remote() -> None:
    for host in ("0.0.0.0", "::"):
        done = _cli("--host", host, "--port", "0")
        assert done.returncode == 2, done.stderr
        assert "WARNING" in done.stderr
        assert "reachable from other machines" in done.stderr
        # The real addresses, not the wildcard the user typed.
        assert f"(at {host}," not in done.stderr
        assert "--allow-remote" in done.stderr
        assert "API key" not in done.stdout


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_start_refuses_to_listen_off_loopback_without_allow_remote(host: str) -> None:
    with pytest.raises(EmulatorError, match="allow_remote=True") as refused:
        start(host=host, port=0)
    assert f"refusing to listen on {host}" in str(refused.value)


def test_cli_with_allow_remote_warns_and_uses_a_random_key() -> None:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "twyn_widgets.emulator"),
            *("--host", "0.0.0.0", "--port", "0", "--allow-remote", "--seed", "42"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        warning = process.stderr.readline()
        assert warning.startswith("WARNING: --host 0.0.0.0 is reachable from other machines")
        lines: dict[str, str] = {}
        deadline = time.monotonic() + 20
        while "seed" not in lines and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            name, _, value = line.strip().partition(":")
            lines.setdefault(name, value.strip())
        assert "remote" in lines
        with start(seed=42) as local:
            assert lines["API key"] != local.api_key
            assert lines["X-Emulator-Token"] != local.control_token
    finally:
        process.terminate()
        process.wait(timeout=10)
