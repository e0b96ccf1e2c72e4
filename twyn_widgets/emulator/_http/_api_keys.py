"""Routes: ``/v1/keys`` (create, list, get, update, delete)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from .._guard import Caller
from ._context import Ctx
from ._schemas import DetailError, KeyCreate, KeyCreated, KeyInfo, KeyList, KeyUpdate
from ._views import key_created_view, key_info_view

router = APIRouter(prefix="/v1/keys", tags=["keys"])

_ONE: dict[int | str, dict[str, Any]] = {403: {"model": DetailError}, 404: {"model": DetailError}}

JSON = dict[str, Any]


@router.post("", status_code=201, response_model=KeyCreated, summary="Create an API key")
async def create_key(
    body: KeyCreate,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """Create a key for your tenant. The plaintext ``api_key`` is shown only in this answer."""
    key = ctx.state.create_key(
        who.tenant_id,
        name=body.name,
        rate_limit=body.rate_limit,
        expires_in_days=body.expires_in_days,
    )
    return key_created_view(key)


@router.get("", response_model=KeyList, summary="List API keys")
async def list_keys(
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """List your tenant's keys (without their secrets)."""
    keys = ctx.state.tenant_keys(who.tenant_id)
    return {"keys": [key_info_view(key) for key in keys], "total": len(keys)}


@router.get("/{key_id}", response_model=KeyInfo, responses=_ONE, summary="Get an API key")
async def get_key(
    key_id: str,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """Details and usage of one key."""
    return key_info_view(ctx.state.get_key(who.tenant_id, key_id))


@router.patch("/{key_id}", response_model=KeyInfo, responses=_ONE, summary="Update an API key")
async def update_key(
    key_id: str,
    body: KeyUpdate,
    who: Caller,
    ctx: Ctx,
) -> JSON:
    """Rename a key, or disable / re-enable it with ``is_active``."""
    key = ctx.state.update_key(who.tenant_id, key_id, name=body.name, is_active=body.is_active)
    return key_info_view(key)


@router.delete("/{key_id}", status_code=204, responses=_ONE, summary="Delete an API key")
async def delete_key(
    key_id: str,
    who: Caller,
    ctx: Ctx,
) -> Response:
    """Revoke a key permanently."""
    ctx.state.delete_key(who.tenant_id, key_id)
    return Response(status_code=204)
