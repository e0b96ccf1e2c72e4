"""Routes: ``/v1/simulations`` (create, with-config, get, list, results, config, architect)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .._domain import to_epoch
from .._guard import Caller
from ._context import Ctx
from ._results import results_body
from ._schemas import (
    ArchitectRun,
    CreateSimulation,
    CreateSimulationWithConfig,
    DetailError,
    Simulation,
    SimulationConfig,
    SimulationList,
    SimulationResults,
    StructuredError,
)
from ._views import simulation_view

router = APIRouter(prefix="/v1/simulations", tags=["simulations"])

_ONE: dict[int | str, dict[str, Any]] = {403: {"model": DetailError}, 404: {"model": DetailError}}
_CONFLICT: dict[int | str, dict[str, Any]] = {**_ONE, 409: {"model": StructuredError}}

JSON = dict[str, Any]

SUMMARY_FIELDS = ("id", "title", "status", "created_at")
"""What a list item holds when the emulator serves summaries."""


@router.post("", status_code=201, response_model=Simulation, summary="Create a simulation")
async def create_simulation(
    body: CreateSimulation,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """Create a simulation from a prompt; Architect, Simulator and Analyst then run alone."""
    simulation = ctx.state.create_simulation(
        who.tenant_id,
        prompt=body.prompt,
        title=body.title,
        tags=body.tags,
        scenario_id=body.scenario_id,
        metadata=body.metadata,
    )
    # Rendered as of creation: the answer to a create shows PENDING, as in the docs.
    return simulation_view(ctx.state, simulation, simulation.created_at)


@router.post(
    "/with-config",
    status_code=201,
    response_model=Simulation,
    summary="Create a simulation with a custom config",
)
async def create_with_config(
    body: CreateSimulationWithConfig,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """Create a simulation from your own config: the Architect is skipped."""
    simulation = ctx.state.create_simulation(
        who.tenant_id,
        prompt=body.prompt,
        title=body.title,
        tags=body.tags,
        scenario_id=body.scenario_id,
        metadata=body.metadata,
        config=body.config.model_dump(),
    )
    # Rendered as of creation: the answer to a create shows PENDING, as in the docs.
    return simulation_view(ctx.state, simulation, simulation.created_at)


LIST_PARAMETERS = ("status", "tag", "created_after", "created_before", "limit", "offset")


def single_values(request: Request) -> None:
    """FastAPI dependency: refuse a list filter given more than once (422).

    The docs define ``tag`` as one tag; silently keeping only the last of several would
    answer a different question than the one asked.
    """
    for name in LIST_PARAMETERS:
        if len(request.query_params.getlist(name)) > 1:
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", name),
                        "msg": f"give {name} at most once (filters take one value each)",
                        "type": "repeated_parameter",
                    }
                ]
            )


@router.get(
    "",
    response_model=SimulationList,
    dependencies=[Depends(single_values)],
    summary="List simulations",
)
async def list_simulations(
    who: Caller,
    ctx: Ctx,
    status: Annotated[str | None, Query(description="Only simulations in this status")] = None,
    tag: Annotated[
        str | None, Query(description="Only simulations with this tag (give it at most once)")
    ] = None,
    created_after: Annotated[
        datetime | None, Query(description="ISO-8601, e.g. 2025-11-01T00:00:00Z")
    ] = None,
    created_before: Annotated[
        datetime | None, Query(description="ISO-8601, e.g. 2025-12-01T00:00:00Z")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSON:
    """List your simulations, newest first, with optional filters combined with AND."""
    found = ctx.state.list_simulations(
        who.tenant_id,
        status=status,
        tag=tag,
        created_after=None if created_after is None else to_epoch(created_after),
        created_before=None if created_before is None else to_epoch(created_before),
    )
    now = ctx.state.clock()
    page = found[offset : offset + limit]
    items = [simulation_view(ctx.state, simulation, now) for simulation in page]
    body = {"items": items, "total": len(found), "limit": limit, "offset": offset}
    if ctx.list_items == "summary":
        # Summaries are not the documented Simulation shape: sent as they are, unvalidated.
        body["items"] = [{k: item[k] for k in SUMMARY_FIELDS} for item in items]
        return JSONResponse(body)  # type: ignore[return-value]
    return body


@router.get("/{id}", response_model=Simulation, responses=_ONE, summary="Get a simulation")
async def get_simulation(
    id: str,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """Get a simulation and its lifecycle."""
    simulation = ctx.state.get_simulation(who.tenant_id, id)
    return simulation_view(ctx.state, simulation, ctx.state.clock())


@router.get(
    "/{id}/results",
    response_model=SimulationResults,
    responses=_CONFLICT,
    summary="Get the results of a completed simulation",
)
async def get_results(
    id: str,
    who: Caller,
    ctx: Ctx,
) -> Response:
    """Config, metrics and analysis; 409 until the simulation reaches COMPLETED_ANALYSIS."""
    simulation = ctx.state.get_simulation(who.tenant_id, id)
    ctx.state.require_results(simulation)
    # A ready-made body: FastAPI then skips re-validating and re-encoding megabytes on the loop.
    return Response(await results_body(ctx.state, simulation), media_type="application/json")


@router.get(
    "/{id}/config",
    response_model=SimulationConfig,
    responses=_CONFLICT,
    summary="Get a simulation's config",
)
async def get_config(
    id: str,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """The config, once the Architect has completed (409 before)."""
    simulation = ctx.state.get_simulation(who.tenant_id, id)
    return ctx.state.require_config(simulation)


@router.put(
    "/{id}/config",
    response_model=Simulation,
    responses=_CONFLICT,
    summary="Replace a simulation's config",
)
async def put_config(
    id: str,
    body: SimulationConfig,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """Replace the config and run Simulator and Analyst again.

    The simulation goes back to COMPLETED_CONFIG and its data and analysis are cleared.
    Before the Architect has produced a config, this answers 409.
    """
    simulation = ctx.state.get_simulation(who.tenant_id, id)
    ctx.state.replace_config(simulation, body.model_dump())
    return simulation_view(ctx.state, simulation, ctx.state.clock())


@router.post(
    "/{id}/architect",
    response_model=Simulation,
    responses=_CONFLICT,
    summary="Re-run the Architect",
)
async def rerun_architect(
    id: str,
    who: Caller,
    ctx: Ctx,
    body: ArchitectRun | None = None,
) -> JSON:
    """Run the Architect again (optionally with a new prompt), then the rest of the pipeline."""
    simulation = ctx.state.get_simulation(who.tenant_id, id)
    ctx.state.rerun_architect(simulation, None if body is None else body.prompt)
    return simulation_view(ctx.state, simulation, ctx.state.clock())
