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

Layout
------
Private sub-packages, one per part; each imports only the parts listed before it, through
their ``__init__`` (never another part's private module), so the imports run one way:

1. ``_domain``: the simulated service in plain Python (store, lifecycle, content, rate
   limits, refusals). No web framework.
2. ``_guard``: raw ASGI middlewares at the door (``Host``, control token, body size, API
   key and rate limit), and the raw-ASGI helpers.
3. ``_control``: the instruments the control API drives (fault injection, traffic counters).
4. ``_http``: the FastAPI routes of the ``/v1`` API and of the control API, their schemas,
   views, error handlers and docs pages.
5. ``_runtime``: the app assembled, served by uvicorn in a thread, the :class:`Emulator`
   handle.

This package re-exports the surface below; ``__main__`` is the command line.
``tests/package/test_emulator_layout.py`` keeps the layout so.

Examples
--------
>>> from twyn_widgets.emulator import start
>>> with start(speed=60) as emu:                         # doctest: +SKIP
...     emu.inject("status_503", path=r"^/v1/simulations/[^/]+$")
...     client = emu.client()

From a shell: ``twyn-emulator --port 8000 --speed 30`` (or ``python -m twyn_widgets.emulator``).
"""

from __future__ import annotations

from ._control import FAULT_KINDS
from ._runtime import Emulator, EmulatorError, create_app, start

__all__ = ["FAULT_KINDS", "Emulator", "EmulatorError", "create_app", "start"]
