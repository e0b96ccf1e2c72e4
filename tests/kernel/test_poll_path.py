"""One poll's path, as docs/architecture.md draws it: the files that run on the polling threads.

A profiler on every thread the engine starts records which of the package's files run while
a ``SimulationWatcher`` in a real kernel polls a whole run (the HTTP, the poller, the
delivery, the browser's model). The set must be the documented path and its pure leaves,
so the drawing cannot go stale unnoticed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.kernel.harness import errors_of, kernel, stdout_of

pytestmark = pytest.mark.kernel

PATH = {
    "widgets/watcher.py",
    "client.py",
    "polling/_engine.py",
    "polling/_poller.py",
    "_transport.py",
    "models.py",
    "polling/_watch.py",
    "widgets/_viewstate.py",
}
"""The 8 files of the path (docs/architecture.md, "One poll, file by file")."""

LEAVES = {
    "polling/_schedules.py",
    "polling/_budget.py",
    "polling/_snapshot.py",
    "_estimate.py",
    "_render.py",
}
"""Pure helpers the path consults (a delay, a yes or no, a value, a progress, a label)."""

TRACE = r"""
import collections, os, sys, threading, time
import twyn_widgets as tw
PKG = os.path.dirname(tw.__file__) + os.sep
seen = collections.Counter()

def profile(frame, event, arg):
    name = threading.current_thread().name
    if event == "call" and (name.startswith("twyn-poll") or name == "twyn-scheduler"):
        path = frame.f_code.co_filename
        if path.startswith(PKG) and "emulator" not in path:
            seen[os.path.relpath(path, PKG).replace(os.sep, "/")] += 1

# Why before the watcher: threading.setprofile reaches only threads started after it, and
# this kernel starts the engine's threads with the first watch.
threading.setprofile(profile)
sim = client.create_simulation("Does a 10% price rise raise churn?")
w = tw.SimulationWatcher(sim, client=client)
display(w)
w.wait(timeout=600)
time.sleep(0.3)  # the last delivery
threading.setprofile(None)
"""


def test_a_poll_runs_only_in_the_documented_files(emu_60: Any) -> None:
    env = {
        "TWYN_API_KEY": emu_60.api_key,
        "TWYN_BASE_URL": emu_60.base_url,
        "TWYN_TIME_SCALE": str(1 / 60),
    }
    with kernel(env=env) as k:
        setup = "from twyn_widgets import connect\nclient = connect(quiet=True)\n"
        assert errors_of(k.execute(setup + TRACE, timeout=120)) == []
        out = stdout_of(k.execute("import json; print(json.dumps(dict(seen)))"))
    files = set(json.loads(out))
    assert len(PATH) <= 8
    assert files - (PATH | LEAVES) == set()  # nothing runs outside the drawing
    assert PATH - files == set()  # and the drawing names no file a poll does not reach
