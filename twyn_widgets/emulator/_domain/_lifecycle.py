"""Time-based simulation lifecycle: plans of future status changes, read back against a clock.

Nothing runs in the background. When a pipeline starts, the whole schedule of its status
changes is drawn at once (phase durations from the documented ranges, divided by the speed
factor) and stored as timestamped entries, some of them in the future. The status at any
moment is the last entry whose time has passed, and ``lifecycle.states`` is the list of
entries whose time has passed. Editing a simulation (new config, Architect re-run, injected
failure) drops the future part of the schedule and appends a new one.

Pipeline, straight through, each COMPLETED_* lasting about a second::

    PENDING -> PROCESSING_CONFIG -> COMPLETED_CONFIG -> PROCESSING_SIMULATION
            -> COMPLETED_SIMULATION -> PROCESSING_ANALYSIS -> COMPLETED_ANALYSIS

with ``FAILED`` appended after a ``PROCESSING_*`` entry when a phase fails, so the phase that
failed is the last PROCESSING_* before it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ._timeutil import round_ms

PENDING = "PENDING"
PROCESSING_CONFIG = "PROCESSING_CONFIG"
COMPLETED_CONFIG = "COMPLETED_CONFIG"
PROCESSING_SIMULATION = "PROCESSING_SIMULATION"
COMPLETED_SIMULATION = "COMPLETED_SIMULATION"
PROCESSING_ANALYSIS = "PROCESSING_ANALYSIS"
COMPLETED_ANALYSIS = "COMPLETED_ANALYSIS"
FAILED = "FAILED"

STATUSES = (
    PENDING,
    PROCESSING_CONFIG,
    COMPLETED_CONFIG,
    PROCESSING_SIMULATION,
    COMPLETED_SIMULATION,
    PROCESSING_ANALYSIS,
    COMPLETED_ANALYSIS,
    FAILED,
)
TERMINAL = frozenset({COMPLETED_ANALYSIS, FAILED})

ARCHITECT = "architect"
SIMULATOR = "simulator"
ANALYST = "analyst"
PHASES = (ARCHITECT, SIMULATOR, ANALYST)

PROCESSING = {
    ARCHITECT: PROCESSING_CONFIG,
    SIMULATOR: PROCESSING_SIMULATION,
    ANALYST: PROCESSING_ANALYSIS,
}
COMPLETED = {
    ARCHITECT: COMPLETED_CONFIG,
    SIMULATOR: COMPLETED_SIMULATION,
    ANALYST: COMPLETED_ANALYSIS,
}
PHASE_OF_PROCESSING = {status: phase for phase, status in PROCESSING.items()}

PHASE_SECONDS: Mapping[str, tuple[float, float]] = {
    ARCHITECT: (60.0, 120.0),
    SIMULATOR: (120.0, 240.0),
    ANALYST: (60.0, 120.0),
}
"""Duration range of each phase at speed 1, as documented: Architect 1-2 min, Simulator 2-4,
Analyst 1-2."""

STEP_SECONDS = 1.0
"""How long PENDING and each COMPLETED_* (except the last) last at speed 1: about a second."""

FAIL_FRACTION = 0.5
"""A phase meant to fail does so this far into its drawn duration."""


@dataclass(frozen=True)
class Entry:
    """One lifecycle entry: a status name and the epoch second it was (or will be) entered."""

    name: str
    at: float


@dataclass(frozen=True)
class Failure:
    """A failure waiting for its phase: where it happens and the ``error_log`` it leaves.

    ``error_log`` is ``None`` for a canned message, written when the failure is planned so
    that it names the groups and variables of the config in use at that moment.
    """

    phase: str
    error_log: str | None = None


@dataclass
class Timeline:
    """The lifecycle of one simulation: past entries plus the planned future ones.

    Attributes
    ----------
    entries
        All entries in time order, including planned ones whose time has not come yet.
    error_log
        The message attached to the ``FAILED`` entry, if one is in ``entries``.
    planned_failure
        The :class:`Failure` behind a ``FAILED`` entry that is still in the future, so that
        re-planning can hand it back instead of losing it.
    """

    entries: list[Entry] = field(default_factory=list)
    error_log: str | None = None
    planned_failure: Failure | None = None

    def visible(self, now: float) -> list[Entry]:
        """Return the entries whose time has come, oldest first (never fewer than one)."""
        return [entry for entry in self.entries if entry.at <= now] or self.entries[:1]

    def status(self, now: float) -> str:
        """Return the status at ``now`` (the first entry's status before it starts)."""
        current = self.entries[0].name
        for entry in self.entries:
            if entry.at > now:
                break
            current = entry.name
        return current

    def reached(self, now: float, name: str) -> bool:
        """Tell whether an entry called ``name`` is in the past."""
        return any(entry.name == name for entry in self.visible(now))

    def last_visible_of(self, now: float, names: frozenset[str]) -> str | None:
        """Return the latest past entry name among ``names``, or ``None``."""
        found: str | None = None
        for entry in self.visible(now):
            if entry.name in names:
                found = entry.name
        return found

    def current_phase(self, now: float) -> str | None:
        """Return the phase of the last ``PROCESSING_*`` entry in the past, if any."""
        name = self.last_visible_of(now, frozenset(PHASE_OF_PROCESSING))
        return None if name is None else PHASE_OF_PROCESSING[name]

    def last_at(self, now: float) -> float:
        """Return the time of the latest past entry (the first entry's time if none)."""
        visible = self.visible(now)
        return visible[-1].at if visible else self.entries[0].at

    def cut(self, now: float) -> Failure | None:
        """Drop the planned future; return the failure it held, if that one had not happened.

        Parameters
        ----------
        now
            Entries strictly after this moment are dropped.

        Returns
        -------
        Failure or None
            The failure that was planned but not reached, to be planned again later.
        """
        pending: Failure | None = None
        last = self.entries[-1]
        if self.planned_failure is not None and last.name == FAILED and last.at > now:
            pending = self.planned_failure
            self.error_log = None
        self.planned_failure = None
        self.entries = self.visible(now)
        return pending

    def extend(self, plan: Plan, error_log: str | None = None) -> None:
        """Append a freshly built plan (its first entry must not be before the last entry).

        Parameters
        ----------
        plan
            The plan to append.
        error_log
            The message of the plan's failure, if it ends with one.
        """
        self.entries.extend(plan.entries)
        if plan.failure is not None:
            self.planned_failure = plan.failure
            self.error_log = error_log or plan.failure.error_log

    def fail_now(self, now: float, error_log: str, phase: str | None = None) -> None:
        """Fail immediately: drop the future and append ``FAILED`` at ``now``.

        When the simulation is not inside a ``PROCESSING_*`` state, the ``PROCESSING_*`` entry
        of the phase it was about to start is appended first, so that the phase that failed
        can always be read from the last ``PROCESSING_*`` entry before ``FAILED``.

        Parameters
        ----------
        now
            The moment of the failure.
        error_log
            Message to report in ``error_log``.
        phase
            The phase to blame when the simulation is between phases (by default the next
            phase of its plan).
        """
        upcoming = self.upcoming_phase(now)
        self.cut(now)
        at = round_ms(max(now, self.entries[-1].at))
        if self.entries[-1].name not in PHASE_OF_PROCESSING:
            blamed = phase or upcoming or _next_phase(self.entries[-1].name)
            self.entries.append(Entry(PROCESSING[blamed], at))
        self.entries.append(Entry(FAILED, at))
        self.error_log = error_log
        self.planned_failure = None

    def fail_when_reached(self, now: float, failure: Failure, error_log: str) -> bool:
        """Make a phase still ahead in the plan fail halfway through it.

        Parameters
        ----------
        now
            The present moment; only future ``PROCESSING_*`` entries are considered.
        failure
            Which phase fails.
        error_log
            The message it leaves.

        Returns
        -------
        bool
            ``False`` when the plan does not reach that phase again (nothing changed).
        """
        target = PROCESSING[failure.phase]
        for index, entry in enumerate(self.entries):
            if entry.at <= now or entry.name != target:
                continue
            following = self.entries[index + 1] if index + 1 < len(self.entries) else None
            end = following.at if following is not None else entry.at
            fail_at = round_ms(entry.at + (end - entry.at) * FAIL_FRACTION)
            self.entries = [*self.entries[: index + 1], Entry(FAILED, fail_at)]
            self.planned_failure = failure
            self.error_log = error_log
            return True
        return False

    def upcoming_phase(self, now: float) -> str | None:
        """Return the phase of the next planned ``PROCESSING_*`` entry, if any."""
        for entry in self.entries:
            if entry.at > now and entry.name in PHASE_OF_PROCESSING:
                return PHASE_OF_PROCESSING[entry.name]
        return None


@dataclass(frozen=True)
class Plan:
    """A schedule of future entries, and the failure it ends with, if any."""

    entries: list[Entry]
    failure: Failure | None


def build_plan(
    start: float,
    head: Sequence[str],
    phases: Sequence[str],
    *,
    rng: random.Random,
    speed: float,
    failures: Mapping[str, Failure],
) -> Plan:
    """Draw the schedule of a pipeline run starting at ``start``.

    Parameters
    ----------
    start
        Epoch seconds of the first entry.
    head
        Statuses entered before the first phase, each lasting :data:`STEP_SECONDS`
        (``["PENDING"]`` for a new simulation, ``["PENDING", "COMPLETED_CONFIG"]`` for one
        created with a config, ``["COMPLETED_CONFIG"]`` after a config edit).
    phases
        Phases to run in order, e.g. ``["architect", "simulator", "analyst"]``.
    rng
        Source of the phase durations (drawn uniformly from :data:`PHASE_SECONDS`).
    speed
        Speed factor: every duration is divided by it.
    failures
        Failures waiting for a phase; the first phase found here fails halfway through and
        the plan stops there.

    Returns
    -------
    Plan
        The entries, and the failure that ends them if any.
    """
    step = STEP_SECONDS / speed
    entries: list[Entry] = []
    moment = start
    for index, name in enumerate(head):
        if index:
            moment += step
        entries.append(Entry(name, round_ms(moment)))
    for index, phase in enumerate(phases):
        if entries or index:
            moment += step
        low, high = PHASE_SECONDS[phase]
        duration = rng.uniform(low, high) / speed
        entries.append(Entry(PROCESSING[phase], round_ms(moment)))
        failure = failures.get(phase)
        if failure is not None:
            moment += duration * FAIL_FRACTION
            entries.append(Entry(FAILED, round_ms(moment)))
            return Plan(entries, failure)
        moment += duration
        entries.append(Entry(COMPLETED[phase], round_ms(moment)))
    return Plan(entries, None)


def _next_phase(status: str) -> str:
    """Return the phase that follows a non-processing status."""
    if status == PENDING:
        return ARCHITECT
    if status == COMPLETED_CONFIG:
        return SIMULATOR
    return ANALYST
