"""The terminal face's lines and its in-place line, on a fake clock and a string stream."""

from __future__ import annotations

import asyncio
import io
import os
import pty
from concurrent.futures import FIRST_COMPLETED
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twyn_widgets import _terminal as T
from twyn_widgets.models import Simulation
from twyn_widgets.polling import WatchSnapshot, WatchState

T0 = datetime(2025, 11, 24, 1, 0, 0, tzinfo=timezone.utc)
SID = "1a2b3c4d-0000-4000-8000-000000000000"
LONG = "Price Increase Churn Analysis for long-standing premium customers over two quarters"


def sim(*states: tuple[str, float], title: str = LONG, error_log: str | None = None) -> Simulation:
    return Simulation.from_json({
        "id": SID, "title": title, "status": states[-1][0], "error_log": error_log,
        "lifecycle": {"states": [
            {"name": n, "at": (T0 + timedelta(seconds=s)).isoformat()} for n, s in states]},
    })  # fmt: skip


RUNNING = sim(("PENDING", 0), ("PROCESSING_CONFIG", 1), ("COMPLETED_CONFIG", 90),
              ("PROCESSING_SIMULATION", 91))  # fmt: skip
FAILED = sim(("PENDING", 0), ("PROCESSING_CONFIG", 1), ("COMPLETED_CONFIG", 90),
             ("PROCESSING_SIMULATION", 91), ("FAILED", 150),
             error_log="Simulator failed: agent pool exhausted\n  at step 10\n")  # fmt: skip


def snap(state: WatchState = WatchState.WATCHING, s: Simulation | None = RUNNING) -> WatchSnapshot:
    return WatchSnapshot(SID, state=state, simulation=s)


# -- fitting ------------------------------------------------------------------------------------


def test_the_title_gives_way_first_and_every_field_stays() -> None:
    fields = [T.Field("Simulator 2/3", drop=2), T.Field("1 min 5 s", drop=1)]
    line = T.fit("[>] ", LONG, fields, 60, T.UNICODE)
    assert T.cells(line) == 60
    assert line.startswith("[>] Price Increase")
    assert line.endswith("… · Simulator 2/3 · 1 min 5 s")


def test_once_the_title_is_short_the_lesser_fields_drop_highest_first() -> None:
    fields = [T.Field("keep", 0), T.Field("second", drop=1), T.Field("first-to-go", drop=2)]
    full = T.fit("", "t" * 16, fields, None, T.UNICODE)
    assert full == "tttttttttttttttt · keep · second · first-to-go"
    assert T.fit("", "t" * 16, fields, len(full) - 1, T.UNICODE).endswith(" · keep · second")
    assert T.fit("", "t" * 30, fields, 16 + 16, T.UNICODE) == "ttttttttttttttt… · keep · second"
    assert T.fit("", "t" * 30, fields, 16 + 8, T.UNICODE) == "tttttttttttttttt… · keep"


def test_without_a_terminal_nothing_is_dropped_and_the_title_keeps_sixty_characters() -> None:
    line = T.fit("", "x" * 100, [T.Field("a", drop=5)], None, T.UNICODE)
    assert line == "x" * 59 + "… · a"


@given(
    title=st.text(max_size=120),
    fields=st.lists(st.tuples(st.text(max_size=40), st.integers(0, 3)), max_size=5),
    width=st.integers(1, 200),
)
def test_a_fitted_line_never_exceeds_its_width(
    title: str, fields: list[tuple[str, int]], width: int
) -> None:
    title = T.clean(title)
    parts = [T.Field(T.clean(text), drop) for text, drop in fields]
    assert T.cells(T.fit("[=>  ] ", title, parts, width, T.UNICODE)) <= width


def test_wide_characters_count_two_cells_and_are_never_cut_in_half() -> None:
    assert T.cells("价格") == 4
    assert T.cut("价格上涨分析", 5) == "价格…"
    assert T.cells(T.cut("价格上涨分析", 5)) == 5


def test_server_text_cannot_drive_the_terminal() -> None:
    hostile = "Churn\x1b[2J\x1b[H study\r\nsecond line\x07\u202e"
    cleaned = T.clean(hostile)
    assert cleaned == "Churn [2J [H study second line"
    assert not any(ch in cleaned for ch in "\x1b\r\n\x07\u202e")
    assert T.first_line("\n  \nboom: it broke\nat step 3") == "boom: it broke"


@pytest.mark.parametrize(
    ("progress", "shown"),
    [
        (0.0, "[>         ]   0%"),
        (0.41, "[====>     ]  41%"),
        (0.999, "[=========>]  99%"),
        (1.0, "[==========] 100%"),
    ],
)
def test_the_bar_reads_full_only_at_the_end(progress: float, shown: str) -> None:
    assert T.bar(progress) == shown


# -- the lines ----------------------------------------------------------------------------------


def test_the_status_line_fits_eighty_columns_with_the_title_cut() -> None:
    line = T.status_line(snap(), 0.41, 125, 180, 77)
    assert line == "[====>     ]  41% Price Increase C… · Simulator 2/3 · 2 min 5 s · ~3 min left"
    assert T.cells(line) == 77
    # A longer time left no longer fits beside a title of sixteen cells: it drops first.
    line = T.status_line(snap(), 0.41, 125, 200, 77)
    assert line == "[====>     ]  41% Price Increase Churn Analysis… · Simulator 2/3 · 2 min 5 s"


def test_the_status_line_keeps_a_notice_and_drops_the_time_left_first() -> None:
    s = snap(WatchState.RETRYING).evolve(notice="HTTP 503, retry 3 in 4 s")
    line = T.status_line(s, 0.41, 125, 200, 77)
    assert "~3 min left" not in line
    assert line.endswith("HTTP 503, retry 3 in 4 s")
    assert T.cells(line) <= 77


def test_without_a_terminal_the_status_line_names_the_status_and_has_no_bar() -> None:
    line = T.status_line(snap(), 0.41, 125, 200, None)
    assert line == f"{LONG[:59]}… · PROCESSING_SIMULATION · Simulator 2/3 · 2 min 5 s"


def test_a_success_ends_with_its_duration_and_short_id() -> None:
    done = sim(("PENDING", 0), ("COMPLETED_ANALYSIS", 312), title="Churn Analysis")
    line = T.ended_line(snap(WatchState.SUCCEEDED, done), 312, 77)
    assert line == "✓ Churn Analysis · done in 5 min 12 s · 1a2b3c4d"


def test_a_failure_names_its_phase_and_the_first_line_of_its_error_log() -> None:
    line = T.ended_line(snap(WatchState.FAILED, FAILED), 150, None)
    assert line == (
        f"✗ {LONG[:59]}… · failed in Simulator: Simulator failed: agent pool exhausted "
        "· 2 min 30 s · 1a2b3c4d"
    )
    narrow = T.ended_line(snap(WatchState.FAILED, FAILED), 150, 60)
    assert narrow == "✗ Price Increase… · failed in Simulator: Simulator failed:…"


@pytest.mark.parametrize(
    ("state", "words"),
    [(WatchState.TIMED_OUT, "timed out after"), (WatchState.STOPPED, "stopped watching after")],
)
def test_a_timeout_or_a_stop_says_so_and_the_last_status_seen(
    state: WatchState, words: str
) -> None:
    line = T.ended_line(snap(state, sim(("PENDING", 0), title="T")), 65, 77)
    assert line == f"! T · {words} 1 min 5 s · last seen PENDING · 1a2b3c4d"


def test_the_counts_line_and_the_boards_final_line() -> None:
    running = [WatchState.WATCHING, WatchState.RETRYING, WatchState.SUCCEEDED, WatchState.FAILED]
    assert T.counts_line(running, 130, 77) == "2 running · 1 done · 1 failed · 2 min 10 s"
    ended = [WatchState.SUCCEEDED, WatchState.FAILED, WatchState.TIMED_OUT]
    assert T.counts_line(ended, 312, 77) == (
        "✗ 3 simulations: 1 done · 1 failed · 1 timed out · 5 min 12 s"
    )
    assert T.counts_line([WatchState.SUCCEEDED], 5, 77) == "✓ 1 simulation: 1 done · 0 failed · 5 s"


def test_a_stream_that_cannot_write_unicode_gets_ascii() -> None:
    ascii_stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    g = T.glyphs_for(ascii_stream)
    assert g is T.ASCII
    done = sim(("PENDING", 0), ("COMPLETED_ANALYSIS", 5), title="Churn")
    assert (
        T.ended_line(snap(WatchState.SUCCEEDED, done), 5, 77, g)
        == "ok Churn - done in 5 s - 1a2b3c4d"
    )
    assert T.glyphs_for(io.StringIO()) is T.UNICODE


# -- the line on a stream -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tty_line(clock: Clock, columns: int = 80) -> tuple[T.InPlaceLine, io.StringIO]:
    out = io.StringIO()
    return T.InPlaceLine(out, tty=True, clock=clock, columns=lambda: columns), out


def test_the_line_changes_at_most_once_a_second() -> None:
    clock = Clock()
    line, out = tty_line(clock)
    for tick in range(40):  # 4 s, every 0.1 s, a new text each time
        clock.now = tick / 10
        line.show(lambda _w, t=tick: f"line {t}", key=None)
    assert out.getvalue() == "".join(f"\rline {t}\x1b[K" for t in (0, 10, 20, 30))


def test_a_text_that_did_not_change_is_not_written_again() -> None:
    clock = Clock()
    line, out = tty_line(clock)
    for second in range(3):
        clock.now = second
        line.show(lambda _w: "same", key=None)
    assert out.getvalue() == "\rsame\x1b[K"


def test_the_line_is_made_for_the_terminal_width_less_the_margin() -> None:
    clock = Clock()
    widths: list[int | None] = []
    line, _ = tty_line(clock, columns=80)
    line.show(lambda w: widths.append(w) or "x", key=None)
    assert widths == [77]


def test_a_permanent_line_goes_above_and_the_line_is_drawn_again_at_once() -> None:
    clock = Clock()
    line, out = tty_line(clock)
    line.show(lambda _w: "2 running", key=None)
    clock.now = 0.3
    line.above("✓ one ended")
    line.show(lambda _w: "1 running · 1 done", key=None)
    line.end("✓ 2 simulations")
    assert out.getvalue() == (
        "\r2 running\x1b[K\r✓ one ended\x1b[K\n\r1 running · 1 done\x1b[K\r✓ 2 simulations\x1b[K\n"
    )


def test_an_interrupted_line_ends_with_a_newline_only_if_something_was_drawn() -> None:
    clock = Clock()
    line, out = tty_line(clock)
    line.break_off()
    assert out.getvalue() == ""
    line.show(lambda _w: "41%", key=None)
    line.break_off()
    line.break_off()
    assert out.getvalue() == "\r41%\x1b[K\n"


def test_without_a_terminal_each_change_is_one_plain_line() -> None:
    out = io.StringIO()
    line = T.InPlaceLine(out, tty=False, clock=Clock())
    for key in ("PENDING", "PENDING", "PROCESSING_CONFIG", "PROCESSING_CONFIG"):
        line.show(lambda w, k=key: f"{k} width={w}", key=key)
    line.above("✓ ended")
    line.end("final")
    line.break_off()
    assert out.getvalue() == ("PENDING width=None\nPROCESSING_CONFIG width=None\n✓ ended\nfinal\n")


# -- a waiting call's face ----------------------------------------------------------------------


@dataclass
class FakeWatch:
    """What the face reads of a watch: its snapshot and whether it is done."""

    snapshot: WatchSnapshot

    def done(self) -> bool:
        return self.snapshot.done


def test_a_board_prints_each_ended_row_once_above_its_counts() -> None:
    clock = Clock()
    line, out = tty_line(clock)
    a, b = FakeWatch(snap(s=None)), FakeWatch(snap(s=None))  # no answer yet: the clock's time
    face = T.WaitFace([a, b], board=True, line=line)  # type: ignore[list-item]
    face.step()
    clock.now = 0.5
    b.snapshot = snap(WatchState.FAILED, FAILED)
    face.step()
    clock.now = 0.7
    face.step()  # b is not printed again, and the counts wait for their second
    done = sim(("PENDING", 0), ("COMPLETED_ANALYSIS", 9), title="A")
    a.snapshot = snap(WatchState.SUCCEEDED, done)
    face.finish()
    assert out.getvalue() == (
        "\r2 running · 0 done · 0 failed · 0 s\x1b[K"
        "\r✗ Price Increase… · failed in Simulator: Simulator failed: agent pool exhaus…\x1b[K\n"
        "\r1 running · 0 done · 1 failed · 2 min 30 s\x1b[K"
        "\r✓ A · done in 9 s · 1a2b3c4d\x1b[K\n"
        "\r✗ 2 simulations: 1 done · 1 failed · 2 min 30 s\x1b[K\n"
    )


def test_one_watch_draws_its_status_then_one_final_line() -> None:
    clock = Clock()
    line, out = tty_line(clock)
    watch = FakeWatch(snap(s=None))
    face = T.WaitFace([watch], board=False, line=line)  # type: ignore[list-item]
    face.step()
    done = sim(("PENDING", 0), ("COMPLETED_ANALYSIS", 9), title="A")
    watch.snapshot = snap(WatchState.SUCCEEDED, done)
    clock.now = 2
    face.step()  # ended: the final line says it, not the status line
    face.finish()
    assert out.getvalue() == (
        "\r[>         ]   0% 1a2b3c4d-0000-4000-8000-000… · waiting for the server · 0 s\x1b[K"
        "\r✓ A · done in 9 s · 1a2b3c4d\x1b[K\n"
    )


def test_a_wait_that_did_not_see_the_end_leaves_its_line_and_moves_on() -> None:
    clock = Clock()
    line, out = tty_line(clock)
    face = T.WaitFace([FakeWatch(snap())], board=False, line=line)  # type: ignore[list-item]
    face.step()
    face.finish()
    assert out.getvalue().endswith("\x1b[K\n")
    assert out.getvalue().count("\r") == 1


# -- text that fits: the edges ------------------------------------------------------------------


def test_combining_marks_take_no_cell_and_fullwidth_letters_take_two() -> None:
    assert T.cells("e\u0301") == 1  # é written as e and a combining accent
    assert T.cells("\uff21\uff22") == 4  # fullwidth Latin letters A and B


def test_a_text_that_fits_exactly_is_not_cut() -> None:
    assert T.cut("abc", 3) == "abc"
    assert T.cut("abcd", 3) == "ab…"


def test_a_width_narrower_than_the_ellipsis_keeps_what_of_it_fits() -> None:
    assert T.cut("abcdef", 3, "...") == "..."
    assert T.cut("abcdef", 2, "...") == ".."
    assert T.cut("abcdef", 0, "...") == ""
    assert T.cut("abcdef", -4, "...") == ""


def test_a_blank_text_has_no_first_line() -> None:
    assert T.first_line(" \n\t\n") == ""


def test_ascii_glyphs_cut_with_three_dots_at_every_width() -> None:
    g = T.ASCII
    assert T.fit("", "x" * 100, [], None, g) == "x" * 57 + "..."
    fields = [T.Field("keep")]
    assert T.fit("", "x" * 40, fields, 30, g) == "x" * 20 + "... - keep"
    # Too narrow even for the shortest title: the whole line is cut, with three dots.
    assert T.fit("", "x" * 40, fields, 12, g) == "x" * 9 + "..."


def test_a_line_without_a_title_fills_its_width_exactly() -> None:
    states = [WatchState.WATCHING, WatchState.SUCCEEDED]
    full = T.counts_line(states, 130, None)
    assert full == "1 running · 1 done · 0 failed · 2 min 10 s"
    assert T.counts_line(states, 130, T.cells(full)) == full
    assert T.counts_line(states, 130, T.cells(full) - 1) == "1 running · 1 done · 0 failed"


def test_the_bar_holds_at_its_ends_for_progress_outside_zero_to_one() -> None:
    assert T.bar(1.7) == "[==========] 100%"
    assert T.bar(-0.3) == "[>         ]   0%"


# -- the lines: what gives way, and the states seldom seen ----------------------------------------


def test_the_status_line_drops_the_time_left_then_the_phase_then_the_elapsed_time() -> None:
    s = snap()
    widths = {
        77: "[====>     ]  41% Price Increase Churn Analysis… · Simulator 2/3 · 2 min 5 s",
        60: "[====>     ]  41% Price Increase Churn Analysis… · 2 min 5 s",
        50: "[====>     ]  41% Price Increase Chur… · 2 min 5 s",
        45: "[====>     ]  41% Price Increase Churn Analy…",
    }
    for width, shown in widths.items():
        assert T.status_line(s, 0.41, 125, 200, width) == shown, width


def test_one_second_left_is_shown_and_less_is_not() -> None:
    assert T.status_line(snap(), 0.41, 125, 1, 77).endswith(" · 2 min 5 s · ~1 s left")
    assert T.status_line(snap(), 0.41, 125, 0.5, 77).endswith(" · 2 min 5 s")


def test_a_status_of_no_known_phase_is_shown_as_the_server_wrote_it() -> None:
    future = sim(("PENDING", 0), ("WARMING_UP", 5), title="T")
    assert T.status_line(snap(s=future), 0, 5, None, 77) == "[>         ]   0% T · WARMING_UP · 5 s"


def test_without_a_terminal_a_watch_with_no_answer_yet_says_it_waits() -> None:
    line = T.status_line(snap(s=None), 0, 5, None, None)
    assert line == f"{SID} · waiting for the server · 5 s"


def test_an_ended_line_drops_the_short_id_first() -> None:
    done = sim(("PENDING", 0), ("COMPLETED_ANALYSIS", 312), title="Churn Analysis")
    ok = snap(WatchState.SUCCEEDED, done)
    assert T.ended_line(ok, 312, 48) == "✓ Churn Analysis · done in 5 min 12 s · 1a2b3c4d"
    assert T.ended_line(ok, 312, 47) == "✓ Churn Analysis · done in 5 min 12 s"
    failed = sim(("PENDING", 0), ("PROCESSING_SIMULATION", 5), ("FAILED", 150), title="Churn",
                 error_log="boom")  # fmt: skip
    bad = snap(WatchState.FAILED, failed)
    assert (
        T.ended_line(bad, 150, 59) == "✗ Churn · failed in Simulator: boom · 2 min 30 s · 1a2b3c4d"
    )
    assert T.ended_line(bad, 150, 58) == "✗ Churn · failed in Simulator: boom · 2 min 30 s"
    assert T.ended_line(bad, 150, 47) == "✗ Churn · failed in Simulator: boom"
    stopped = snap(WatchState.TIMED_OUT, sim(("PENDING", 0), title="T"))
    assert T.ended_line(stopped, 65, 61) == "! T · timed out after 1 min 5 s · last seen PENDING"
    assert T.ended_line(stopped, 65, 50) == "! T · timed out after 1 min 5 s"


def test_a_failure_before_any_phase_and_without_a_log_says_so() -> None:
    early = sim(("PENDING", 0), ("FAILED", 3), title="Churn")
    line = T.ended_line(snap(WatchState.FAILED, early), 3, None)
    assert line == "✗ Churn · failed: the server gave no error_log · 3 s · 1a2b3c4d"
    unseen = T.ended_line(snap(WatchState.FAILED, None), None, None)
    assert unseen == f"✗ {SID} · failed: the server gave no error_log · -- · 1a2b3c4d"


def test_a_long_error_is_cut_with_the_streams_ellipsis() -> None:
    failed = sim(("PENDING", 0), ("PROCESSING_SIMULATION", 5), ("FAILED", 150), title="C",
                 error_log="x" * 300)  # fmt: skip
    line = T.ended_line(snap(WatchState.FAILED, failed), 150, None, T.ASCII)
    assert line == f"x C - failed in Simulator: {'x' * 157}... - 2 min 30 s - 1a2b3c4d"
    broken = snap(WatchState.ERROR, None).evolve(error=RuntimeError("y" * 300))
    line = T.ended_line(broken, 10, None, T.ASCII)
    assert line == f"x {SID} - {'y' * 157}... - 1a2b3c4d"


def test_an_error_names_the_first_line_of_what_ended_the_watch() -> None:
    error = RuntimeError("HTTP 404: simulation not found\nbody")
    broken = snap(WatchState.ERROR, sim(("PENDING", 0), title="Churn")).evolve(error=error)
    assert T.ended_line(broken, 10, 77) == "✗ Churn · HTTP 404: simulation not found · 1a2b3c4d"
    assert T.ended_line(broken, 10, 40) == "✗ Churn · HTTP 404: simulation not found"
    assert T.ended_line(broken, 10, 30) == "✗ Churn · HTTP 404: simulatio…"
    assert T.ended_line(broken, 10, 40, T.ASCII) == "x Churn - HTTP 404: simulation not found"
    bare = T.ended_line(snap(WatchState.ERROR, None), 10, 77)
    assert bare == f"✗ {SID} · error · 1a2b3c4d"


def test_a_watch_stopped_before_any_answer_names_no_last_status() -> None:
    line = T.ended_line(snap(WatchState.STOPPED, None), None, 77)
    assert line == f"! {SID} · stopped watching after -- · 1a2b3c4d"


def test_the_counts_line_names_stopped_rows_and_always_the_done_and_failed() -> None:
    states = [WatchState.WATCHING, WatchState.STOPPED]
    assert T.counts_line(states, 5, 77) == "1 running · 0 done · 0 failed · 1 stopped · 5 s"
    both_failed = [WatchState.FAILED, WatchState.ERROR]
    assert T.counts_line(both_failed, 130, 77) == "✗ 2 simulations: 0 done · 2 failed · 2 min 10 s"
    ended = [WatchState.SUCCEEDED, WatchState.STOPPED]
    assert T.counts_line(ended, 5, 77) == "✗ 2 simulations: 1 done · 0 failed · 1 stopped · 5 s"


# -- the line on a stream: what it writes to ----------------------------------------------------


class Sink:
    """A stream with neither ``isatty`` nor ``encoding``: a bare writer some tools hand over."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_a_terminal_stream_is_redrawn_in_place_and_others_are_not() -> None:
    master, slave = pty.openpty()  # a real pseudo-terminal: isatty() is true
    try:
        with open(slave, "w", encoding="utf-8") as terminal:
            line = T.InPlaceLine(terminal)
            assert line.tty is True
            assert line.width is not None
    finally:
        os.close(master)
    assert T.InPlaceLine(io.StringIO()).tty is False
    bare = T.InPlaceLine(Sink())  # type: ignore[arg-type]
    assert bare.tty is False
    assert bare.glyphs is T.UNICODE  # no encoding named: it takes text
    assert T.InPlaceLine(io.TextIOWrapper(io.BytesIO(), encoding="ascii")).glyphs is T.ASCII


def test_the_line_writes_to_standard_output_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    line = T.InPlaceLine()
    line.show(lambda _w: "PENDING", key="PENDING")
    assert line.stream is out
    assert out.getvalue() == "PENDING\n"


def test_without_a_terminal_the_first_line_is_printed_whatever_its_key() -> None:
    out = io.StringIO()
    line = T.InPlaceLine(out, tty=False, clock=Clock())
    line.show(lambda _w: "first", key=None)
    assert out.getvalue() == "first\n"


def test_after_a_permanent_or_final_line_nothing_is_left_to_break_off() -> None:
    clock = Clock()
    line, out = tty_line(clock)
    line.above("✓ one ended")
    line.break_off()
    line.end("✓ all ended")
    line.break_off()
    assert out.getvalue() == "\r✓ one ended\x1b[K\n\r✓ all ended\x1b[K\n"


# -- a waiting call's face: the wall clock frozen -----------------------------------------------


class Frozen(datetime):
    """``datetime`` whose ``now`` stands still (the server's timestamps are compared to it)."""

    at = T0

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        # As the real one: aware in ``tz``, or naive without one.
        return cls.at.astimezone(tz) if tz is not None else cls.at.replace(tzinfo=None)


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> type[Frozen]:
    monkeypatch.setattr(T, "datetime", Frozen)
    monkeypatch.setattr(Frozen, "at", T0 + timedelta(seconds=216))  # 125 s into the Simulator
    return Frozen


def ascii_tty(clock: Clock, columns: int = 80) -> tuple[T.InPlaceLine, io.BytesIO]:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", write_through=True)
    return T.InPlaceLine(stream, tty=True, clock=clock, columns=lambda: columns), raw


def test_one_watch_shows_its_phase_elapsed_time_and_time_left_in_its_streams_glyphs(
    wall: type[Frozen],
) -> None:
    line, raw = ascii_tty(Clock(), columns=100)
    face = T.WaitFace([FakeWatch(snap())], board=False, line=line)  # type: ignore[list-item]
    face.step()
    est = snap().estimate(wall.at)
    assert est.elapsed == 216
    assert raw.getvalue().decode() == (
        f"\r{T.bar(est.progress)} Price Increase Churn Analysi... - "
        "Simulator 2/3 - 3 min 36 s - ~2 min 25 s left\x1b[K"
    )


def test_a_board_counts_running_rows_and_prints_a_stopped_row_in_its_streams_glyphs(
    wall: type[Frozen],
) -> None:
    clock = Clock()
    line, raw = ascii_tty(clock, columns=40)
    a, b = FakeWatch(snap()), FakeWatch(snap())
    face = T.WaitFace([a, b], board=True, line=line)  # type: ignore[list-item]
    face.step()
    b.snapshot = snap(WatchState.STOPPED)  # stopped mid-phase: its clock stops now
    clock.now = 1
    face.step()
    a.snapshot = snap(WatchState.STOPPED)
    face.finish()
    # 37 cells: the counts' duration gives way; the rows and the final line are cut.
    assert raw.getvalue().decode().split("\x1b[K") == [
        "\r2 running - 0 done - 0 failed",
        "\r! Price Increas... - stopped watch...",
        "\n\r1 running - 0 done - 0 failed - 1...",
        "\r! Price Increas... - stopped watch...",
        "\n\rx 2 simulations: 0 done - 0 failed...",
        "\n",
    ]


def test_a_watch_stopped_mid_phase_ends_with_the_time_it_ran_by_the_server_clock(
    wall: type[Frozen],
) -> None:
    clock = Clock()
    line, out = tty_line(clock, columns=120)
    watch = FakeWatch(snap(WatchState.STOPPED))
    face = T.WaitFace([watch], board=False, line=line)  # type: ignore[list-item]
    clock.now = 1  # the line's clock: not what the final line counts
    face.finish()
    assert out.getvalue() == (
        "\r! Price Increase Churn Analysis for… · stopped watching after 3 min 36 s · "
        "last seen PROCESSING_SIMULATION · 1a2b3c4d\x1b[K\n"
    )


def test_elapsed_time_without_timestamps_counts_from_the_face_on_the_lines_clock() -> None:
    clock = Clock()
    clock.now = 100.0
    line, out = tty_line(clock)
    face = T.WaitFace([FakeWatch(snap(s=None))], board=False, line=line)  # type: ignore[list-item]
    clock.now = 105.0
    face.step()
    assert out.getvalue().endswith(" · waiting for the server · 5 s\x1b[K")


def test_without_a_terminal_the_face_prints_one_line_per_change() -> None:
    out = io.StringIO()
    line = T.InPlaceLine(out, tty=False, clock=Clock())
    watch = FakeWatch(snap(s=None))
    face = T.WaitFace([watch], board=False, line=line)  # type: ignore[list-item]
    pending = sim(("PENDING", 0), title="A")
    config = sim(("PENDING", 0), ("PROCESSING_CONFIG", 1), title="A")
    for s in (pending, pending, config):
        watch.snapshot = snap(s=s)
        face.step()
    watch.snapshot = watch.snapshot.evolve(notice="HTTP 503, retry 1 in 2 s")
    face.step()
    face.step()
    assert [row.split(" · ")[:2] for row in out.getvalue().splitlines()] == [
        ["A", "PENDING"],
        ["A", "PROCESSING_CONFIG"],
        ["A", "PROCESSING_CONFIG"],
    ]
    assert out.getvalue().splitlines()[-1].endswith("HTTP 503, retry 1 in 2 s")


def test_without_a_terminal_a_board_prints_its_counts_when_they_change() -> None:
    out = io.StringIO()
    line = T.InPlaceLine(out, tty=False, clock=Clock())
    a, b = FakeWatch(snap(s=None)), FakeWatch(snap(s=None))
    face = T.WaitFace([a, b], board=True, line=line)  # type: ignore[list-item]
    face.step()
    face.step()
    a.snapshot = snap(WatchState.RETRYING, None)  # still running: the counts stand
    face.step()
    b.snapshot = snap(WatchState.STOPPED, None)
    face.step()
    assert out.getvalue().splitlines() == [
        "2 running · 0 done · 0 failed · 0 s",
        f"! {SID} · stopped watching after 0 s · 1a2b3c4d",
        "1 running · 0 done · 0 failed · 1 stopped · 0 s",
    ]


def test_a_face_draws_on_standard_output_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    face = T.WaitFace([FakeWatch(snap(s=None))], board=False)  # type: ignore[list-item]
    face.step()
    assert out.getvalue() == f"{SID} · waiting for the server · 0 s\n"


# -- wait() and wait_async(): their loop on a fake clock ----------------------------------------


class Waiting:
    """The clock of a wait: ``monotonic`` reads it; a wait or a sleep moves it on, and is noted."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.waits: list[tuple[object, object, object]] = []
        self.interrupt_at: int | None = None  # the wait that Ctrl-C interrupts

    def monotonic(self) -> float:
        return self.now

    def _step(self, fs: object, timeout: object, return_when: object) -> None:
        self.waits.append((fs, timeout, return_when))
        if len(self.waits) == self.interrupt_at:
            raise KeyboardInterrupt
        if len(self.waits) > 50:  # a loop that would not end fails instead
            raise AssertionError("the wait did not end")
        self.now += timeout  # type: ignore[operator]

    def wait(
        self, fs: object, timeout: object = None, return_when: object = "ALL_COMPLETED"
    ) -> tuple[set[object], set[object]]:
        self._step(fs, timeout, return_when)
        return set(), set()

    async def sleep(self, delay: object) -> None:
        self._step(None, delay, None)


@dataclass
class EndsAt:
    """A watch that ends (in success) once the clock reaches ``at``."""

    clock: Waiting
    at: float

    @property
    def snapshot(self) -> WatchSnapshot:
        if self.clock.now < self.at:
            return snap(s=None)
        return snap(WatchState.SUCCEEDED, sim(("PENDING", 0), ("COMPLETED_ANALYSIS", 9), title="A"))

    def done(self) -> bool:
        return self.snapshot.done


@pytest.fixture
def waiting(monkeypatch: pytest.MonkeyPatch) -> Waiting:
    clock = Waiting(100.0)
    monkeypatch.setattr(T, "time", SimpleNamespace(monotonic=clock.monotonic))
    futures = SimpleNamespace(wait=clock.wait, FIRST_COMPLETED=FIRST_COMPLETED)
    monkeypatch.setattr(T, "concurrent", SimpleNamespace(futures=futures))
    monkeypatch.setattr(T, "asyncio", SimpleNamespace(sleep=clock.sleep))
    return clock


ONE_STATUS = f"\r[>         ]   0% {SID[:27]}… · waiting for the server · 0 s\x1b[K"
ONE_END = "\r✓ A · done in 9 s · 1a2b3c4d\x1b[K\n"
BOARD_STATUS = "\r1 running · 0 done · 0 failed · 0 s\x1b[K"
BOARD_END = (
    "\r✓ A · done in 9 s · 1a2b3c4d\x1b[K\n\r✓ 1 simulation: 1 done · 0 failed · 9 s\x1b[K\n"
)


def face_line(clock: Waiting) -> tuple[T.InPlaceLine, io.StringIO]:
    out = io.StringIO()
    return T.InPlaceLine(out, tty=True, clock=clock.monotonic, columns=lambda: 80), out


def test_wait_looks_at_the_watches_every_fifth_of_a_second_until_they_end(
    waiting: Waiting,
) -> None:
    line, out = face_line(waiting)
    watch = EndsAt(waiting, at=100.5)
    T.wait([watch], line=line)  # type: ignore[list-item]
    assert waiting.waits == [([watch], T.POLL, FIRST_COMPLETED)] * 3
    assert out.getvalue() == ONE_STATUS + ONE_END


def test_wait_on_a_board_draws_the_counts_then_the_final_line(waiting: Waiting) -> None:
    line, out = face_line(waiting)
    T.wait([EndsAt(waiting, at=100.3)], board=True, line=line)  # type: ignore[list-item]
    assert out.getvalue() == BOARD_STATUS + BOARD_END


def test_wait_stops_at_its_timeout_and_leaves_the_line_as_it_was(waiting: Waiting) -> None:
    line, out = face_line(waiting)
    watch = EndsAt(waiting, at=110.0)
    T.wait([watch], 0.5, board=True, line=line)  # type: ignore[list-item]
    # The last wait is cut to the time left: the call returns on time.
    assert [w[1] for w in waiting.waits] == pytest.approx([0.2, 0.2, 0.1])
    assert waiting.now == 100.5
    assert out.getvalue() == BOARD_STATUS + "\n"


def test_an_interrupted_wait_ends_its_line_and_lets_the_interrupt_through(
    waiting: Waiting,
) -> None:
    waiting.interrupt_at = 1
    line, out = face_line(waiting)
    with pytest.raises(KeyboardInterrupt):
        T.wait([EndsAt(waiting, at=110.0)], line=line)  # type: ignore[list-item]
    assert out.getvalue() == ONE_STATUS + "\n"


@pytest.mark.parametrize(("board", "shown"), [(False, ONE_STATUS + ONE_END),
                                              (True, BOARD_STATUS + BOARD_END)])  # fmt: skip
def test_wait_async_sleeps_a_fifth_of_a_second_between_looks(
    waiting: Waiting, board: bool, shown: str
) -> None:
    line, out = face_line(waiting)
    watches = [EndsAt(waiting, at=100.5)]
    if board:
        asyncio.run(T.wait_async(watches, board=True, line=line))  # type: ignore[arg-type]
    else:
        asyncio.run(T.wait_async(watches, line=line))  # type: ignore[arg-type]
    assert waiting.waits == [(None, T.POLL, None)] * 3
    assert out.getvalue() == shown
