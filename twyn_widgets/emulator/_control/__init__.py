"""The instruments the control API drives: fault injection and traffic counters.

One job: let tests, notebooks and benchmarks break and measure the emulator's traffic.
``_faults`` keeps the fault rules (503s, drops, slow or malformed answers, 429s, huge or
endless bodies) and applies them in a raw ASGI middleware; ``_counters`` counts requests by
route and TCP connections, leaving the control API's own traffic out. The control API's
routes, which add rules and read counters, live with the other routes in ``_http``.

It imports only the domain and the guard; the names below are what the layers above use.
"""

from __future__ import annotations

from ._counters import Connection, Counters, CountersMiddleware
from ._faults import FAULT_KINDS, FaultKind, FaultMiddleware, FaultRegistry

__all__ = [
    "FAULT_KINDS",
    "Connection",
    "Counters",
    "CountersMiddleware",
    "FaultKind",
    "FaultMiddleware",
    "FaultRegistry",
]
