"""Routes: ``/_emulator/...``, the emulator's own control API (not part of the Twyn API).

Tests, notebooks and benchmarks use it to inject faults, read traffic counters, change rate
limits, add tenants, re-enable keys and steer simulations. It needs no API key; instead
:class:`~twyn_widgets.emulator._guard.ControlGuard` lets through only loopback clients that
send the instance's control token and JSON. Its routes are described in their own OpenAPI
document (``/_emulator/openapi.json``), not in the API's.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from .._control import FaultKind
from .._domain import ApiError, not_found
from ._context import Ctx
from ._schemas import Text
from ._views import key_info_view, simulation_view

CONTROL_TAG = "emulator control (not part of the Twyn API)"

JSON = dict[str, Any]


router = APIRouter(prefix="/_emulator", tags=[CONTROL_TAG])


class FaultRequest(BaseModel):
    """A fault rule: what to do, to which requests, how often."""

    kind: FaultKind
    count: int | None = Field(
        default=None, ge=1, description="Fire for the next N matching requests"
    )
    fraction: float | None = Field(
        default=None, gt=0, le=1, description="Fire on each matching request with this probability"
    )
    path: Text | None = Field(
        default=None, max_length=1_000, description="Regular expression searched in the path"
    )
    method: Text | None = Field(default=None, max_length=20, description="HTTP method to match")
    delay: float | None = Field(
        default=None, ge=0, description="Seconds: sleep of `slow`, wait of `rate_limited_*`"
    )


class RateLimitRequest(BaseModel):
    """New limit and window for one key; a fresh window starts now."""

    api_key: Text = Field(max_length=200)
    limit: int = Field(ge=0, le=10**9)
    window: float | None = Field(
        default=None,
        gt=0,
        description="Real seconds (default: one emulated hour, i.e. 3600 / speed seconds)",
    )


class KeyRequest(BaseModel):
    """One key, named by its secret."""

    api_key: Text = Field(max_length=200)


class TenantRequest(BaseModel):
    """A new tenant."""

    name: Text | None = Field(default=None, max_length=200)


class FailRequest(BaseModel):
    """Make a simulation fail now, or when it reaches a phase."""

    error_log: Text | None = Field(default=None, max_length=10_000)
    phase: Literal["architect", "simulator", "analyst"] | None = None


class ListItemsRequest(BaseModel):
    """What items of ``GET /v1/simulations`` hold from now on."""

    mode: Literal["full", "summary"]


class StatusRequest(BaseModel):
    """Report a given status (any string) instead of the real one for a while."""

    status: Text = Field(min_length=1, max_length=100)
    duration: float | None = Field(default=None, ge=0, description="Seconds (forever if null)")


@router.put("/list-items", summary="Serve list items whole or as summaries")
async def set_list_items(body: ListItemsRequest, ctx: Ctx) -> JSON:
    """``summary``: list items carry only ``id``, ``title``, ``status``, ``created_at``."""
    ctx.list_items = body.mode
    return {"list_items": ctx.list_items}


@router.get("/health", summary="Is the emulator up?")
async def health(ctx: Ctx) -> JSON:
    """``{"ok": true, "speed": <factor>}``."""
    return {"ok": True, "speed": ctx.speed}


@router.post("/faults", summary="Inject a fault")
async def add_fault(body: FaultRequest, ctx: Ctx) -> JSON:
    """Add a fault rule; returns its id."""
    try:
        rule = ctx.faults.add(
            body.kind,
            count=body.count,
            fraction=body.fraction,
            path=body.path,
            method=body.method,
            delay=body.delay,
        )
    except re.error as exc:
        raise ApiError(
            422,
            {
                "detail": [
                    {
                        "loc": ["body", "path"],
                        "msg": f"Invalid regular expression: {exc}",
                        "type": "value_error",
                    }
                ]
            },
        ) from exc
    return {"id": rule.id}


@router.get("/faults", summary="List active fault rules")
async def list_faults(ctx: Ctx) -> JSON:
    """The active fault rules."""
    return {"faults": [rule.view() for rule in ctx.faults.rules()]}


@router.delete("/faults", status_code=204, summary="Clear all faults")
async def clear_faults(ctx: Ctx) -> Response:
    """Remove every fault rule."""
    ctx.faults.clear()
    return Response(status_code=204)


@router.get("/counters", summary="Traffic counters")
async def get_counters(ctx: Ctx) -> JSON:
    """Requests by method and route template, and TCP connections (control traffic excluded)."""
    return ctx.counters.snapshot()


@router.post("/counters/reset", status_code=204, summary="Reset traffic counters")
async def reset_counters(ctx: Ctx) -> Response:
    """Zero the counters."""
    ctx.counters.reset()
    return Response(status_code=204)


@router.post("/rate-limit", summary="Set a key's rate limit")
async def set_rate_limit(body: RateLimitRequest, ctx: Ctx) -> JSON:
    """Set a key's limit and window, and start a fresh window now."""
    key = ctx.state.key_by_secret(body.api_key)
    if key is None:
        raise ApiError(404, {"detail": "API key not found"})
    key.rate_limit = body.limit
    key.window = body.window
    ctx.limiter.restart(key)
    return {"key_id": key.key_id, "limit": key.rate_limit, "window": ctx.limiter.window_of(key)}


@router.post("/keys/enable", summary="Re-enable a disabled key")
async def enable_key(body: KeyRequest, ctx: Ctx) -> JSON:
    """Set a key active again (``PATCH /v1/keys/{id}`` can disable the only key a tenant has)."""
    key = ctx.state.key_by_secret(body.api_key)
    if key is None:
        raise ApiError(404, {"detail": "API key not found"})
    key.is_active = True
    return key_info_view(key)


@router.post("/tenants", status_code=201, summary="Create a tenant")
async def create_tenant(ctx: Ctx, body: TenantRequest | None = None) -> JSON:
    """A new tenant with one key."""
    tenant, key = ctx.state.new_tenant(None if body is None else body.name)
    return {"tenant_id": tenant.id, "api_key": key.secret}


@router.post("/simulations/{id}/fail", summary="Make a simulation fail")
async def fail_simulation(id: str, ctx: Ctx, body: FailRequest | None = None) -> JSON:
    """Fail now (in the current phase), or at ``phase`` when the simulation gets there."""
    request = body or FailRequest()
    simulation = ctx.state.lookup_simulation(id)
    when = ctx.state.fail(simulation, request.error_log, request.phase)
    view = simulation_view(ctx.state, simulation, ctx.state.clock())
    return {"failure": when, "simulation": view}


@router.post("/simulations/{id}/status", summary="Force the reported status")
async def force_status(id: str, body: StatusRequest, ctx: Ctx) -> JSON:
    """Report ``status`` for ``duration`` seconds (forever if null), then compute it again."""
    simulation = ctx.state.lookup_simulation(id)
    ctx.state.force_status(simulation, body.status, body.duration)
    return simulation_view(ctx.state, simulation, ctx.state.clock())


@router.delete("/simulations/{id}", status_code=204, summary="Delete a simulation")
async def delete_simulation(id: str, ctx: Ctx) -> Response:
    """Forget a simulation: later requests for it answer 404."""
    if id not in ctx.state.simulations:
        raise not_found("Simulation", id)
    ctx.state.remove_simulation(id)
    return Response(status_code=204)
