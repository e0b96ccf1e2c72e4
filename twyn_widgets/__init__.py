"""twyn-widgets: watch Twyn API simulations from Jupyter.

>>> import twyn_widgets as tw
>>> client = tw.connect()                      # real API with TWYN_API_KEY, else a local emulator
>>> sim = client.create_simulation("How will a 10% price rise affect churn?")
>>> tw.SimulationWatcher(sim)                  # a live widget; .wait() gives the result

The widgets, the magics and the emulator load on first use, so ``import twyn_widgets`` stays
light and never imports FastAPI or uvicorn.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._connect import connect, set_default_client
from ._frames import compare, final_values, plot_metric
from ._keys import APIKey
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
    WatchInterrupted,
    WatchStopped,
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

if TYPE_CHECKING:
    # What the lazy names below really are, for mypy and IDEs; at run time they load on use.
    from . import emulator as emulator
    from .polling import Backoff, Fixed, PhaseAware, Watch, WatchSnapshot, WatchState
    from .widgets import (
        SimulationBoard,
        SimulationLauncher,
        SimulationWatcher,
        set_notify_default,
    )

# Why a NullHandler: with no handler at all, Python's last-resort handler writes a polling
# thread's warnings to stderr, at the user's prompt; the user sees the same news in the watch's
# notice, and an application that configures logging still gets every record.
logging.getLogger("twyn_widgets").addHandler(logging.NullHandler())

__all__ = [
    "APIError",
    "APIKey",
    "Analysis",
    "AuthenticationError",
    "Backoff",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "ConnectError",
    "ConnectionDropped",
    "Fixed",
    "InvalidIdError",
    "LifecycleEntry",
    "Metrics",
    "NotFound",
    "PermissionDenied",
    "Phase",
    "PhaseAware",
    "ProtocolError",
    "RateLimit",
    "RateLimited",
    "RequestTimeout",
    "ResponseTooLarge",
    "Scenario",
    "ServerError",
    "Simulation",
    "SimulationBoard",
    "SimulationFailed",
    "SimulationLauncher",
    "SimulationResult",
    "SimulationWatcher",
    "Status",
    "TransportError",
    "TwynClient",
    "TwynError",
    "ValidationError",
    "WaitTimeout",
    "Watch",
    "WatchInterrupted",
    "WatchSnapshot",
    "WatchState",
    "WatchStopped",
    "__version__",
    "compare",
    "connect",
    "final_values",
    "load_ipython_extension",
    "plot_metric",
    "set_default_client",
    "set_notify_default",
]


_LAZY = {
    "SimulationWatcher": "twyn_widgets.widgets",
    "SimulationBoard": "twyn_widgets.widgets",
    "SimulationLauncher": "twyn_widgets.widgets",
    "set_notify_default": "twyn_widgets.widgets",
    "Watch": "twyn_widgets.polling",
    "Fixed": "twyn_widgets.polling",
    "Backoff": "twyn_widgets.polling",
    "PhaseAware": "twyn_widgets.polling",
    "WatchSnapshot": "twyn_widgets.polling",
    "WatchState": "twyn_widgets.polling",
}


def __getattr__(name: str) -> Any:
    # Why lazy: the widgets pull in ipywidgets and the polling layer starts threads on use;
    # `import twyn_widgets` stays light (anywidget's pattern).
    import importlib

    if name == "emulator":
        # The emulator is an optional extra: its import pulls in FastAPI and uvicorn.
        try:
            return importlib.import_module("twyn_widgets.emulator")
        except ImportError as exc:
            missing = (exc.name or "").partition(".")[0]
            if missing.startswith("twyn_widgets") or not missing:
                raise  # our own bug, not a missing extra: say what really failed
            raise ImportError(
                f"tw.emulator needs the emulator extra ({missing} is not installed): "
                "pip install 'twyn-widgets[emulator]'",
                name=missing,
            ) from exc
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'twyn_widgets' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*__all__, "emulator"])


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext twyn_widgets``: register the ``%twyn_wait`` magics."""
    from .magics import register

    register(ipython)
