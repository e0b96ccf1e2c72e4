"""The terminal face of a waiting call: one status line redrawn in place, then one final line.

Outside a kernel no widget can show, so ``watcher.wait()``, ``board.wait()``, ``await`` and
``%twyn_wait`` draw here instead, and only while they wait: nothing in this module runs on a
background thread. On a TTY one line is redrawn in place (at most once a second, within the
terminal's width) and ends with one final line; a board also prints one permanent line per
simulation as it ends. Without a TTY (a CI log, a pipe) each status change is one plain line:
no carriage return, no escape codes.

The line builders are pure functions of a snapshot and a width; :class:`InPlaceLine` owns the
stream and the clock; :func:`wait` and :func:`wait_async` drive them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import sys
import time
import unicodedata
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

from ._humanize import duration
from ._render import ERROR_LIMIT, TITLE_LIMIT, state_style, title_of
from .polling import Watch, WatchSnapshot, WatchState

__all__ = [
    "ASCII",
    "UNICODE",
    "Field",
    "Glyphs",
    "InPlaceLine",
    "WaitFace",
    "bar",
    "cells",
    "clean",
    "counts_line",
    "cut",
    "ended_line",
    "first_line",
    "fit",
    "glyphs_for",
    "status_line",
    "wait",
    "wait_async",
]

CLEAR = "\x1b[K"
"""Erase from the cursor to the end of the line: a shorter line leaves nothing of a longer one."""

REFRESH = 1.0
"""Seconds between two draws of the line: it changes at most once a second, as the widgets do."""

POLL = 0.2
"""Seconds between two looks at the watches: short, so Ctrl-C ends the wait at once."""

TITLE_MIN = 16
"""Cells a title keeps before lesser fields give way (it is the first to give way)."""

MARGIN = 3
"""Cells kept free at the right of the terminal (see :attr:`InPlaceLine.width`)."""

BAR = 10
"""Cells inside the brackets of the progress bar."""


@dataclass(frozen=True, slots=True)
class Glyphs:
    """The few non-ASCII characters of the lines, with an ASCII set for streams that lack them."""

    ok: str
    fail: str
    warn: str
    sep: str
    ellipsis: str


UNICODE = Glyphs(ok="✓", fail="✗", warn="!", sep=" · ", ellipsis="…")
ASCII = Glyphs(ok="ok", fail="x", warn="!", sep=" - ", ellipsis="...")


def glyphs_for(stream: TextIO) -> Glyphs:
    """:data:`UNICODE` when the stream's encoding can write it, else :data:`ASCII`.

    Why ask: a console in a legacy code page (or ``PYTHONIOENCODING=ascii``) would raise
    ``UnicodeEncodeError`` in the middle of a wait. A stream without an encoding holds text.
    """
    encoding = getattr(stream, "encoding", None)
    if encoding is None:
        return UNICODE
    try:
        "".join((UNICODE.ok, UNICODE.fail, UNICODE.sep, UNICODE.ellipsis)).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII
    return UNICODE


# -- text that fits -----------------------------------------------------------------------------


def _cell(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes (wide East Asian characters take two)."""
    return sum(_cell(ch) for ch in text)


def clean(text: str) -> str:
    """``text`` on one line, without control characters.

    Why: titles and error logs come from the server; a newline would break the line and an
    escape sequence would drive the terminal (move the cursor, clear the screen).
    """
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return " ".join(kept.split())


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, cleaned."""
    for line in text.splitlines():
        if line.strip():
            return clean(line)
    return ""


def cut(text: str, width: int, ellipsis: str = UNICODE.ellipsis) -> str:
    """``text`` cut to at most ``width`` cells, ending with ``ellipsis`` when cut."""
    if cells(text) <= width:
        return text
    room = width - cells(ellipsis)
    if room < 0:
        return ellipsis[: max(0, width)]
    out: list[str] = []
    used = 0
    for ch in text:
        used += _cell(ch)
        if used > room:
            break
        out.append(ch)
    return "".join(out).rstrip() + ellipsis


@dataclass(frozen=True, slots=True)
class Field:
    """One part of a line after the title.

    ``drop`` orders how fields give way once the title is as short as it goes: the highest
    first; ``0`` is never dropped (the line is cut at its end instead).
    """

    text: str
    drop: int = 0


def fit(lead: str, title: str, fields: Sequence[Field], width: int | None, g: Glyphs) -> str:
    """``lead`` then the title and the fields joined by ``g.sep``, in at most ``width`` cells.

    The title gives way first (cut with an ellipsis down to :data:`TITLE_MIN` cells), then
    the fields by their ``drop``; a line still too long is cut at its end. ``width=None``
    (no terminal) keeps everything, the title cut at the HTML faces' limit.
    """

    def join(head: str, parts: Sequence[Field]) -> str:
        return lead + g.sep.join([t for t in (head, *(f.text for f in parts)) if t])

    kept = [f for f in fields if f.text]
    if width is None:
        return join(cut(title, TITLE_LIMIT, g.ellipsis), kept)
    while True:
        rest = join("", kept)
        room = width - cells(rest) - (cells(g.sep) if title and rest != lead else 0)
        if room >= min(TITLE_MIN, cells(title)):
            return join(cut(title, room, g.ellipsis), kept)
        droppable = [f for f in kept if f.drop > 0]
        if not droppable:
            break
        kept.remove(max(droppable, key=lambda f: f.drop))
    return cut(join(cut(title, TITLE_MIN, g.ellipsis), kept), width, g.ellipsis)


def bar(progress: float, width: int = BAR) -> str:
    """``[====>     ]  41%``: rounded down, so it reads full and 100 % only at the end."""
    progress = max(0.0, min(1.0, progress))
    filled = int(progress * width)
    inside = "=" * width if filled >= width else "=" * filled + ">" + " " * (width - filled - 1)
    return f"[{inside}] {int(progress * 100):3d}%"


# -- the lines ----------------------------------------------------------------------------------


def _phase(snapshot: WatchSnapshot) -> str:
    if snapshot.simulation is None:
        return "waiting for the server"
    phase = snapshot.phase
    if phase is None:  # a status of no known phase: shown as the server wrote it
        return clean(str(snapshot.status))
    return f"{phase.label} {phase.number}/{len(type(phase))}"


def status_line(
    snapshot: WatchSnapshot,
    progress: float,
    elapsed: float | None,
    eta: float | None,
    width: int | None,
    g: Glyphs = UNICODE,
) -> str:
    """The live line: ``[====>     ]  41% Title · Simulator 2/3 · 1 min 5 s · ~3 min left``.

    With ``width=None`` (no terminal, a line per change) the bar gives way to the status.
    """
    title = clean(title_of(snapshot))
    notice = Field(clean(snapshot.notice or ""))
    if width is None:
        status = str(snapshot.status) if snapshot.status is not None else ""
        fields = [Field(clean(status)), Field(_phase(snapshot)), Field(duration(elapsed)), notice]
        return fit("", title, fields, None, g)
    left = Field(f"~{duration(eta)} left" if eta is not None and eta >= 1 else "", drop=3)
    fields = [Field(_phase(snapshot), drop=2), Field(duration(elapsed), drop=1), left, notice]
    return fit(bar(progress) + " ", title, fields, width, g)


def _last_seen(snapshot: WatchSnapshot) -> str:
    return f"last seen {clean(str(snapshot.status))}" if snapshot.status is not None else ""


def ended_line(
    snapshot: WatchSnapshot, elapsed: float | None, width: int | None, g: Glyphs = UNICODE
) -> str:
    """How one watch ended, in one line.

    ``✓ Title · done in 5 min 12 s · 1a2b3c4d``; a failure names its phase and the first line
    of its ``error_log``; a timeout or a stop says so and the last status seen.
    """
    title = clean(title_of(snapshot))
    short = Field(snapshot.simulation_id[:8], drop=2)
    took = duration(elapsed)
    state = snapshot.state
    sim = snapshot.simulation
    if state is WatchState.SUCCEEDED:
        return fit(f"{g.ok} ", title, [Field(f"done in {took}"), short], width, g)
    if state is WatchState.FAILED:
        phase = sim.failed_phase if sim is not None else None
        where = f"failed in {phase.label}" if phase is not None else "failed"
        log = first_line(sim.error_log or "") if sim is not None else ""
        log = cut(log or "the server gave no error_log", ERROR_LIMIT, g.ellipsis)
        # The error gives way last: after the title, the id and the duration, it is cut.
        fields = [Field(f"{where}: {log}"), Field(took, drop=1), short]
        return fit(f"{g.fail} ", title, fields, width, g)
    if state is WatchState.ERROR:
        error = first_line(str(snapshot.error)) if snapshot.error is not None else "error"
        error = cut(error, ERROR_LIMIT, g.ellipsis)
        return fit(f"{g.fail} ", title, [Field(error), short], width, g)
    word = state_style(state).word  # timed out, stopped watching
    fields = [Field(f"{word} after {took}"), Field(_last_seen(snapshot), drop=1), short]
    return fit(f"{g.warn} ", title, fields, width, g)


_COUNT_WORDS = ("running", "done", "failed", "timed out", "stopped")


def _count_word(state: WatchState) -> str:
    if not state.is_final:
        return "running"
    if state is WatchState.SUCCEEDED:
        return "done"
    if state in (WatchState.FAILED, WatchState.ERROR):
        return "failed"
    return "timed out" if state is WatchState.TIMED_OUT else "stopped"


def counts_line(
    states: Sequence[WatchState], elapsed: float | None, width: int | None, g: Glyphs = UNICODE
) -> str:
    """A board's line: ``3 running · 1 done · 1 failed · 2 min 10 s``.

    Once every row has ended: ``✗ 5 simulations: 4 done · 1 failed · 5 min 12 s``.
    """
    words = [_count_word(s) for s in states]
    counts = [(word, words.count(word)) for word in _COUNT_WORDS]
    ended = bool(states) and all(s.is_final for s in states)
    always = ("done", "failed") if ended else ("running", "done", "failed")
    fields = [Field(f"{n} {word}") for word, n in counts if n or word in always]
    fields.append(Field(duration(elapsed), drop=1))
    lead = ""
    if ended:
        mark = g.ok if all(s is WatchState.SUCCEEDED for s in states) else g.fail
        lead = f"{mark} {len(states)} simulation{'s' if len(states) != 1 else ''}: "
    return fit(lead, "", fields, width, g)


# -- the line on the stream ---------------------------------------------------------------------


def _columns() -> int:
    return shutil.get_terminal_size().columns


class InPlaceLine:
    """One line of a stream: redrawn in place on a TTY, a new line per change elsewhere.

    Parameters
    ----------
    stream
        Where to write (``sys.stdout`` by default, looked up when the line is made).
    tty
        Whether to redraw in place; by default, whether ``stream`` is a terminal.
    clock
        Seconds, for the once-a-second cadence (``time.monotonic`` by default).
    columns
        The terminal's width in cells, asked before each draw (it may be resized).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        columns: Callable[[], int] = _columns,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty()) if isatty is not None else False
        self.tty = tty
        self.glyphs = glyphs_for(self.stream)
        self.clock = clock
        self._columns = columns
        self._drawn = ""  # what the line shows now (TTY)
        self._last_draw = -float("inf")
        self._key: Hashable = object()  # the last change written (no TTY)

    @property
    def width(self) -> int | None:
        """Cells a line may take, or ``None`` without a terminal (lines are not cut).

        Why three less than the terminal: a character in the last column leaves many
        terminals waiting to wrap, so the next carriage return lands on a new row; and
        Ctrl-C makes the terminal echo ``^C`` after the line, which must not wrap either.
        """
        return max(1, self._columns() - MARGIN) if self.tty else None

    def show(self, make: Callable[[int | None], str], key: Hashable) -> None:
        """Redraw the line if a second has passed (TTY), or print it if ``key`` changed."""
        if not self.tty:
            if key != self._key:
                self._key = key
                self._write(make(None) + "\n")
            return
        now = self.clock()
        if now - self._last_draw < REFRESH:
            return
        self._last_draw = now
        text = make(self.width)
        if text != self._drawn:
            self._drawn = text
            self._write("\r" + text + CLEAR)

    def above(self, text: str) -> None:
        """Print a permanent ``text`` where the line is; the next :meth:`show` draws it below."""
        self._write(("\r" + text + CLEAR if self.tty else text) + "\n")
        self._drawn = ""
        self._last_draw = -float("inf")  # the line is gone: draw it again at once

    def end(self, text: str) -> None:
        """Replace the line with its final ``text`` and move to a new line."""
        self._write(("\r" + text + CLEAR if self.tty else text) + "\n")
        self._drawn = ""

    def break_off(self) -> None:
        """Leave the line as it is and move to a new line (a wait interrupted or timed out).

        Why: a traceback or a prompt written next would start on the status line, after it.
        """
        if self.tty and self._drawn:
            self._write("\n")
            self._drawn = ""

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


# -- a waiting call's face ----------------------------------------------------------------------


class WaitFace:
    """What a waiting call shows of its watches: one watch's status line, or a board's counts.

    Parameters
    ----------
    watches
        The watches waited on.
    board
        Draw a counts line and a line per ended watch (else one watch's status line).
    line
        Where to draw (an :class:`InPlaceLine` on ``sys.stdout`` by default).
    """

    def __init__(
        self, watches: Sequence[Watch], *, board: bool, line: InPlaceLine | None = None
    ) -> None:
        self.watches = list(watches)
        self.board = board
        self.line = line if line is not None else InPlaceLine()
        self._started = self.line.clock()
        self._floor = 0.0  # the bar never steps back (a FAILED estimate is taken earlier)
        self._reported: set[int] = set()

    def _elapsed(self, snapshot: WatchSnapshot, now: datetime) -> float:
        elapsed = snapshot.estimate(now).elapsed
        return elapsed if elapsed is not None else self.line.clock() - self._started

    def _status(self, width: int | None) -> str:
        snap = self.watches[0].snapshot
        est = snap.estimate(datetime.now(timezone.utc))
        self._floor = max(self._floor, est.progress)
        elapsed = self._elapsed(snap, datetime.now(timezone.utc))
        return status_line(snap, self._floor, elapsed, est.eta, width, self.line.glyphs)

    def _counts(self, width: int | None) -> str:
        now = datetime.now(timezone.utc)
        snaps = [w.snapshot for w in self.watches]
        elapsed = max((self._elapsed(s, now) for s in snaps), default=0.0)
        return counts_line([s.state for s in snaps], elapsed, width, self.line.glyphs)

    def _ended(self, watch: Watch) -> str:
        snap = watch.snapshot
        elapsed = self._elapsed(snap, datetime.now(timezone.utc))
        return ended_line(snap, elapsed, self.line.width, self.line.glyphs)

    def step(self) -> None:
        """Draw what changed: a board's newly ended rows, then the status or counts line."""
        if not self.board:
            snap = self.watches[0].snapshot
            if not snap.done:  # the end is the final line's
                self.line.show(self._status, (snap.state, snap.status, snap.notice))
            return
        key = tuple(_count_word(w.snapshot.state) for w in self.watches)  # a change of counts
        for index, watch in enumerate(self.watches):
            if watch.done() and index not in self._reported:
                self._reported.add(index)
                self.line.above(self._ended(watch))
        if not all(w.done() for w in self.watches):
            self.line.show(self._counts, key)

    def finish(self) -> None:
        """The final line, once every watch has ended; else end the status line as it is."""
        if not all(w.done() for w in self.watches):
            self.line.break_off()
            return
        if not self.board:
            self.line.end(self._ended(self.watches[0]))
            return
        self.step()  # rows that ended since the last step
        self.line.end(self._counts(self.line.width))

    def interrupt(self) -> None:
        """End the status line so what follows (a traceback, a message) starts on its own."""
        self.line.break_off()


def wait(
    watches: Sequence[Watch],
    timeout: float | None = None,
    *,
    board: bool = False,
    line: InPlaceLine | None = None,
) -> None:
    """Draw the watches' progress until they all end or ``timeout`` real seconds pass.

    Returns without raising either way; the caller asks the watches for their outcome.
    """
    face = WaitFace(watches, board=board, line=line)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            face.step()
            pending = [w for w in face.watches if not w.done()]
            left = None if deadline is None else deadline - time.monotonic()
            if not pending or (left is not None and left <= 0):
                break
            # Why short waits: Ctrl-C arrives as KeyboardInterrupt between them.
            step = POLL if left is None else min(POLL, left)
            concurrent.futures.wait(pending, step, concurrent.futures.FIRST_COMPLETED)
    except BaseException:
        face.interrupt()
        raise
    face.finish()


async def wait_async(
    watches: Sequence[Watch], *, board: bool = False, line: InPlaceLine | None = None
) -> None:
    """:func:`wait` for ``await``: the same lines, without blocking the event loop."""
    face = WaitFace(watches, board=board, line=line)
    try:
        while True:
            face.step()
            if all(w.done() for w in face.watches):
                break
            await asyncio.sleep(POLL)
    except BaseException:  # Ctrl-C, or the awaiting task cancelled
        face.interrupt()
        raise
    face.finish()
