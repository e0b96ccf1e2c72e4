"""Assemble the FastAPI application: routes, error handlers and middleware stack.

Request path through the middleware, outermost first::

    CountersMiddleware  count the request, classify its TCP connection
    AuthMiddleware      /v1 only: 401 without a valid key, 429 over the limit,
                        X-RateLimit-* headers on every answer
    FaultMiddleware     injected faults (never on /_emulator)
    routes              /v1/... and /_emulator/...
"""

from __future__ import annotations

from fastapi import FastAPI

from . import api_keys, api_scenarios, api_simulations, control
from .auth import AuthMiddleware
from .context import EmulatorContext, ListItems
from .counters import Counters, CountersMiddleware
from .errors import ApiError, api_error_handler, internal_error_handler
from .faults import FaultMiddleware, FaultRegistry
from .ratelimit import RateLimiter
from .state import DEFAULT_WINDOW, EmulatorState
from .timeutil import Clock, system_clock

TITLE = "Twyn API (local emulator)"

DESCRIPTION = """\
A local emulator of the public Twyn v1 API: simulations run through Architect, Simulator and
Analyst on a clock sped up by the emulator's speed factor, with deterministic content.

Authenticate with the `X-API-Key` header. The `/_emulator` routes are **not part of the
Twyn API**: they control the emulator itself (faults, counters, rate limits, tenants) and
answer only loopback clients.
"""

OPENAPI_TAGS = [
    {"name": "simulations", "description": "Create simulations, follow them, fetch results."},
    {"name": "scenarios", "description": "Folders for related simulations."},
    {"name": "keys", "description": "API keys of your tenant."},
    {
        "name": control.CONTROL_TAG,
        "description": "Emulator-only controls, not part of the Twyn API.",
    },
]


def create_app(
    *,
    speed: float = 1.0,
    seed: int = 0,
    rate_limit: int = 1000,
    clock: Clock | None = None,
    list_items: ListItems = "full",
) -> FastAPI:
    """Build the emulator's ASGI application.

    Parameters
    ----------
    speed
        Speed factor: every phase lasts ``1 / speed`` of its documented duration.
    seed
        Seed of ids, keys, phase durations and probabilistic faults.
    rate_limit
        Requests per window allowed to each new key unless it says otherwise. The window
        is the documented hour of emulated time: ``3600 / speed`` real seconds.
    clock
        Source of the current time in epoch seconds (default :func:`time.time`).
    list_items
        ``"summary"`` makes ``GET /v1/simulations`` items summaries (``id``, ``title``,
        ``status``, ``created_at``); ``"full"`` (default) serves whole simulations.

    Returns
    -------
    FastAPI
        The app. Its default tenant and key are at ``app.state.emulator.tenant`` and
        ``app.state.emulator.key``. Served by :func:`~twyn_widgets.emulator.start`, faults
        that cut connections and connection counters work too; served any other way
        (e.g. an in-process test client) everything else does.
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    now = clock or system_clock
    state = EmulatorState(seed=seed, speed=speed, rate_limit=rate_limit, clock=now)
    tenant, key = state.new_tenant("Emulator tenant")
    ctx = EmulatorContext(
        state=state,
        limiter=RateLimiter(now, DEFAULT_WINDOW / speed),
        faults=FaultRegistry(seed),
        counters=Counters(),
        tenant=tenant,
        key=key,
        list_items=list_items,
    )
    app = FastAPI(
        title=TITLE,
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=OPENAPI_TAGS,
    )
    app.state.emulator = ctx
    app.include_router(api_simulations.router)
    app.include_router(api_scenarios.router)
    app.include_router(api_keys.router)
    app.include_router(control.router)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(Exception, internal_error_handler)
    # add_middleware() wraps: the last one added ends up outermost.
    app.add_middleware(FaultMiddleware, registry=ctx.faults, clock=now)
    app.add_middleware(AuthMiddleware, state=state, limiter=ctx.limiter)
    # Route templates for the counters come from our own routers' APIRoute objects, whose
    # matching is public Starlette API (the app's top-level route list may hold wrappers).
    templates = [
        *api_simulations.router.routes,
        *api_scenarios.router.routes,
        *api_keys.router.routes,
        *app.router.routes,
    ]
    app.add_middleware(CountersMiddleware, counters=ctx.counters, routes=templates)
    return app
