"""twyn-widgets: watch Twyn API simulations from Jupyter.

>>> import twyn_widgets as tw
>>> client = tw.connect()                      # real API with TWYN_API_KEY, else a local emulator
>>> sim = client.create_simulation("How will a 10% price rise affect churn?")
>>> tw.SimulationWatcher(sim)                  # a live widget; .wait() gives the result

The widgets, the magics and the emulator load on first use, so ``import twyn_widgets`` stays
light and never imports FastAPI or uvicorn.
"""

from __future__ import annotations

from typing import Any

from ._connect import connect
from ._version import __version__
from .client import TwynClient
from .errors import (
    APIError,
    AuthenticationError,
    BadRequest,
    ConfigurationError,
    Conflict,
    ConnectError,
    ConnectionDropped,
    InvalidIdError,
    NotFound,
    PermissionDenied,
    ProtocolError,
    RateLimited,
    RequestTimeout,
    ResponseTooLarge,
    ServerError,
    SimulationFailed,
    TransportError,
    TwynError,
    ValidationError,
    WaitTimeout,
)
from .models import (
    Analysis,
    LifecycleEntry,
    Metrics,
    Phase,
    RateLimit,
    Scenario,
    Simulation,
    SimulationResult,
    Status,
)

__all__ = [
    "APIError",
    "Analysis",
    "AuthenticationError",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "ConnectError",
    "ConnectionDropped",
    "InvalidIdError",
    "LifecycleEntry",
    "Metrics",
    "NotFound",
    "PermissionDenied",
    "Phase",
    "ProtocolError",
    "RateLimit",
    "RateLimited",
    "RequestTimeout",
    "ResponseTooLarge",
    "Scenario",
    "ServerError",
    "Simulation",
    "SimulationFailed",
    "SimulationResult",
    "Status",
    "TransportError",
    "TwynClient",
    "TwynError",
    "ValidationError",
    "WaitTimeout",
    "__version__",
    "connect",
    "load_ipython_extension",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext twyn_widgets``: register the ``%twyn_wait`` magics."""
    from .magics import register

    register(ipython)
