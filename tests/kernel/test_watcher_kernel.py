"""SimulationWatcher in a real kernel: the widget messages it really sends."""

from __future__ import annotations

import itertools
import json
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


def sims_sent(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every compact model the kernel sent to the watcher's view, in order (opening included)."""
    out = []
    for msg in messages:
        if msg["msg_type"] in ("comm_open", "comm_msg"):
            sim = msg["content"]["data"].get("state", {}).get("sim")
            if sim:
                out.append(sim)
    return out


def test_watcher_sends_its_model_only_when_something_changes(emu_60: Any) -> None:
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
        k.drain(3.5)

    names, updates = widget_traffic(k.messages)
    assert set(names.values()) <= {"AnyModel", "LayoutModel"}
    sent = sims_sent(k.messages)
    # One model per thing a person would see change, never the same one twice in a row.
    seen = [(s["status"], s["state"], s["notice"]) for s in sent]
    assert all(a != b for a, b in itertools.pairwise(seen)), seen
    assert len(sent) <= 12, seen  # 7 statuses and the end, not one a second
    for phase in ("Architect, 1 of 3", "Simulator, 2 of 3", "Analyst, 3 of 3"):
        assert any(s["phase"] == phase for s in sent), f"{phase} never sent"
    firsts = [s["anchors"][0][1] for s in sent]
    assert firsts == sorted(firsts), "the bar never goes back"
    assert sent[-1]["ended"] is True
    assert sent[-1]["state"] == "succeeded"
    assert sent[-1]["anchors"][-1][1] == 1.0
    assert max_per_second([sent_at(m) for m in updates]) <= 2

    summaries = [
        m for m in k.messages
        if m["msg_type"] == "update_display_data" and "text/html" in m["content"]["data"]
    ]  # fmt: skip
    assert summaries, "no static HTML summary for saved notebooks"
    assert "done" in summaries[-1]["content"]["data"]["text/html"]
    assert "twyn-result" in summaries[-1]["content"]["data"]["text/html"], "no result view"

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
    last = sims_sent(k.messages)[-1]
    assert last["state"] == "failed"
    assert last["accent"].startswith("var(--jp-error-color1")  # the bar stays red
    assert last["detail"]
    assert last["detail"] in last["log"]
    summaries = [
        m["content"]["data"]["text/html"]
        for m in k.messages
        if m["msg_type"] == "update_display_data" and "text/html" in m["content"]["data"]
    ]
    assert "Simulation failed in the Architect phase" in summaries[-1]
    assert "twyn-error-log" in summaries[-1]


def _notify_flags(messages: list[dict[str, Any]]) -> list[bool]:
    """The ``notify`` each view opened with, in order (what the page's bell starts from)."""
    return [
        m["content"]["data"]["state"]["notify"]
        for m in messages
        if m["msg_type"] == "comm_open" and m["content"]["data"]["state"].get("kind")
    ]


def test_notify_is_asked_by_the_magic_the_widgets_and_the_package_switch(emu_60: Any) -> None:
    with kernel(env_for(emu_60)) as k:
        out = k.execute(
            "import twyn_widgets as tw\n"
            "%load_ext twyn_widgets\n"
            "c = tw.TwynClient()\n"
            "a, b, d = (c.create_simulation(f'notify {i}') for i in range(3))\n"
            "tw.SimulationWatcher(a, client=c, autostart=False)\n",
        )
        assert not errors_of(out), errors_of(out)
        plain = _notify_flags(out)
        out = k.execute("r = %twyn_wait --notify $b.id", timeout=90)
        assert not errors_of(out), errors_of(out)
        magic = _notify_flags(out)
        out = k.execute(
            "tw.set_notify_default(True)\n"
            "tw.SimulationBoard([d], client=c)\n"
            "tw.SimulationWatcher(d, client=c, notify=False, autostart=False)\n",
        )
        assert not errors_of(out), errors_of(out)
        switched = _notify_flags(out)
    assert plain == [False]
    assert magic == [True]
    assert switched == [True, False]  # the switch sets the default; notify=False still wins
