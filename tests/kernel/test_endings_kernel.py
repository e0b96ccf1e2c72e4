"""In a real kernel: how a watch ends that is not a result, in words that say what happened."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kernel.harness import errors_of, kernel, stdout_of
from tests.kernel.test_watcher_kernel import env_for

pytestmark = pytest.mark.kernel


def test_stop_and_timeout_say_what_happened_and_how_to_go_on(emu_60: Any) -> None:
    with kernel(env_for(emu_60)) as k:
        out = k.execute(
            "import concurrent.futures, twyn_widgets as tw\n"
            "c = tw.TwynClient()  # time_scale 1/60 from the environment\n"
            "sim = c.create_simulation('endings: stop')\n"
            "w = tw.SimulationWatcher(sim, client=c)\n"
            "display(w)\n"
            "w.stop()\n"
            "try:\n    w.wait(1800)\n"
            "except tw.WatchStopped as exc:\n"
            "    print('STOPPED', isinstance(exc, concurrent.futures.CancelledError), '|', exc)\n"
            "slow = c.create_simulation('endings: timeout')\n"
            "try:\n    c.watch(slow, timeout=30).result(1800)\n"
            "except tw.WaitTimeout as exc:\n    print('TIMEOUT |', exc)\n",
            timeout=90,
        )
        assert not errors_of(out), errors_of(out)
        text = stdout_of(out)
    stopped = next(line for line in text.splitlines() if line.startswith("STOPPED"))
    assert stopped.startswith("STOPPED True |")
    assert "stopped watching simulation" in stopped
    assert "keeps running on the server" in stopped
    timeout = next(line for line in text.splitlines() if line.startswith("TIMEOUT"))
    # 30 API seconds, as asked (0.5 real seconds at 60x), and the call that resumes the wait.
    assert "after 30 s (timeout=30)" in timeout, timeout
    assert "keeps running on the server" in timeout
    assert "client.watch(" in timeout
    assert "goes on on" not in text
