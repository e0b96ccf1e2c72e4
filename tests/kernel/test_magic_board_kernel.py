"""The magic and the board in a real kernel: results, interrupts, message rates."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.kernel.harness import errors_of, kernel, stdout_of
from tests.kernel.test_watcher_kernel import _date, env_for, max_per_second, widget_traffic

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
        html = " ".join(
            str(m["content"]["data"]["state"].get("value", ""))
            for m in k.messages
            if m["msg_type"] == "comm_msg" and "state" in m["content"]["data"]
        )
        assert "stopped watching" in html


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
    names, updates = widget_traffic(k.messages)
    assert len(updates) >= 5
    assert max_per_second([_date(m) for m in updates]) <= 2
    tables = [
        m["content"]["data"]["state"]["value"]
        for m in updates
        if names.get(m["content"]["comm_id"]) == "HTMLModel"
        and "value" in m["content"]["data"]["state"]
    ]
    assert tables[-1].count('class="twyn-row"') == 50
    assert "0 running, 50 done, 0 failed" in tables[-1]
