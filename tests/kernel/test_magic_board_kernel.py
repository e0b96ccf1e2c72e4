"""The magic and the board in a real kernel: results, interrupts, message rates."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.kernel.harness import errors_of, kernel, sent_at, stdout_of
from tests.kernel.test_watcher_kernel import env_for, max_per_second, sims_sent

pytestmark = pytest.mark.kernel


def test_twyn_wait_returns_the_result_in_a_kernel(emu_60: Any) -> None:
    with kernel(env_for(emu_60)) as k:
        out = k.execute(
            "%load_ext twyn_widgets\n"
            "import twyn_widgets as tw\n"
            "sid = tw.connect().create_simulation('kernel magic').id\n"
            "res = %twyn_wait $sid\n"
            "print('RESULT', res.id == sid, bool(res.analysis.executive_summary))\n",
            timeout=90,
        )
        assert not errors_of(out), errors_of(out)
        assert "RESULT True True" in stdout_of(out)
        opened = [m for m in out if m["msg_type"] == "comm_open"]
        assert opened, "the magic showed no widget"


def test_interrupt_ends_twyn_wait_within_a_second_and_nothing_keeps_polling(emu_60: Any) -> None:
    with kernel(env_for(emu_60)) as k:
        k.execute(
            "%load_ext twyn_widgets\n"
            "import twyn_widgets as tw\n"
            "sid = tw.connect().create_simulation('kernel interrupt').id\n"
        )
        msg_id = k.client.execute("res = %twyn_wait $sid")
        k.drain(1.5)
        sent = time.monotonic()
        k.interrupt()
        out = k.collect(msg_id, timeout=10)
        took = time.monotonic() - sent
        errors = errors_of(out)
        assert errors
        assert "WatchInterrupted" in errors[0]  # a KeyboardInterrupt that says what happened
        assert took < 1.0, f"interrupt took {took:.2f} s"
        before = emu_60.counters()["requests_total"]
        check = k.execute(
            "import time; time.sleep(1.5)\n"
            "from twyn_widgets.polling._engine import get_engine\n"
            "print('ACTIVE', get_engine().active)\n"
        )
        assert "ACTIVE 0" in stdout_of(check)
        assert emu_60.counters()["requests_total"] == before
        # The view was told the watch stopped (its last model), not left "running".
        assert sims_sent(k.messages)[-1]["word"] == "stopped watching"


def test_board_of_fifty_sends_at_most_two_messages_a_second(emu_60: Any) -> None:
    with kernel(env_for(emu_60)) as k:
        out = k.execute(
            "import twyn_widgets as tw\n"
            "c = tw.connect()\n"
            "sims = [c.create_simulation(f'board row {i}') for i in range(50)]\n"
            "b = tw.SimulationBoard(sims, client=c)\n"
            "display(b)\n"
        )
        assert not errors_of(out), errors_of(out)
        # b.wait counts API seconds: 7200 are 120 real seconds at 60x.
        done = k.execute("r = b.wait(7200); print('COUNTS', b.counts())", timeout=150)
        assert "'done': 50" in stdout_of(done), errors_of(done)
        k.drain(2.5)
    # What the kernel sent the board's view: the rows at opening, then only changed rows.
    rows: dict[int, dict[str, Any]] = {}
    deltas = []
    for m in k.messages:
        data = m["content"].get("data", {}) if m["msg_type"] in ("comm_open", "comm_msg") else {}
        if m["msg_type"] == "comm_open" and data.get("state", {}).get("kind") == "board":
            rows = dict(enumerate(data["state"]["rows"]))
        elif data.get("method") == "custom" and "rows" in data.get("content", {}):
            deltas.append(m)
            for index, row in data["content"]["rows"]:
                assert row != rows.get(index), f"row {index} sent again unchanged"
                rows[index] = row
    assert len(rows) == 50
    assert all(row["state"] == "succeeded" for row in rows.values())
    assert len(deltas) >= 5
    assert max_per_second([sent_at(m) for m in deltas]) <= 2
    # Never the whole table again: each message carries only rows that changed (above), at
    # most one message a second, and a row changes at each status, not each second.
    assert sum(len(m["content"]["data"]["content"]["rows"]) for m in deltas) <= 50 * 9
