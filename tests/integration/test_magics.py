"""The magics through a real IPython shell (in-process), against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import twyn_widgets as tw


@pytest.fixture
def shell(emu: Any, client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("TWYN_API_KEY", emu.api_key)
    monkeypatch.setenv("TWYN_BASE_URL", emu.base_url)
    monkeypatch.setenv("TWYN_TIME_SCALE", str(1 / emu.speed))
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "twyn_widgets")
    ip.user_ns["client"] = client  # the notebook's one client: bare ids are watched with it
    yield ip
    for name in ("res", "client", "c", "other", "sim", "fresh"):
        ip.user_ns.pop(name, None)
    tw.set_default_client(None)


def test_line_magic_returns_the_result(shell: InteractiveShell, client: Any) -> None:
    sim = client.create_simulation("magic: one")
    res = shell.run_line_magic("twyn_wait", sim.id)
    assert isinstance(res, tw.SimulationResult)
    assert res.id == sim.id


def test_several_ids_give_a_list_and_out_stores_it(shell: InteractiveShell, client: Any) -> None:
    a, b = (client.create_simulation(f"magic: many {i}") for i in range(2))
    res = shell.run_line_magic("twyn_wait", f"{a.id} {b.id} -o both --schedule fixed --interval 2")
    assert [r.id for r in res] == [a.id, b.id]
    assert shell.user_ns["both"] is res


def test_a_variable_name_is_resolved_in_the_user_namespace(
    shell: InteractiveShell, client: Any
) -> None:
    shell.user_ns["sim"] = client.create_simulation("magic: by name")
    res = shell.run_line_magic("twyn_wait", "sim --quiet")
    assert res.id == shell.user_ns["sim"].id


def test_failed_raises_unless_no_raise(shell: InteractiveShell, client: Any) -> None:
    sim = client.create_simulation("magic: fails [fail:architect]")
    with pytest.raises(tw.SimulationFailed):
        shell.run_line_magic("twyn_wait", sim.id)
    out = shell.run_line_magic("twyn_wait", f"{sim.id} --no-raise")
    assert isinstance(out, tw.SimulationFailed)
    assert out.phase == "Architect"


def test_timeout_raises_wait_timeout(shell: InteractiveShell, client: Any) -> None:
    sim = client.create_simulation("magic: timeout")
    with pytest.raises(tw.WaitTimeout):
        shell.run_line_magic("twyn_wait", f"{sim.id} --timeout 5")


def test_cell_magic_waits_on_the_last_expression(shell: InteractiveShell) -> None:
    cell = (
        "import twyn_widgets as tw\n"
        "c = tw.connect()\n"
        "[c.create_simulation(f'cell {i}') for i in range(2)]\n"
    )
    res = shell.run_cell_magic("twyn_wait", "--quiet", cell)
    assert len(res) == 2
    assert all(isinstance(r, tw.SimulationResult) for r in res)
    assert "c" in shell.user_ns


@pytest.mark.parametrize(
    "line",
    ["", "--schedule weird abc", "abc --timeout soon", "abc --schedule backoff --interval 3"],
)
def test_bad_options_are_usage_errors(shell: InteractiveShell, line: str) -> None:
    with pytest.raises(UsageError):
        shell.run_line_magic("twyn_wait", line)


def test_cell_magic_without_a_last_expression_is_a_usage_error(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError):
        shell.run_cell_magic("twyn_wait", "", "x = 1\n")


def test_hostile_id_is_refused_before_any_request(shell: InteractiveShell, emu: Any) -> None:
    before = emu.counters()["requests_total"]
    with pytest.raises(UsageError, match=r"simulation id '\.\./keys' is not a valid id"):
        shell.run_line_magic("twyn_wait", "../keys")
    assert emu.counters()["requests_total"] == before


def test_a_comment_on_the_magics_line_is_a_comment(shell: InteractiveShell, client: Any) -> None:
    shell.user_ns["sim"] = client.create_simulation("magic: pasted with its comment")
    # As the README writes it: IPython expands $sim.id, then hands the magic the whole rest
    # of the line, comment included.
    done = shell.run_cell(
        "res = %twyn_wait $sim.id --quiet   # shows the watcher, blocks, returns the result"
    )
    done.raise_error()
    assert shell.user_ns["res"].id == shell.user_ns["sim"].id
    # Quoted, a # is no comment: it is part of an (invalid) id, refused as such.
    with pytest.raises(UsageError, match="simulation id 'a#b' is not a valid id"):
        shell.run_line_magic("twyn_wait", "'a#b'  # the comment")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("abc --timeout -5", r"--timeout must be a number of API seconds > 0 \(got -5\)"),
        ("abc --timeout 0", r"--timeout must be a number of API seconds > 0 \(got 0\)"),
        ("abc --timeout nan", r"--timeout must be a number of API seconds > 0 \(got nan\)"),
        ("abc --timeout inf", r"--timeout must be a number of API seconds > 0 \(got inf\)"),
        ("abc --interval 0.5", r"--interval must be at least 1 API second.*\(got 0.5\)"),
        ("abc --schedule fixed --interval 0", r"--interval must be at least 1 API second"),
        ("abc -o 1x", r"-o/--out must name a variable \(got '1x'\)"),
        ("abc -o class", r"-o/--out must name a variable \(got 'class'\)"),
        ("abc 'x y' a/b", r"simulation id 'x y' is not a valid id.*; simulation id 'a/b' is not"),
        ("abc 'unclosed", r"No closing quotation"),
    ],
)
def test_every_bad_value_is_one_usage_error_line_before_anything_starts(
    shell: InteractiveShell, emu: Any, line: str, says: str
) -> None:
    from twyn_widgets.polling._engine import get_engine

    before = emu.counters()["requests_total"]
    with pytest.raises(UsageError, match=says) as exc:
        shell.run_line_magic("twyn_wait", line)
    assert "\n" not in str(exc.value)
    assert emu.counters()["requests_total"] == before
    assert get_engine().active == 0


def test_the_help_names_the_unit_and_says_what_an_api_second_is(shell: InteractiveShell) -> None:
    from twyn_widgets.magics import TwynMagics

    text = " ".join(TwynMagics.twyn_wait.__doc__.split())
    assert "--timeout API_SECONDS" in text
    assert "--interval API_SECONDS" in text
    assert "an API second is a second on the API's clock: a real second against the real API" in (
        text
    )
    assert "1/N of a real second" in text


def test_no_raise_returns_a_timeout_instead_of_raising_it(
    shell: InteractiveShell, client: Any
) -> None:
    sim = client.create_simulation("magic: no-raise timeout")
    out = shell.run_line_magic("twyn_wait", f"{sim.id} --timeout 5 --no-raise")
    assert isinstance(out, tw.WaitTimeout)


def test_no_raise_returns_not_found_instead_of_raising_it(shell: InteractiveShell) -> None:
    out = shell.run_line_magic("twyn_wait", "00000000-0000-0000-0000-000000000000 --no-raise")
    assert isinstance(out, tw.NotFound)


def test_two_clients_in_the_namespace_need_client_and_client_picks_one(
    shell: InteractiveShell, client: Any, emu: Any
) -> None:
    from twyn_widgets import emulator

    with emulator.start(speed=emu.speed) as other_emu:
        other = other_emu.client()
        shell.user_ns["other"] = other
        sim = other.create_simulation("magic: on the other server")
        with pytest.raises(UsageError, match=r"several \(client, other\)"):
            shell.run_line_magic("twyn_wait", f"{sim.id} --quiet")
        res = shell.run_line_magic("twyn_wait", f"{sim.id} --quiet --client other")
        assert res.id == sim.id
        # A Simulation object needs no --client: it remembers the client that returned it.
        shell.user_ns["sim"] = sim
        assert shell.run_line_magic("twyn_wait", "sim --quiet").id == sim.id
        with pytest.raises(UsageError, match="no TwynClient of that name"):
            shell.run_line_magic("twyn_wait", f"{sim.id} --client nobody")
        other.close()


def test_running_waits_on_what_the_key_still_runs(shell: InteractiveShell, emu: Any) -> None:
    from twyn_widgets import emulator

    # An emulator of its own: the session's has simulations of other tests still running.
    with emulator.start(speed=emu.speed) as own:
        starter = own.client()
        sims = [starter.create_simulation(f"magic: running {i}") for i in range(3)]
        fresh = own.client()  # a new client, as after a kernel restart
        shell.user_ns.pop("client")
        shell.user_ns["fresh"] = fresh
        res = shell.run_line_magic("twyn_wait", "--running --quiet")
        assert sorted(r.id for r in res) == sorted(s.id for s in sims)
        assert shell.run_line_magic("twyn_wait", "--running --quiet") == []
