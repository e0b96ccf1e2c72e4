"""Routes: ``/v1/scenarios`` (create, list, get, update, delete)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from .._guard import Caller
from ._context import Ctx
from ._schemas import DetailError, Scenario, ScenarioCreate, ScenarioList, ScenarioUpdate
from ._views import scenario_view

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])

_ONE: dict[int | str, dict[str, Any]] = {403: {"model": DetailError}, 404: {"model": DetailError}}

JSON = dict[str, Any]


@router.post("", status_code=201, response_model=Scenario, summary="Create a scenario")
async def create_scenario(
    body: ScenarioCreate,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """Create a scenario, a folder for related simulations."""
    return scenario_view(ctx.state.create_scenario(who.tenant_id, body.name, body.description))


@router.get("", response_model=ScenarioList, summary="List scenarios")
async def list_scenarios(
    who: Caller,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSON:
    """List your scenarios, newest first."""
    found = ctx.state.tenant_scenarios(who.tenant_id)
    return {
        "items": [scenario_view(item) for item in found[offset : offset + limit]],
        "total": len(found),
        "limit": limit,
        "offset": offset,
    }


@router.get("/{id}", response_model=Scenario, responses=_ONE, summary="Get a scenario")
async def get_scenario(
    id: str,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """Get one scenario."""
    return scenario_view(ctx.state.get_scenario(who.tenant_id, id))


@router.put("/{id}", response_model=Scenario, responses=_ONE, summary="Update a scenario")
async def update_scenario(
    id: str,
    body: ScenarioUpdate,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """Change a scenario's name and/or description (omitted fields are kept)."""
    scenario = ctx.state.update_scenario(
        who.tenant_id, id, name=body.name, description=body.description
    )
    return scenario_view(scenario)


@router.delete("/{id}", status_code=204, responses=_ONE, summary="Delete a scenario")
async def delete_scenario(
    id: str,
    who: Caller,
    ctx: Ctx,
) -> Response:
    """Delete a scenario. Its simulations stay, with ``scenario_id`` set to null."""
    ctx.state.delete_scenario(who.tenant_id, id)
    return Response(status_code=204)
