"""In a real kernel: simulations are watched on the server they came from, and after a restart
``list_running`` and ``SimulationBoard.running`` find what still runs. Nothing starts a second
server behind the user's back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kernel.harness import errors_of, kernel, stdout_of

pytestmark = pytest.mark.kernel


def _by_hand_env(emu: Any) -> dict[str, str]:
    # No TWYN_API_KEY: the client is built by hand (its key comes from another variable, so the
    # key is in no code the test sends either).
    return {
        "TWYN_API_KEY": "",
        "TEST_EMU_KEY": emu.api_key,
        "TEST_EMU_URL": emu.base_url,
        "TEST_EMU_SCALE": str(1 / emu.speed),
    }


SETUP = (
    "import os, twyn_widgets as tw\n"
    "client = tw.TwynClient(api_key=os.environ['TEST_EMU_KEY'],"
    " base_url=os.environ['TEST_EMU_URL'], time_scale=float(os.environ['TEST_EMU_SCALE']))\n"
)


def test_a_client_built_by_hand_serves_the_watcher_and_a_bare_id_in_the_magic(
    emu_60: Any,
) -> None:
    with kernel(_by_hand_env(emu_60)) as k:
        out = k.execute(
            SETUP + "sim = client.create_simulation('by hand: watcher')\n"
            "w = tw.SimulationWatcher(sim)\n"
            "display(w)\n"
            "r = w.wait(3600)  # API seconds: 60 real s at 60x\n"
            "print('WATCHER', r.id == sim.id)\n",
            timeout=90,
        )
        assert not errors_of(out), errors_of(out)
        assert "WATCHER True" in stdout_of(out)
        out = k.execute(
            "%load_ext twyn_widgets\n"
            "sid = client.create_simulation('by hand: magic').id\n"
            "r2 = %twyn_wait $sid\n"
            "print('MAGIC', r2.id == sid)\n",
            timeout=90,
        )
        assert not errors_of(out), errors_of(out)
        assert "MAGIC True" in stdout_of(out)
        assert "local Twyn emulator" not in stdout_of(k.messages)  # no second server started


def test_list_running_from_a_fresh_client_and_a_board_of_them(emu_60: Any) -> None:
    from twyn_widgets import emulator

    # An emulator of its own: nothing else runs on it.
    with emulator.start(speed=60.0) as own, kernel(_by_hand_env(own)) as k:
        started = own.client()
        ids = sorted(started.create_simulation(f"after restart {i}").id for i in range(3))
        out = k.execute(
            SETUP + "running = client.list_running()\n"
            "print('RUNNING', sorted(s.id for s in running))\n"
            "board = tw.SimulationBoard.running()\n"
            "display(board)\n"
            "results = board.wait(3600)  # API seconds: 60 real s at 60x\n"
            "print('DONE', sorted(r.id for r in results))\n"
            "print('AFTER', client.list_running())\n",
            timeout=90,
        )
        assert not errors_of(out), errors_of(out)
        text = stdout_of(out)
        assert f"RUNNING {ids}" in text
        assert f"DONE {ids}" in text
        assert "AFTER []" in text


def test_client_picks_the_named_client_and_no_raise_returns_a_timeout(emu_60: Any) -> None:
    from twyn_widgets import emulator

    # Two servers and a client of each in the notebook: a bare id needs --client.
    with emulator.start(speed=60.0) as other:
        env = {**_by_hand_env(emu_60), "OTHER_KEY": other.api_key, "OTHER_URL": other.base_url}
        with kernel(env) as k:
            out = k.execute(
                SETUP + "second = tw.TwynClient(api_key=os.environ['OTHER_KEY'],"
                " base_url=os.environ['OTHER_URL'], time_scale=1 / 60)\n"
                "sid = second.create_simulation('on the second server').id\n"
                "%load_ext twyn_widgets\n"
                "try:\n    %twyn_wait $sid --quiet\n"
                "except Exception as exc:\n    print('AMBIGUOUS', type(exc).__name__, exc)\n"
                "r = %twyn_wait $sid --client second\n"
                "print('PICKED', r.id == sid)\n"
                "slow = second.create_simulation('slow').id\n"
                "t = %twyn_wait $slow --client second --timeout 30 --no-raise\n"
                "print('RETURNED', type(t).__name__)\n",
                timeout=90,
            )
            assert not errors_of(out), errors_of(out)
            text = stdout_of(out)
    assert "AMBIGUOUS UsageError which client?" in text, text
    assert "(client, second)" in text
    assert "PICKED True" in text
    assert "RETURNED WaitTimeout" in text


def test_connect_with_a_key_names_its_server_once_under_the_connecting_cell(emu_60: Any) -> None:
    from tests.kernel.test_watcher_kernel import env_for
    from twyn_widgets._transport import mask_key

    with kernel(env_for(emu_60)) as k:
        first = k.execute("import twyn_widgets as tw\nc = tw.connect()\n")
        again = k.execute("c2 = tw.connect(); print('SAME', c2 is c)\n")
        quiet = k.execute("c3 = tw.connect(timeout=7, quiet=True)\n")
    line = f"twyn-widgets: using {emu_60.base_url} with key {mask_key(emu_60.api_key)}\n"
    assert stdout_of(first) == line  # from the cell's own thread, so under that cell
    assert stdout_of(again) == "SAME True\n"  # the same client: no second line
    assert stdout_of(quiet) == ""
    assert emu_60.api_key not in str(k.messages)
