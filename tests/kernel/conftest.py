"""Kernel tests use an emulator at 60x, so a run lasts several one-second refreshes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def emu_60() -> Iterator[Any]:
    from twyn_widgets import emulator

    with emulator.start(speed=60.0, seed=11) as server:
        yield server
