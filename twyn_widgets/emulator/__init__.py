"""A local emulator of the public Twyn v1 API (FastAPI + uvicorn).

A real HTTP server that implements the documented endpoints, lifecycle, errors and rate
limits, on a clock sped up by a ``speed`` factor, with content derived from the prompt. It is
the embedded default for users without an API key, and the server every test, notebook and
Binder session talks to. Each instance draws its own random seed (``seed=`` repeats one), so
ids and keys never collide between instances. Extra ``/_emulator`` routes (not part of the
Twyn API) inject faults, count traffic and steer simulations; they need the instance's
control token, which the :class:`Emulator` handle holds and sends. It listens on loopback
and answers only a local ``Host``; see ``docs/emulator.md`` for its guarantees.

Importing this package imports FastAPI and uvicorn; ``import twyn_widgets`` does not.

Examples
--------
>>> from twyn_widgets.emulator import start
>>> with start(speed=60) as emu:                         # doctest: +SKIP
...     emu.inject("status_503", path=r"^/v1/simulations/[^/]+$")
...     client = emu.client()

From a shell: ``twyn-emulator --port 8000 --speed 30`` (or ``python -m twyn_widgets.emulator``).
"""

from __future__ import annotations

from .app import create_app
from .faults import FAULT_KINDS
from .server import Emulator, EmulatorError, start

__all__ = ["FAULT_KINDS", "Emulator", "EmulatorError", "create_app", "start"]
