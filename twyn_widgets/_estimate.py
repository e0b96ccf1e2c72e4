"""Progress and ETA estimates from a status snapshot and the documented phase durations.

Pure functions of a :class:`~twyn_widgets.models.Simulation`, a wall-clock ``now`` and the
client's ``time_scale``, so a widget can re-estimate every second between polls without I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from .models import Phase, Simulation, Status

__all__ = ["Estimate", "estimate"]

_PHASES = tuple(Phase)
_TOTAL = sum(p.expected_seconds for p in _PHASES)
_WEIGHT = {p: p.expected_seconds / _TOTAL for p in _PHASES}
_BEFORE = {p: sum(_WEIGHT[q] for q in _PHASES[: p.number - 1]) for p in _PHASES}

IN_PHASE_CAP = 0.95
"""How far through its own share a running phase may go before it is seen to finish."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """How far a simulation has come.

    Attributes
    ----------
    progress
        0 to 1, weighted by the phases' documented mean durations (Architect 25 %,
        Simulator 50 %, Analyst 25 %); 1 only at COMPLETED_ANALYSIS.
    eta
        Seconds (real, in the client's time) until the expected end, or ``None`` when
        unknown or finished.
    elapsed
        Seconds since the simulation was created, or ``None`` without timestamps.
    phase_elapsed
        Seconds since the current phase began, or ``None``.
    """

    progress: float
    eta: float | None
    elapsed: float | None
    phase_elapsed: float | None


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


def _in_phase_fraction(t: float, expected: float) -> float:
    """Linear to ``IN_PHASE_CAP`` at the expected duration, then creeping towards 0.99."""
    if t <= expected:
        return IN_PHASE_CAP * t / expected
    return IN_PHASE_CAP + (0.99 - IN_PHASE_CAP) * (1 - math.exp(-(t - expected) / expected))


def estimate(simulation: Simulation, now: datetime, time_scale: float = 1.0) -> Estimate:
    """Estimate progress and time left for ``simulation`` at wall-clock ``now`` (aware UTC).

    Parameters
    ----------
    simulation
        The last snapshot.
    now
        The current time; the server's timestamps are compared with it.
    time_scale
        The client's scale: documented durations are multiplied by it.
    """
    finished = simulation.finished_at
    elapsed = _seconds(finished or now, simulation.started_at)
    status = simulation.status
    if status is Status.COMPLETED_ANALYSIS:
        return Estimate(1.0, None, elapsed, None)
    phase = simulation.phase
    if phase is None:  # an unknown (future) status: no idea where it stands
        return Estimate(0.0, None, elapsed, None)
    before = _BEFORE[phase]
    later = sum(p.expected_seconds for p in _PHASES[phase.number :]) * time_scale
    expected = phase.expected_seconds * time_scale
    started = simulation.entered(phase.processing_status)
    if status is Status.FAILED:
        t = _seconds(simulation.finished_at, started) or 0.0
        return Estimate(before + _WEIGHT[phase] * _in_phase_fraction(t, expected), None, elapsed, t)
    if status == phase.completed_status:
        return Estimate(before + _WEIGHT[phase], later, elapsed, None)
    if status != phase.processing_status or started is None:  # PENDING, or no lifecycle
        return Estimate(before, expected + later, elapsed, None)
    t = _seconds(now, started) or 0.0
    fraction = _in_phase_fraction(t, expected)
    left = expected - t if t < expected else (1 - fraction) * expected
    return Estimate(before + _WEIGHT[phase] * fraction, left + later, elapsed, t)
