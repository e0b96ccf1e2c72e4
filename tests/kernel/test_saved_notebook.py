"""An executed and saved notebook holds no API key; a kernel shutdown leaves nothing polling."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests.kernel.harness import kernel
from tests.kernel.test_watcher_kernel import env_for
from twyn_widgets._transport import mask_key

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]


def test_executed_and_saved_quickstart_holds_no_key(
    emu_60: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env_for(emu_60).items():
        monkeypatch.setenv(name, value)  # the kernel talks to the emulator with a real key
    book = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    NotebookClient(book, timeout=120, kernel_name="python3", resources={
        "metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    saved = tmp_path / "quickstart-executed.ipynb"
    nbformat.write(book, saved)
    text = saved.read_text()
    assert "twyn-result" in text  # it really ran: the watcher's saved outcome holds the result
    assert emu_60.api_key not in text
    assert emu_60.api_key[10:] not in text  # not even the hex part
    # The kernel held the real key (the notebook connected with it) and the file keeps only
    # its mask.
    assert f"with key {mask_key(emu_60.api_key)}" in text


def test_kernel_shutdown_mid_watch_leaves_nothing_polling(emu_60: Any) -> None:
    interval = 5 / emu_60.speed  # the watch below polls every 5 API seconds
    with kernel(env_for(emu_60)) as k:
        out = k.execute(
            "import twyn_widgets as tw\n"
            "c = tw.TwynClient()\n"
            "sim = c.create_simulation('shutdown test')\n"
            "w = tw.SimulationWatcher(sim, client=c, schedule=tw.Fixed(5))\n"
            "display(w)\n"
        )
        assert not [m for m in out if m["msg_type"] == "error"]
        polling = emu_60.counters()["requests_total"]
        k.drain(6 * interval)
        assert emu_60.counters()["requests_total"] > polling, "the watch was not polling"
        # A graceful shutdown, as the notebook's "Shut Down Kernel" asks for one.
        started = time.monotonic()
        k.manager.shutdown_kernel(now=False)
        took = time.monotonic() - started
        assert not k.manager.is_alive()
        # It exited on its own: jupyter_client sends SIGTERM after half the wait time, so a
        # thread of ours that held the exit (and kept polling) would show here.
        assert took < k.manager.shutdown_wait_time / 2
    before = emu_60.counters()["requests_total"]
    time.sleep(max(2 * interval, 1.0))  # at least two poll intervals (here twelve)
    assert emu_60.counters()["requests_total"] == before
