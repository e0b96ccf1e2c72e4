"""The runtime: assemble the app and serve it on a real socket.

One job: put the parts together and run them. ``_app`` builds the FastAPI application
(routes, error handlers, the middleware stack in its order) around one instance's parts;
``_server`` binds a socket, runs uvicorn in a background thread and holds the
:class:`Emulator` handle; ``_connections`` is the uvicorn protocol that reports each TCP
connection to the counters.

It sits on top and may import every other part; the names below are the emulator's surface.
"""

from __future__ import annotations

from ._app import create_app
from ._server import Emulator, EmulatorError, start

__all__ = ["Emulator", "EmulatorError", "create_app", "start"]
