"""Widgets outside Jupyter (plain Python): waiting, traits, text faces, escaping, no key."""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import json
import re
import time
from typing import Any

import pytest

import twyn_widgets as tw
from tests.conftest import real
from twyn_widgets.polling import WatchState
from twyn_widgets.widgets import SimulationBoard, SimulationWatcher

HOSTILE = "<img src=x onerror=alert(1)>"


def _text(markup: str) -> str:
    """The visible text of an HTML fragment (tags dropped, entities kept as written)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", markup))


def state_of(widget: Any) -> str:
    """Every synced trait of the widget's browser view, as JSON (what an .ipynb would save)."""
    return json.dumps(widget.widget.get_state(), default=str)


def ended_view(widget: Any) -> dict[str, Any]:
    """The model the browser was last sent, once it says the watch ended."""
    deadline = time.monotonic() + 5
    while not widget.view_state.get("ended") and time.monotonic() < deadline:
        time.sleep(0.05)
    return dict(widget.view_state)


def test_watcher_waits_and_exposes_result_and_traits(client: Any) -> None:
    sim = client.create_simulation("widget: plain python")
    w = SimulationWatcher(sim, client=client)
    seen: list[str] = []
    w.observe(lambda change: seen.append(change["new"]), "status")
    result = w.wait(real(20))
    assert result.id == sim.id
    assert w.result is result
    deadline = time.monotonic() + 5
    while w.status != "COMPLETED_ANALYSIS" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert w.status == "COMPLETED_ANALYSIS"
    assert w.progress == 1.0
    assert w.phase == "Analyst, 3 of 3"
    assert seen


def test_watcher_is_awaitable(client: Any) -> None:
    sim = client.create_simulation("widget: await")
    w = SimulationWatcher(sim, client=client)

    async def main() -> tw.SimulationResult:
        return await w

    assert asyncio.run(main()).id == sim.id


def test_repr_is_deterministic_text_without_ids_of_widgets(client: Any) -> None:
    sim = client.create_simulation("widget: repr")
    w = SimulationWatcher(sim, client=client)
    w.wait(real(20))
    text = repr(w)
    assert text.startswith(f"SimulationWatcher(id={sim.id!r}, status=COMPLETED_ANALYSIS")
    assert "Analyst, 3 of 3" in text
    assert w.widget.model_id not in text


def test_server_strings_are_escaped_and_the_key_is_in_no_widget_state(
    client: Any, emu: Any
) -> None:
    sim = client.create_simulation(f"widget: {HOSTILE}", title=HOSTILE)
    w = SimulationWatcher(sim, client=client)
    w.wait(real(20))
    # The browser gets the title as data, to set as text (the module never parses it as HTML:
    # tests/package and the browser's XSS test show that); the key is in no state.
    assert ended_view(w)["title"] == HOSTILE
    everything = state_of(w)
    assert emu.api_key not in everything
    bundle = w._repr_mimebundle_()  # the static outcome, saved in the notebook: escaped
    assert "&lt;img src=x onerror=alert(1)&gt;" in bundle["text/html"]
    assert HOSTILE not in bundle["text/html"]
    assert emu.api_key not in json.dumps(bundle)


def test_failed_watcher_raises_and_keeps_a_red_bar(client: Any) -> None:
    sim = client.create_simulation("widget: fail [fail:simulator]")
    w = SimulationWatcher(sim, client=client)
    with pytest.raises(tw.SimulationFailed):
        w.wait(real(20))
    view = ended_view(w)
    assert view["state"] == "failed"
    assert view["accent"].startswith("var(--jp-error-color1")  # the bar's colour: red
    assert view["phase"] == "Simulator, 2 of 3"
    assert view["detail"]
    assert view["detail"] in view["log"]
    assert "Simulation failed in the Simulator phase" in w._repr_mimebundle_()["text/html"]


def test_closing_a_watcher_stops_its_watch(client: Any) -> None:
    sim = client.create_simulation("widget: close")
    w = SimulationWatcher(sim, client=client)
    watch = w.watch
    assert watch is not None
    w.close()
    assert isinstance(watch.exception(0), tw.WatchStopped)
    assert watch.snapshot.state is WatchState.STOPPED


def test_board_gives_results_in_order_and_as_completed(client: Any) -> None:
    sims = [client.create_simulation(f"board: {i}") for i in range(4)]
    board = SimulationBoard(sims[:3], client=client)
    board.add(sims[3])
    results = board.wait(real(30))
    assert [r.id for r in results] == [s.id for s in sims]  # type: ignore[union-attr]
    assert {r.id for r in board.as_completed()} == {s.id for s in sims}  # type: ignore[union-attr]
    assert board.counts() == {"running": 0, "done": 4, "failed": 0, "other": 0}
    assert repr(board) == "SimulationBoard(4 simulations: 0 running, 4 done, 0 failed)"


def test_board_failures_raise_or_stand_in_their_row(client: Any) -> None:
    ok = client.create_simulation("board: ok")
    bad = client.create_simulation("board: bad [fail:analyst]")
    board = SimulationBoard([ok, bad], client=client)
    with pytest.raises(tw.SimulationFailed):
        board.wait(real(30))
    out = board.wait(real(30), return_exceptions=True)
    assert isinstance(out[1], tw.SimulationFailed)


def test_a_failed_board_row_shows_its_phase_and_error_log(client: Any) -> None:
    ok = client.create_simulation("board: ok")
    bad = client.create_simulation("board: bad [fail:analyst]")
    board = SimulationBoard([ok, bad], client=client)
    board.wait(real(30), return_exceptions=True)
    log = client.get_simulation(bad.id).error_log
    assert log
    deadline = time.monotonic() + 5  # what the page gets: the row's model, sent on change
    while not board.view_state[1].get("ended") and time.monotonic() < deadline:
        time.sleep(0.05)
    row = board.view_state[1]
    assert row["log"] == log
    assert row["phase"] == "Analyst, 3 of 3"
    assert row["word"] == "failed"
    static = board._repr_mimebundle_()["text/html"]  # what the notebook keeps
    assert html.escape(log.replace("\n", " "))[:40] in static
    assert "failed in the Analyst" in _text(static)


def test_board_is_awaitable_and_stop_all_stops_every_row(client: Any) -> None:
    sims = [client.create_simulation(f"board: await {i}") for i in range(2)]
    board = SimulationBoard(sims, client=client)

    async def main() -> list[tw.SimulationResult]:
        return await board

    assert len(asyncio.run(main())) == 2
    slow = [client.create_simulation(f"board: stop {i}") for i in range(2)]
    board2 = SimulationBoard(slow, client=client, timeout=10_000)
    board2.stop()
    assert all(isinstance(w.exception(0), tw.WatchStopped) for w in board2.watches)


@pytest.mark.parametrize("how", ["watcher", "watch", "board", "as_completed"])
def test_a_wait_timeout_counts_api_seconds_like_every_other_timeout(emu: Any, how: str) -> None:
    # A client running 60x faster: 60 API seconds are one real second, for the wait as for
    # the watch's own timeout (600 API s, 10 real s here) and the simulation.
    client = emu.client(time_scale=1 / 60)
    sim = client.create_simulation(f"widget: wait timeout in API seconds ({how})")
    emu.force_status(sim.id, "PROCESSING_SIMULATION", duration=30)  # it runs past every wait
    waits = {
        "watcher": lambda: SimulationWatcher(sim, client=client).wait(timeout=60),
        "watch": lambda: client.watch(sim).result(timeout=60),
        "board": lambda: SimulationBoard([sim], client=client).wait(timeout=60),
        "as_completed": lambda: list(SimulationBoard([sim], client=client).as_completed(60)),
    }
    started = time.monotonic()
    try:
        with pytest.raises(concurrent.futures.TimeoutError, match="after 60 API seconds") as exc:
            waits[how]()
        took = time.monotonic() - started
    finally:
        emu.clear_faults()
        client.close()
    assert not isinstance(exc.value, tw.WaitTimeout)  # the wait gave up, not the watch
    assert 0.9 <= took < 3.0, f"waited {took:.2f} real s for 60 API s at 60x"
