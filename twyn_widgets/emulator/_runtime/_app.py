"""Assemble the FastAPI application: routes, error handlers and middleware stack.

Request path through the middleware, outermost first::

    HostGuard           403 unless the Host header is localhost, loopback or the bound address
    ControlGuard        /_emulator only: loopback client, control token, no cross-origin, JSON
    CountersMiddleware  count the request, classify its TCP connection
    AuthMiddleware      /v1 only: 401 without a valid key, 429 over the limit,
                        X-RateLimit-* headers on every answer
    BodyLimit           413 for a body over 1 MB
    FaultMiddleware     injected faults (never on /_emulator)
    routes              /v1/..., /_emulator/..., /docs, /openapi.json
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from .._control import Counters, CountersMiddleware, FaultMiddleware, FaultRegistry
from .._domain import (
    DEFAULT_WINDOW,
    ApiError,
    Clock,
    EmulatorState,
    RateLimiter,
    fresh_seed,
    system_clock,
)
from .._guard import (
    MAX_BODY_BYTES,
    AuthMiddleware,
    BodyLimit,
    ControlGuard,
    HostGuard,
    HostPolicy,
    new_token,
)
from .._http import (
    EmulatorContext,
    ListItems,
    api_error_handler,
    control_router,
    install_docs,
    internal_error_handler,
    keys_router,
    scenarios_router,
    simulations_router,
    validation_error_handler,
)

TITLE = "Twyn API (local emulator)"

DESCRIPTION = """\
A local emulator of the public Twyn v1 API: simulations run through Architect, Simulator and
Analyst on a clock sped up by the emulator's speed factor, with deterministic content.

Authenticate with the `X-API-Key` header. The emulator's own control routes (`/_emulator/`)
are not part of the Twyn API and are described in a document of their own.
"""

OPENAPI_TAGS = [
    {"name": "simulations", "description": "Create simulations, follow them, fetch results."},
    {"name": "scenarios", "description": "Folders for related simulations."},
    {"name": "keys", "description": "API keys of your tenant."},
]


def create_app(
    *,
    speed: float = 1.0,
    seed: int | None = None,
    rate_limit: int = 1000,
    clock: Clock | None = None,
    control_token: str | None = None,
    bound_host: str = "127.0.0.1",
    allowed_hosts: Iterable[str] = (),
    random_secrets: bool = False,
    list_items: ListItems = "full",
) -> FastAPI:
    """Build the emulator's ASGI application.

    Parameters
    ----------
    speed
        Speed factor: every phase lasts ``1 / speed`` of its documented duration.
    seed
        Seed of ids, keys, phase durations and probabilistic faults. ``None`` (the default)
        draws a fresh random seed, so every instance hands out its own ids and keys; give a
        number to get the same ones on every run.
    rate_limit
        Requests per window allowed to each new key unless it says otherwise. The window
        is the documented hour of emulated time: ``3600 / speed`` real seconds.
    clock
        Source of the current time in epoch seconds (default :func:`time.time`).
    control_token
        The token the control API requires in its ``X-Emulator-Token`` header; a random one
        when ``None``. Found at ``app.state.emulator.control_token``.
    bound_host
        The address the server listens on: requests must name it, ``localhost`` or a
        loopback address in their ``Host`` header.
    allowed_hosts
        More accepted ``Host`` names (``"*"`` accepts any: no DNS-rebinding protection).
    random_secrets
        Draw API keys from the OS's random source even when ``seed`` is given (for servers
        reachable from other machines).
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
    if seed is None:
        seed = fresh_seed()
    state = EmulatorState(
        seed=seed, speed=speed, rate_limit=rate_limit, clock=now, random_secrets=random_secrets
    )
    tenant, key = state.new_tenant("Emulator tenant")
    ctx = EmulatorContext(
        state=state,
        limiter=RateLimiter(now, DEFAULT_WINDOW / speed),
        faults=FaultRegistry(seed),
        counters=Counters(),
        tenant=tenant,
        key=key,
        seed=seed,
        control_token=control_token or new_token(),
        list_items=list_items,
    )
    app = FastAPI(
        title=TITLE,
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=OPENAPI_TAGS,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.emulator = ctx
    app.include_router(simulations_router)
    app.include_router(scenarios_router)
    app.include_router(keys_router)
    app.include_router(control_router, include_in_schema=False)
    api_routes = [
        *simulations_router.routes,
        *scenarios_router.routes,
        *keys_router.routes,
    ]
    install_docs(app, api_routes, control_router.routes)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Exception, internal_error_handler)
    # add_middleware() wraps: the last one added ends up outermost.
    app.add_middleware(FaultMiddleware, registry=ctx.faults, clock=now)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(AuthMiddleware, state=state, limiter=ctx.limiter)
    # Route templates for the counters come from our own routers' APIRoute objects, whose
    # matching is public Starlette API (the app's top-level route list may hold wrappers).
    templates = [*api_routes, *app.router.routes]
    app.add_middleware(CountersMiddleware, counters=ctx.counters, routes=templates)
    app.add_middleware(ControlGuard, token=ctx.control_token)
    app.add_middleware(HostGuard, policy=HostPolicy.for_bind(bound_host, allowed_hosts))
    return app
