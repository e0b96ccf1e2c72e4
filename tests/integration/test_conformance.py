"""The docs' own walkthroughs, run against the emulator exactly as the docs write them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests import docs_examples as docs
from tests.conftest import SPEED

DOCS_INTERVAL = 5 / SPEED
"""The docs' 5 s poll, at the emulator's speed."""


def test_quickstart_create_poll_every_5_seconds_scaled_then_results(emu: Any) -> None:
    """The docs' quickstart: create, poll GET every 5 s until COMPLETED_ANALYSIS, then results."""
    headers = {"X-API-Key": emu.api_key, "Content-Type": "application/json"}
    created = requests.post(
        f"{emu.base_url}/simulations",
        headers=headers,
        json={"prompt": "How will a 10% price increase affect customer churn?"},
        timeout=30,
    )
    assert created.status_code == 201
    sim = created.json()
    assert set(docs.CREATED) <= set(sim)
    assert sim["status"] == "PENDING"
    assert sim["lifecycle"]["states"][0]["name"] == "PENDING"
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert name in created.headers

    interval = DOCS_INTERVAL
    deadline = time.monotonic() + 600 / SPEED
    seen = []
    while time.monotonic() < deadline:
        data = requests.get(f"{emu.base_url}/simulations/{sim['id']}", headers=headers, timeout=30)
        status = data.json()["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("COMPLETED_ANALYSIS", "FAILED"):
            break
        time.sleep(interval)
    assert seen[-1] == "COMPLETED_ANALYSIS"

    results = requests.get(
        f"{emu.base_url}/simulations/{sim['id']}/results", headers=headers, timeout=30
    )
    assert results.status_code == 200
    body = results.json()
    assert set(docs.RESULTS) <= set(body)
    assert body["results_version"] == 1
    assert {
        "executive_summary",
        "key_drivers",
        "risks",
        "recommendations",
        "report_markdown",
    } <= set(body["analysis"])


@pytest.mark.parametrize("code", [401, 403, 404, 409, 422])
def test_error_examples_have_the_documented_body_style(emu: Any, code: int) -> None:
    headers = {"X-API-Key": emu.api_key}
    base = emu.base_url
    if code == 401:
        resp = requests.get(f"{base}/keys", headers={"X-API-Key": "nope"}, timeout=30)
    elif code == 403:
        _, other = emu.new_tenant("docs-403")
        sim = requests.post(f"{base}/simulations", headers={"X-API-Key": other},
                            json={"prompt": "x"}, timeout=30).json()  # fmt: skip
        resp = requests.get(f"{base}/simulations/{sim['id']}", headers=headers, timeout=30)
    elif code == 404:
        resp = requests.get(f"{base}/simulations/abc123", headers=headers, timeout=30)
    elif code == 409:
        sim = requests.post(f"{base}/simulations", headers=headers, json={"prompt": "x"},
                            timeout=30).json()  # fmt: skip
        resp = requests.get(f"{base}/simulations/{sim['id']}/results", headers=headers, timeout=30)
    else:
        resp = requests.post(f"{base}/simulations", headers=headers, json={}, timeout=30)
    assert resp.status_code == code
    expected = docs.ERRORS[code]
    body = resp.json()
    assert set(expected) <= set(body)
    if code == 404:
        assert body == expected
    if code == 422:
        assert body["detail"][0]["loc"] == ["body", "prompt"]


@pytest.fixture
def cli_server() -> Iterator[tuple[str, str]]:
    """``twyn-emulator`` started as the README says, on a free port."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "twyn_widgets.emulator", "--port", "0", "--speed", str(SPEED)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    text = ""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (
        re.search(r"https?://\S+/v1", text) and re.search(r"twyn_test_[0-9a-f]{64}", text)
    ):
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        text += line
    url = re.search(r"https?://\S+/v1", text)
    key = re.search(r"twyn_test_[0-9a-f]{64}", text)
    try:
        assert url is not None, text
        assert key is not None, text
        yield url.group(0), key.group(0)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def curl(*args: str) -> tuple[int, Any]:
    out = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", *args], capture_output=True, text=True, check=True
    ).stdout
    body, _, code = out.rpartition("\n")
    return int(code), json.loads(body) if body.strip() else None


def test_cli_emulator_answers_the_quickstart_with_curl(cli_server: tuple[str, str]) -> None:
    base, key = cli_server
    code, sim = curl("-X", "POST", f"{base}/simulations", "-H", f"X-API-Key: {key}",
                     "-H", "Content-Type: application/json",
                     "-d", '{"prompt": "How will a 10% price increase affect churn?"}')  # fmt: skip
    assert code == 201
    assert sim["status"] == "PENDING"
    code, body = curl(f"{base}/simulations/{sim['id']}/results", "-H", f"X-API-Key: {key}")
    assert code == 409
    assert body["error"] == "SIMULATION_NOT_COMPLETE"
    deadline = time.monotonic() + 20
    while True:
        code, now = curl(f"{base}/simulations/{sim['id']}", "-H", f"X-API-Key: {key}")
        if now["status"] == "COMPLETED_ANALYSIS" or time.monotonic() > deadline:
            break
        time.sleep(DOCS_INTERVAL)
    assert now["status"] == "COMPLETED_ANALYSIS"
    code, results = curl(f"{base}/simulations/{sim['id']}/results", "-H", f"X-API-Key: {key}")
    assert code == 200
    assert results["analysis"]["executive_summary"]
