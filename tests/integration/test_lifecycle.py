"""Re-running cells: the same connection, the same watch, no double polling."""

from __future__ import annotations

from typing import Any

import pytest

import twyn_widgets as tw
from tests.conftest import real
from twyn_widgets.polling._engine import get_engine
from twyn_widgets.widgets import SimulationWatcher


def test_rerunning_a_cell_joins_the_running_watch(
    emu: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWYN_API_KEY", emu.api_key)
    monkeypatch.setenv("TWYN_BASE_URL", emu.base_url)
    monkeypatch.setenv("TWYN_TIME_SCALE", str(1 / emu.speed))
    first_client = tw.connect()
    sim = first_client.create_simulation("lifecycle: re-run")
    # The cell `w = SimulationWatcher(sid)` run twice:
    first = SimulationWatcher(sim.id)
    second = SimulationWatcher(sim.id)
    assert tw.connect() is first_client
    assert first.watch is not None
    assert second.watch is not None
    assert get_engine().watching(first_client) == 1
    assert first.wait(real(20)).id == second.wait(real(20)).id


def test_a_closed_client_is_not_handed_out_again(emu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWYN_API_KEY", emu.api_key)
    monkeypatch.setenv("TWYN_BASE_URL", emu.base_url)
    client = tw.connect()
    client.close()
    assert tw.connect() is not client


def test_a_new_time_scale_in_the_environment_gets_a_client_at_that_pace(
    emu: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWYN_API_KEY", emu.api_key)
    monkeypatch.setenv("TWYN_BASE_URL", emu.base_url)
    monkeypatch.setenv("TWYN_TIME_SCALE", "1")
    real_pace = tw.connect(quiet=True)
    monkeypatch.setenv("TWYN_TIME_SCALE", str(1 / emu.speed))
    sped_up = tw.connect(quiet=True)
    assert (real_pace.time_scale, sped_up.time_scale) == (1.0, 1 / emu.speed)
    assert tw.connect(quiet=True) is sped_up  # the same environment: the same client
