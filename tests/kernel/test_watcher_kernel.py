"""SimulationWatcher in a real kernel: the widget messages it really sends."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from tests.kernel.harness import errors_of, kernel, sent_at, stdout_of

pytestmark = pytest.mark.kernel

SPEED = 60.0  # a run takes 4-8 s: long enough for several one-second refreshes


def widget_traffic(messages: list[dict[str, Any]]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """(model id -> model name, update messages in order)."""
    names: dict[str, str] = {}
    updates = []
    for msg in messages:
        content = msg["content"]
        if msg["msg_type"] == "comm_open":
            state = content["data"].get("state", {})
            names[content["comm_id"]] = state.get("_model_name", "?")
        elif msg["msg_type"] == "comm_msg" and content["data"].get("method") == "update":
            updates.append(msg)
    return names, updates


def env_for(emu: Any) -> dict[str, str]:
    """The key travels by environment, so it is in no message the test sends either."""
    return {
        "TWYN_API_KEY": emu.api_key,
        "TWYN_BASE_URL": emu.base_url,
        "TWYN_TIME_SCALE": str(1 / SPEED),
    }


def max_per_second(times: list[float]) -> int:
    """Most messages sent within any one-second window."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_watcher_sends_bar_phase_and_elapsed_updates_at_most_two_a_second(emu_60: Any) -> None:
    with kernel(env_for(emu_60)) as k:
        setup = k.execute(
            "import twyn_widgets as tw\n"
            "c = tw.TwynClient()  # key, URL and time scale from the environment\n"
            "sim = c.create_simulation('kernel test: a price rise')\n"
            "w = tw.SimulationWatcher(sim, client=c)\n"
            "w\n"
        )
        assert not errors_of(setup), errors_of(setup)
        done = k.execute("r = w.wait(3600); print('DONE', w.snapshot.state, repr(w))", timeout=90)
        assert not errors_of(done), errors_of(done)
        assert "DONE succeeded" in stdout_of(done)
        k.drain(3.5)  # the final steps go out one per second

    names, updates = widget_traffic(k.messages)
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for msg in updates:
        by_model[names.get(msg["content"]["comm_id"], "?")].append(msg["content"]["data"]["state"])
    bars = [s for s in by_model["FloatProgressModel"] if "value" in s]
    values = [s["value"] for s in bars]
    assert len(values) >= 3, values
    assert values == sorted(values), "the bar never goes back"
    assert values[-1] == 1.0
    assert (
        by_model["FloatProgressModel"][-1].get("bar_style", bars[-1].get("bar_style")) == "success"
    )

    lines = [s["value"] for s in by_model["HTMLModel"] if "value" in s]
    text = " ".join(lines)
    for phase in ("Architect, 1 of 3", "Simulator, 2 of 3", "Analyst, 3 of 3"):
        assert phase in text, f"{phase} never shown"
    elapsed = [line.split("elapsed ")[1].split("<")[0] for line in lines if "elapsed " in line]
    assert len(set(elapsed)) >= 3, "the elapsed readout does not tick"
    assert any("twyn-result" in line for line in lines), "no result view"

    assert max_per_second([sent_at(m) for m in updates]) <= 2

    summaries = [
        m for m in k.messages
        if m["msg_type"] == "update_display_data" and "text/html" in m["content"]["data"]
    ]  # fmt: skip
    assert summaries, "no static HTML summary for saved notebooks"
    assert "done" in summaries[-1]["content"]["data"]["text/html"]

    everything = json.dumps([m["content"] for m in k.messages], default=str)
    assert emu_60.api_key not in everything


def test_failed_watcher_shows_the_error_and_keeps_a_red_bar(emu_60: Any) -> None:
    with kernel(env_for(emu_60)) as k:
        out = k.execute(
            "import twyn_widgets as tw\n"
            "c = tw.TwynClient()  # key, URL and time scale from the environment\n"
            "sim = c.create_simulation('kernel test [fail:architect]')\n"
            "w = tw.SimulationWatcher(sim, client=c)\n"
            "display(w)\n"
            "try:\n    w.wait(3600)\n"
            "except tw.SimulationFailed as e:\n    print('FAILED', e.phase)\n",
            timeout=90,
        )
        assert "FAILED Architect" in stdout_of(out), errors_of(out)
        k.drain(3.5)
    names, updates = widget_traffic(k.messages)
    bar_styles = [
        m["content"]["data"]["state"]["bar_style"]
        for m in updates
        if names.get(m["content"]["comm_id"]) == "FloatProgressModel"
        and "bar_style" in m["content"]["data"]["state"]
    ]
    assert bar_styles[-1] == "danger"
    html = " ".join(
        m["content"]["data"]["state"].get("value", "")
        for m in updates
        if names.get(m["content"]["comm_id"]) == "HTMLModel"
    )
    assert "Simulation failed in the Architect phase" in html
    assert "twyn-error-log" in html
