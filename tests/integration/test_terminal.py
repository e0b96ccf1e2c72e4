"""Outside Jupyter: a text progress line in a terminal; a clear message without the emulator."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from typing import Any

import pytest

import twyn_widgets as tw

SCRIPT = """
import twyn_widgets as tw
c = tw.TwynClient()
w = tw.SimulationWatcher(c.create_simulation("terminal test"), client=c)
r = w.wait(60)
print("RESULT", r.id == w.simulation_id)
"""


def test_wait_draws_a_text_progress_line_in_a_terminal(emu: Any) -> None:
    main, child = pty.openpty()
    env = {**os.environ, "TWYN_API_KEY": emu.api_key, "TWYN_BASE_URL": emu.base_url,
           "TWYN_TIME_SCALE": str(1 / emu.speed)}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=child, stderr=child, env=env)
    os.close(child)
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(10)
    text = out.decode("utf-8", "replace")
    assert "RESULT True" in text, text
    assert "\r[" in text  # redrawn in place
    assert "####" in text
    assert "100%" in text
    assert "done" in text
    assert emu.api_key not in text


def test_connect_without_key_or_emulator_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from twyn_widgets import _connect

    monkeypatch.delenv("TWYN_API_KEY", raising=False)
    monkeypatch.setattr(_connect, "_embedded", None)
    monkeypatch.setattr(_connect, "_clients", {})
    monkeypatch.setitem(sys.modules, "twyn_widgets.emulator", None)  # as if not installed
    with pytest.raises(tw.ConfigurationError, match=r"pip install 'twyn-widgets\[emulator\]'"):
        tw.connect()
