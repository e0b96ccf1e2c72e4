"""The routes: the public ``/v1`` API and the ``/_emulator`` control API, in FastAPI.

One job: turn HTTP requests into calls on the domain and its answers into the documented
JSON. ``_api_simulations``, ``_api_scenarios`` and ``_api_keys`` are the ``/v1`` routes;
``_control_routes`` is the control API; ``_schemas`` the request and response models;
``_views`` the records in the docs' shapes; ``_results`` builds results bodies off the
event loop; ``_handlers`` renders errors; ``_docs_pages`` serves ``/openapi.json`` and
``/docs``; ``_context`` is the instance's shared parts as the routes receive them.

It imports the domain, the guard and the control instruments, never the runtime; the names
below are what the runtime uses to assemble the app.
"""

from __future__ import annotations

from ._api_keys import router as keys_router
from ._api_scenarios import router as scenarios_router
from ._api_simulations import router as simulations_router
from ._context import EmulatorContext, ListItems
from ._control_routes import router as control_router
from ._docs_pages import install_docs
from ._handlers import api_error_handler, internal_error_handler, validation_error_handler

__all__ = [
    "EmulatorContext",
    "ListItems",
    "api_error_handler",
    "control_router",
    "install_docs",
    "internal_error_handler",
    "keys_router",
    "scenarios_router",
    "simulations_router",
    "validation_error_handler",
]
