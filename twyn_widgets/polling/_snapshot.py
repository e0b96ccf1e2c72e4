"""``WatchSnapshot``: the immutable state of a watch that subscribers (widgets) render.

It also phrases what the polling only records: a :class:`Note` (a retry, a 429's wait, a
status that went back) becomes the one line ``snapshot.notice`` shows the user.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace
from datetime import datetime

from .. import errors
from .._estimate import Estimate, estimate
from .._humanize import duration
from ..models import Phase, Simulation, SimulationResult, Status

__all__ = ["Note", "NoteKind", "WatchSnapshot", "WatchState", "describe"]


class WatchState(str, enum.Enum):
    """Where a watch stands."""

    WATCHING = "watching"
    RETRYING = "retrying"
    RATE_LIMITED = "rate-limited"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ERROR = "error"
    TIMED_OUT = "timed-out"
    STOPPED = "stopped"

    @property
    def is_final(self) -> bool:
        """Whether the watch has ended."""
        return self in _FINAL

    def __str__(self) -> str:
        return str(self.value)


_FINAL = frozenset(
    {WatchState.SUCCEEDED, WatchState.FAILED, WatchState.ERROR, WatchState.TIMED_OUT,
     WatchState.STOPPED}
)  # fmt: skip


def describe(exc: BaseException) -> str:
    """A short, key-free name for a failure: ``cannot resolve api.twyn.it``, ``HTTP 503``..."""
    if isinstance(exc, errors.APIError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, errors.TransportError):
        # The transport phrases the host and the cause (``127.0.0.1:8000 refused the connection``).
        return exc.summary
    if isinstance(exc, errors.ProtocolError):
        return "a malformed answer"
    return type(exc).__name__


class NoteKind(str, enum.Enum):
    """What a :class:`Note` records."""

    RETRYING = "retrying"
    RATE_LIMITED = "rate-limited"
    WENT_BACK = "went-back"
    UNKNOWN_STATUS = "unknown-status"
    STOPPED = "stopped"
    ERROR = "error"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Note:
    """Something the user should know about a watch, as data; ``str(note)`` phrases it.

    Attributes
    ----------
    kind
        What happened.
    error
        The failure behind a retry or an ending.
    attempt
        The retry's number.
    wait
        API seconds (a retry) or the server's seconds (a 429) before the next request.
    before, after
        The statuses of a status that went back (``after`` also names an unknown status).
    text
        A line given as it is (``kind`` TEXT).
    """

    kind: NoteKind
    error: BaseException | None = None
    attempt: int = 0
    wait: float = 0.0
    before: Status | None = None
    after: Status | None = None
    text: str = ""

    def __str__(self) -> str:
        kind = self.kind
        if kind is NoteKind.RETRYING:
            # Rounded up, so that a sub-second wait does not read "0 s".
            cause = describe(self.error) if self.error is not None else "a failure"
            return f"{cause}, retry {self.attempt} in {duration(math.ceil(self.wait))}"
        if kind is NoteKind.RATE_LIMITED:
            return f"rate limited: waiting {duration(self.wait)} before the next poll"
        if kind is NoteKind.WENT_BACK:
            return f"status went back from {self.before} to {self.after}"
        if kind is NoteKind.UNKNOWN_STATUS:
            return f"unknown status {str(self.after)!r}: shown as it is, still polling"
        if kind is NoteKind.STOPPED:
            return "stopped watching (the simulation keeps running on the server)"
        if kind is NoteKind.ERROR:
            return f"stopped: {self.error}"
        return self.text


@dataclass(frozen=True, slots=True)
class WatchSnapshot:
    """One moment of a watch, pushed to subscribers on every change.

    Attributes
    ----------
    simulation_id
        The watched simulation.
    state
        Watching, retrying, rate-limited, or how it ended.
    simulation
        The last simulation object the server sent (``None`` before the first answer).
    time_scale
        The client's scale, for re-estimating progress between polls.
    polls
        Requests this watch has made (a batched list call counts for each watch in it).
    retries
        Transient failures seen so far.
    note
        What the user should know, as data (:attr:`notice` phrases it); ``None`` when all
        is well.
    rate_limited_until
        Epoch seconds until which a 429 holds polling, or ``None``.
    result
        The result once the watch succeeded.
    error
        The exception the watch ended with (failed, timed out, an API error), if any.
    """

    simulation_id: str
    state: WatchState = WatchState.WATCHING
    simulation: Simulation | None = None
    time_scale: float = 1.0
    polls: int = 0
    retries: int = 0
    note: Note | None = None
    rate_limited_until: float | None = None
    result: SimulationResult | None = None
    error: BaseException | None = None

    @property
    def notice(self) -> str | None:
        """A line for the user: "cannot resolve api.twyn.it, retry 3 in 4 s", "rate limited:
        waiting 40 s", "unknown status 'QUEUED'"; ``None`` when all is well."""
        return None if self.note is None else str(self.note)

    @property
    def status(self) -> Status | None:
        """The last status seen."""
        return None if self.simulation is None else self.simulation.status

    @property
    def phase(self) -> Phase | None:
        """The current phase (the failed one after FAILED)."""
        return None if self.simulation is None else self.simulation.phase

    @property
    def done(self) -> bool:
        """Whether the watch has ended."""
        return self.state.is_final

    def estimate(self, now: datetime) -> Estimate:
        """Progress, ETA and elapsed time at ``now`` (call it again each second to tick)."""
        if self.simulation is None:
            return Estimate(0.0, None, None, None)
        return estimate(self.simulation, now, self.time_scale)

    def evolve(self, **changes: object) -> WatchSnapshot:
        """A copy with some fields changed (``notice="..."`` sets a line as it is)."""
        if "notice" in changes:
            text = changes.pop("notice")
            changes["note"] = None if text is None else Note(NoteKind.TEXT, text=str(text))
        return replace(self, **changes)  # type: ignore[arg-type]
