"""``PollingClient``: the calls the engine makes on a client, and nothing more.

Why a Protocol: the client offers ``watch()`` and so imports the polling layer; the polling
layer sees the client only through this, so there is no import cycle and mypy checks every
call the engine makes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from ..models import RateLimit, Simulation, SimulationPage, SimulationResult

__all__ = ["PollingClient"]


class PollingClient(Protocol):
    """What the polling engine needs from a client (``TwynClient`` is one)."""

    @property
    def time_scale(self) -> float:
        """API seconds times this are this client's real seconds."""
        ...

    @property
    def rate_limit(self) -> RateLimit | None:
        """The last ``X-RateLimit-*`` values the server sent."""
        ...

    def scaled(self, seconds: float | timedelta) -> float:
        """A duration the client assumes, in this client's time."""
        ...

    def get_simulation(self, simulation: str) -> Simulation:
        """``GET /v1/simulations/{id}``."""
        ...

    def get_results(
        self, simulation: str, *, snapshot: Simulation | None = None
    ) -> SimulationResult:
        """``GET /v1/simulations/{id}/results``."""
        ...

    def list_simulations(
        self,
        *,
        created_after: datetime | str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> SimulationPage:
        """One page of ``GET /v1/simulations``."""
        ...

    def on_close(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when the client closes."""
        ...
