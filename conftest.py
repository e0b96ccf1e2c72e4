"""Test-session set-up shared by the tests and the notebooks (nbval)."""

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Why: Playwright's sync API keeps an asyncio loop running in the main thread for as long as
    its session-scoped browser lives, and ``asyncio.run()`` refuses to start under a running
    loop; the tests of ``await watch`` must run before it starts.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
