"""Outside Jupyter, what a person sees: real processes in an 80-column pseudo-terminal, read
through a terminal emulator (pyte), against an emulator slow enough to see the line redrawn;
and a clear message without the emulator.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pyte
import pytest

import twyn_widgets as tw

SPEED = 60.0
"""A simulation lasts 4-8 s: several redraws of the line, and time to press Ctrl-C."""

COLUMNS, ROWS = 80, 24
TITLE = "Price Increase Churn Analysis"
"""Long enough that the live line must cut it at 80 columns; the final line is shorter."""

STATUS_ROW = re.compile(r"\[[=> ]{10}\] +\d+% .+")
PROMPT = re.compile(rb"In \[(\d+)\]: ")

WATCH = f"""
import twyn_widgets as tw
c = tw.TwynClient()
sim = c.create_simulation("How will a 10% price increase affect churn?", title={TITLE!r})
result = tw.SimulationWatcher(sim, client=c).wait()
print("RESULT", result.id == sim.id, sim.id[:8])
"""

BOARD = """
import twyn_widgets as tw
c = tw.TwynClient()
sims = [c.create_simulation(p) for p in (
    "How will a 10% price increase affect churn?",
    "What happens to spend with a loyalty tier? [fail:simulator]",
    "How does a free trial change retention?",
)]
out = tw.SimulationBoard(sims, client=c).wait(return_exceptions=True)
print("RESULT", [type(o).__name__ for o in out])
"""


@pytest.fixture(scope="module")
def slow_emu() -> Iterator[Any]:
    from twyn_widgets import emulator

    with emulator.start(speed=SPEED, seed=11) as server:
        yield server


@pytest.fixture(scope="module")
def slower_emu() -> Iterator[Any]:
    """Runs of 16-32 s, for the tests that press Ctrl-C mid-run: a loaded machine (tests in
    parallel) can hold the child back for seconds, and the run must still be going."""
    from twyn_widgets import emulator

    with emulator.start(speed=SPEED / 4, seed=12) as server:
        yield server


def env_of(emu: Any, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return {**base, "TWYN_API_KEY": emu.api_key, "TWYN_BASE_URL": emu.base_url,
            "TWYN_TIME_SCALE": str(1 / emu.speed), "TERM": "xterm",
            "IPYTHONDIR": str(tmp_path / "ipython")}  # fmt: skip


@pytest.fixture
def env(slow_emu: Any, tmp_path: Path) -> dict[str, str]:
    return env_of(slow_emu, tmp_path)


@pytest.fixture
def long_env(slower_emu: Any, tmp_path: Path) -> dict[str, str]:
    return env_of(slower_emu, tmp_path)


class Terminal:
    """A process in an 80x24 pseudo-terminal; what it writes goes through a terminal emulator."""

    def __init__(self, args: list[str], env: dict[str, str], rows: int = ROWS) -> None:
        self.child = pexpect.spawn(
            sys.executable, args, env=env, dimensions=(rows, COLUMNS), timeout=60
        )
        self.screen = pyte.Screen(COLUMNS, rows)
        self._stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self._mark = 0  # where the next expect looks from

    def _feed(self, data: bytes) -> None:
        self.raw += data
        self._stream.feed(data)

    def _read(self, timeout: float) -> bool:
        """Feed what comes within ``timeout``; ``False`` once the process closed the terminal."""
        try:
            self._feed(self.child.read_nonblocking(65536, timeout=timeout))
        except pexpect.TIMEOUT:
            pass
        except pexpect.EOF:
            return False
        return True

    def expect(self, pattern: bytes | re.Pattern[bytes], timeout: float = 60) -> None:
        """Read until ``pattern`` shows up in what was written since the last match."""
        # Why not pexpect's expect: it keeps what it read past a match in a buffer of its own,
        # and the screen must see every byte once, in order.
        regex = re.compile(pattern) if isinstance(pattern, bytes) else pattern
        end = time.monotonic() + timeout
        while (found := regex.search(self.raw, self._mark)) is None:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {regex.pattern!r} within {timeout} s:\n{self.dump()}")
            if not self._read(min(0.2, left)):
                raise AssertionError(f"ended before {regex.pattern!r}:\n{self.dump()}")
        self._mark = found.end()

    def expect_end(self, timeout: float = 60) -> None:
        """Read until the process closes the terminal."""
        end = time.monotonic() + timeout
        while self._read(0.2):
            if time.monotonic() > end:
                raise AssertionError(f"still running after {timeout} s:\n{self.dump()}")
        self._mark = len(self.raw)

    def read_for(self, seconds: float) -> bytes:
        """Everything written in the next ``seconds``."""
        start = len(self.raw)
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0 and self._read(min(0.2, left)):
            pass
        self._mark = len(self.raw)
        return self.raw[start:]

    def rows(self) -> list[str]:
        return [row.rstrip() for row in self.screen.display]

    def shown(self) -> list[str]:
        """The screen's rows that hold something, top to bottom."""
        return [row for row in self.rows() if row]

    def dump(self) -> str:
        return "\n".join(f"{i:2d}|{row}" for i, row in enumerate(self.rows()))


def ipython(env: dict[str, str], rows: int = ROWS) -> Terminal:
    args = ["-m", "IPython", "--simple-prompt", "--colors=NoColor", "--no-banner"]
    term = Terminal(args, env, rows)
    term.expect(PROMPT)
    for line in ("import twyn_widgets as tw", "%load_ext twyn_widgets", "c = tw.TwynClient()"):
        run(term, line)
    return term


def run(term: Terminal, line: str) -> None:
    term.child.sendline(line)
    term.expect(PROMPT)


def draws(raw: bytes) -> list[str]:
    """Each text the line was drawn with: what follows a carriage return, escapes removed."""
    text = raw.decode("utf-8", "replace").replace("\x1b[K", "")
    return [part.split("\n")[0] for part in text.split("\r")[1:] if part.strip("\n")]


def test_a_script_on_a_tty_redraws_one_line_within_80_columns_and_ends_with_one(
    env: dict[str, str],
) -> None:
    term = Terminal(["-c", WATCH], env)
    term.expect(rb"\d+%")
    started = time.monotonic()
    term.read_for(2.5)
    live = term.shown()
    assert len(live) == 1, term.dump()  # one row: it did not wrap or scroll
    assert STATUS_ROW.fullmatch(live[0]), term.dump()
    assert "% Price Increase" in live[0], term.dump()
    assert "…" in live[0], term.dump()  # the title gave way
    assert len(live[0]) <= COLUMNS - 1
    term.expect_end()
    took = time.monotonic() - started
    assert len(term.shown()) == 2, term.dump()
    final, last = term.shown()
    short = last.split()[-1]
    assert last == f"RESULT True {short}", term.dump()
    # Nothing left over from the longer live line: the final line ends with the short id.
    assert re.fullmatch(rf"✓ {TITLE} · done in \d+ s · {short}", final), term.dump()
    texts = draws(term.raw)
    assert term.raw.decode().count("✓") == 1
    assert all(len(text) <= COLUMNS - 1 for text in texts), texts
    assert sum(1 for t in texts if STATUS_ROW.fullmatch(t)) >= 3  # redrawn while it ran
    assert len(texts) <= took + 3  # at most once a second (and the final line)
    assert env["TWYN_API_KEY"].encode() not in term.raw


def test_ipython_shows_the_wait_then_the_prompt_and_nothing_after_it(env: dict[str, str]) -> None:
    term = ipython(env)
    run(term, "sim = c.create_simulation('How will a 10% price increase affect churn?')")
    term.child.sendline("res = %twyn_wait $sim.id")
    term.expect(rb"\d+%")
    term.read_for(1.5)
    rows = term.shown()
    assert rows[-2] == "In [5]: res = %twyn_wait $sim.id", term.dump()
    assert STATUS_ROW.fullmatch(rows[-1]), term.dump()
    term.expect(PROMPT)
    rows = term.shown()
    assert rows[-3] == "In [5]: res = %twyn_wait $sim.id", term.dump()
    assert re.fullmatch(r"✓ .+ · done in \d+ s · [0-9a-f]{8}", rows[-2]), term.dump()
    assert rows[-1] == "In [6]:", term.dump()
    # A watcher shown at the prompt: its ticker thread keeps refreshing it, and must stay silent
    # when the simulation ends.
    run(term, "w = tw.SimulationWatcher(c.create_simulation('quiet after'), client=c); w")
    assert term.shown()[-1] == "In [7]:", term.dump()
    assert term.read_for(12) == b"", term.dump()
    run(term, "w.snapshot.done, res.id == sim.id")
    assert "Out[7]: (True, True)" in term.shown(), term.dump()  # it did end while we watched
    term.child.sendline("exit")
    term.expect_end()


def test_await_in_ipython_draws_the_same_line(env: dict[str, str]) -> None:
    term = ipython(env)
    term.child.sendline("r = await tw.SimulationWatcher(c.create_simulation('awaited'), client=c)")
    term.expect(rb"\d+%")
    assert STATUS_ROW.fullmatch(term.shown()[-1]), term.dump()
    term.expect(PROMPT)
    rows = term.shown()
    assert re.fullmatch(r"✓ .+ · done in \d+ s · [0-9a-f]{8}", rows[-2]), term.dump()
    term.child.sendline("exit")
    term.expect_end()


def test_a_board_keeps_a_counts_line_and_prints_each_ended_simulation(
    env: dict[str, str],
) -> None:
    term = Terminal(["-c", BOARD], env)
    term.expect(rb"running")
    term.read_for(1.0)
    *ended_early, live = term.shown()  # a simulation may have ended already
    assert re.fullmatch(r"\d running · \d done · \d failed · \d+ s", live), term.dump()
    assert all(row.startswith(("✓ ", "✗ ")) for row in ended_early), term.dump()
    term.expect_end()
    *ended, final, result = term.shown()
    assert result == "RESULT ['SimulationResult', 'SimulationFailed', 'SimulationResult']"
    assert re.fullmatch(r"✗ 3 simulations: 2 done · 1 failed · \d+ s", final), term.dump()
    assert len(ended) == 3, term.dump()
    assert sum(line.startswith("✓ ") and " · done in " in line for line in ended) == 2
    (failed,) = [line for line in ended if line.startswith("✗ ")]
    assert " · failed in Simulator: Simulator failed: " in failed, term.dump()
    assert all(len(row) <= COLUMNS - 1 for row in term.rows())


def test_without_a_tty_each_status_change_is_one_plain_line(env: dict[str, str]) -> None:
    out = subprocess.run(
        [sys.executable, "-c", WATCH], env=env, capture_output=True, timeout=120, check=True
    ).stdout.decode()
    assert "\r" not in out
    assert "\x1b" not in out
    *changes, final, result = out.splitlines()
    assert result.startswith("RESULT True ")
    assert re.fullmatch(rf"✓ {TITLE} · done in \d+ s · {result.split()[-1]}", final)
    statuses = [line.split(" · ")[1] for line in changes]
    assert len(statuses) >= 3, out  # the wait saw several statuses
    assert len(set(statuses)) == len(statuses), out  # a line per change, none repeated
    order = [str(s) for s in tw.Status]
    assert statuses == sorted(statuses, key=order.index), out


def test_without_a_tty_a_board_prints_its_counts_on_change_and_each_end_once(
    env: dict[str, str],
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", BOARD], env=env, capture_output=True, timeout=120, check=True
    ).stdout.decode()
    assert "\r" not in out
    assert "\x1b" not in out
    lines = out.splitlines()
    counts = [line for line in lines if " running · " in line]
    assert counts[0].startswith("3 running · 0 done · 0 failed"), out
    assert len(counts) == len(set(line.rpartition(" · ")[0] for line in counts)), out
    assert sum(line.startswith(("✓ ", "✗ ")) for line in lines) == 4, out  # 3 ends + final
    assert re.fullmatch(r"✗ 3 simulations: 2 done · 1 failed · \d+ s", lines[-2]), out


def test_ctrl_c_in_a_script_starts_the_traceback_on_its_own_line(
    long_env: dict[str, str],
) -> None:
    term = Terminal(["-c", WATCH], long_env)
    term.expect(rb"\d+%")
    term.read_for(1.2)
    drawn = draws(term.raw)[-1]
    term.child.sendintr()
    term.expect_end()
    rows = term.shown()
    assert STATUS_ROW.fullmatch(drawn)
    assert rows[0] in (drawn, drawn + "^C"), term.dump()  # the terminal may echo ^C
    assert rows[1] == "Traceback (most recent call last):", term.dump()
    # The interrupt says what happened and how to go on (a KeyboardInterrupt still).
    assert "WatchInterrupted: stopped watching simulation" in "".join(rows), term.dump()


def test_ctrl_c_during_the_magic_leaves_the_line_and_gives_the_prompt_back(
    long_env: dict[str, str],
) -> None:
    term = ipython(long_env, rows=200)  # the whole traceback stays on the screen
    run(term, "sim = c.create_simulation('interrupted')")
    term.child.sendline("res = %twyn_wait $sim.id")
    term.expect(rb"\d+%")
    term.read_for(1.2)
    drawn = draws(term.raw)[-1]
    term.child.sendintr()
    term.expect(PROMPT)
    rows = term.rows()
    assert "In [5]: res = %twyn_wait $sim.id" in rows, term.dump()
    at = rows.index("In [5]: res = %twyn_wait $sim.id")
    assert STATUS_ROW.fullmatch(drawn)
    assert rows[at + 1] in (drawn, drawn + "^C"), term.dump()
    assert rows[at + 2], term.dump()  # what follows starts on a fresh line
    assert not STATUS_ROW.match(rows[at + 2]), term.dump()
    term.child.sendline("exit")
    term.expect_end()


def test_quiet_magic_prints_nothing_while_it_waits(env: dict[str, str]) -> None:
    term = ipython(env)
    run(term, "sim = c.create_simulation('quietly')")
    started = time.monotonic()
    run(term, "res = %twyn_wait --quiet $sim.id")
    assert time.monotonic() - started > 2  # it did wait
    rows = term.shown()
    assert rows[-2:] == ["In [5]: res = %twyn_wait --quiet $sim.id", "In [6]:"], term.dump()
    run(term, "res.id == sim.id")
    assert "Out[6]: True" in term.shown(), term.dump()
    term.child.sendline("exit")
    term.expect_end()


def test_connect_without_key_or_emulator_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from twyn_widgets import _connect

    monkeypatch.delenv("TWYN_API_KEY", raising=False)
    monkeypatch.setattr(_connect, "_embedded", None)
    monkeypatch.setattr(_connect, "_clients", {})
    monkeypatch.setitem(sys.modules, "twyn_widgets.emulator", None)  # as if not installed
    with pytest.raises(tw.ConfigurationError, match=r"pip install 'twyn-widgets\[emulator\]'"):
        tw.connect()
