"""The terminal face's lines and its in-place line, on a fake clock and a string stream."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

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
