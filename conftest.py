"""Test-session set-up shared by the tests and the notebooks (nbval).

It also says how the suite spreads over processes: ``pyproject.toml`` runs it with
``-n auto --dist loadgroup --no-loadscope-reorder`` (pytest-xdist), so each test goes to
whichever worker is free, in the order set below, except the files of :data:`TOGETHER`, whose
tests run in order on one worker. ``python -m pytest <path> -n0`` runs in this process alone.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

# Why: the suite runs offline on the embedded emulator. A developer's own key or base URL must
# not send test traffic to the real API; kernels started by nbval inherit this environment.
for _name in ("TWYN_API_KEY", "TWYN_BASE_URL", "TWYN_TIME_SCALE"):
    os.environ.pop(_name, None)
# The notebooks' embedded emulator runs 120x under test (a run takes 2-4 s), not the 30x a
# person watching would want.
os.environ.setdefault("TWYN_EMULATOR_SPEED", "120")

WORKERS_PER_CORE = 2
"""Most tests wait (on a simulation, a kernel, a page) rather than compute, so ``-n auto``
starts two workers per core. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still overrides it."""

ORDER = ("tests/firstrun/", "tests/soak/", "tests/kernel/", "notebooks/")
"""The longest tests first (a brand-new venv takes a minute, the soak a minute and a half, a
notebook up to 40 s), so that none of them is left running alone at the end; then the rest in
their own order, and the browser tests last (why: :func:`pytest_collection_modifyitems`),
marimo's first (they build a venv from the package index)."""


TOGETHER = (
    # nbval runs a notebook's cells in order in one kernel.
    "notebooks/",
    # The first test builds a venv with marimo from the package index, the second uses it.
    "tests/browser/test_marimo_browser.py",
    # Its last test checks what the tests before it left on the server.
    "tests/browser/test_harness.py",
)
"""Files whose tests run on one worker, in order. (Why not ``xdist_group`` marks: pytest 9.2
keeps a test's id where pytest-xdist 3.8 no longer writes the group into it.)"""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """How many workers ``-n auto`` starts (None: pytest-xdist's own count)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return WORKERS_PER_CORE * len(os.sched_getaffinity(0))


def _rank(item: pytest.Item) -> int:
    if item.get_closest_marker("browser") is not None:
        return len(ORDER) + (1 if "marimo" in item.nodeid else 2)
    for rank, prefix in enumerate(ORDER):
        if item.nodeid.startswith(prefix):
            return rank
    return len(ORDER)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` that also keeps each file of :data:`TOGETHER` on one worker."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class Scheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.startswith(TOGETHER) else super()._split_scope(nodeid)

    return Scheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the tests: the longest first, the browser tests last.

    Why the browser tests last: Playwright's sync API keeps an asyncio loop running in the main
    thread for as long as its session-scoped browser lives, and ``asyncio.run()`` refuses to
    start under a running loop; the tests of ``await watch`` must run before it starts. Each
    worker gets its tests in this order, so it never gets another test after a browser test.
    """
    items.sort(key=_rank)  # stable: a notebook's cells and a module's tests keep their order
