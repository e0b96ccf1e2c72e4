"""Test-session set-up shared by the tests and the notebooks (nbval).

It also says how the suite spreads over processes: ``pyproject.toml`` runs it with
``-n auto --dist loadgroup --no-loadscope-reorder`` (pytest-xdist), so each test goes to
whichever worker is free, in the order set below, except the tests of one ``xdist_group``,
which run in order on one worker. ``python -m pytest <path> -n0`` runs in this process alone.
"""

from __future__ import annotations

import os

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

FIRST = ("firstrun", "slow", "kernel")
"""Markers of the longest tests, started first so that none of them is left running alone at
the end (a brand-new venv takes a minute, the soak a minute and a half)."""


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """How many workers ``-n auto`` starts (None: pytest-xdist's own count)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return WORKERS_PER_CORE * len(os.sched_getaffinity(0))


def _rank(item: pytest.Item) -> int:
    if item.get_closest_marker("browser") is not None:
        return len(FIRST) + 1
    for rank, marker in enumerate(FIRST):
        if item.get_closest_marker(marker) is not None:
            return rank
    return len(FIRST)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the tests (the longest first, the browser tests last) and keep each notebook's
    cells on one worker.

    Why the browser tests last: Playwright's sync API keeps an asyncio loop running in the main
    thread for as long as its session-scoped browser lives, and ``asyncio.run()`` refuses to
    start under a running loop; the tests of ``await watch`` must run before it starts. Each
    worker runs its tests in this order, so a worker never gets another test after a browser
    test. Why tryfirst: pytest-xdist reads the ``xdist_group`` marks in its own hook of this
    name. nbval runs a notebook's cells in order in one kernel, so they form one group.
    """
    items.sort(key=_rank)  # stable: a notebook's cells and a module's tests keep their order
    if config.pluginmanager.hasplugin("xdist"):
        for item in items:
            if type(item).__name__ == "IPyNbCell":
                item.add_marker(pytest.mark.xdist_group(item.path.name))
