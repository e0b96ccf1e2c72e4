"""The simulated Twyn service, in plain Python: no web framework, no sockets.

One job: hold what the real service would hold and decide what it would answer. The store
(tenants, keys, scenarios, simulations, with tenant checks), the time-based lifecycle, the
emulated Architect, Simulator and Analyst (content derived from the prompt and the config),
per-key rate limits, and the refusals the docs give (:class:`ApiError` with its exact body).

Modules: ``_state`` (the store), ``_lifecycle`` (plans of status changes), ``_content``,
``_templates`` and ``_asks`` (the Architect), ``_metrics`` (the Simulator), ``_analysis``
(the Analyst), ``_ratelimit`` (fixed windows), ``_errors`` (refusals), ``_seeding``,
``_timeutil`` and ``_textutil`` (seeds, clocks and excerpts).

It imports no other part of the emulator; the names below are what the layers above use.
"""

from __future__ import annotations

from ._analysis import generate_analysis
from ._errors import INVALID_KEY, ApiError, not_found, unauthorized
from ._lifecycle import FAILED
from ._metrics import generate_metrics
from ._ratelimit import RateLimiter, rate_limit_body
from ._seeding import fresh_seed
from ._state import (
    DEFAULT_WINDOW,
    ApiKey,
    EmulatorState,
    ScenarioRecord,
    SimulationRecord,
    Tenant,
)
from ._textutil import excerpt
from ._timeutil import Clock, iso_ms, system_clock, to_epoch

__all__ = [
    "DEFAULT_WINDOW",
    "FAILED",
    "INVALID_KEY",
    "ApiError",
    "ApiKey",
    "Clock",
    "EmulatorState",
    "RateLimiter",
    "ScenarioRecord",
    "SimulationRecord",
    "Tenant",
    "excerpt",
    "fresh_seed",
    "generate_analysis",
    "generate_metrics",
    "iso_ms",
    "not_found",
    "rate_limit_body",
    "system_clock",
    "to_epoch",
    "unauthorized",
]
