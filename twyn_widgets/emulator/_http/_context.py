"""The emulator's shared parts, reachable from routes as ``request.app.state.emulator``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, cast

from fastapi import Depends, Request

from .._control import Counters, FaultRegistry
from .._domain import ApiKey, EmulatorState, RateLimiter, Tenant

ListItems = Literal["full", "summary"]
"""What ``GET /v1/simulations`` items hold: whole simulations, or summaries."""


@dataclass
class EmulatorContext:
    """Everything one emulator instance holds.

    Attributes
    ----------
    state
        Tenants, keys, scenarios and simulations.
    limiter
        Rate-limit windows.
    faults
        Active fault rules.
    counters
        Traffic counters.
    tenant, key
        The default tenant and its key (what ``start()`` hands out).
    seed
        The seed in use (drawn at random unless one was given).
    control_token
        The token the control API requires.
    list_items
        ``"full"``: list items are whole simulations; ``"summary"``: only ``id``, ``title``,
        ``status`` and ``created_at`` (the docs never show a list item, so clients must
        cope with both).
    """

    state: EmulatorState
    limiter: RateLimiter
    faults: FaultRegistry
    counters: Counters
    tenant: Tenant
    key: ApiKey
    seed: int
    control_token: str = field(repr=False)
    list_items: ListItems = "full"

    @property
    def speed(self) -> float:
        """The speed factor."""
        return self.state.speed


def get_context(request: Request) -> EmulatorContext:
    """FastAPI dependency: the emulator instance serving this request."""
    return cast(EmulatorContext, request.app.state.emulator)


Ctx = Annotated[EmulatorContext, Depends(get_context)]
"""Route parameter type: the emulator instance serving the request."""
