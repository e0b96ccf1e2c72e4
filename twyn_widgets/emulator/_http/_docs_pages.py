"""The emulator's API documents and its ``/docs`` page, served without any network.

- ``/openapi.json`` describes the public ``/v1`` API only: every operation lists its 401 and
  429 answers (and 413 when it takes a body, 422 when it validates input), and every answer
  but the 401 declares the ``X-RateLimit-*`` headers.
- ``/_emulator/openapi.json`` describes the control API (it needs the control token, like
  every control route).
- ``/docs`` is Swagger UI for ``/openapi.json``; its script, stylesheet and icon come from the
  ``fastapi-offline`` package, so the page works offline and loads nothing from a CDN.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute

from .._guard import API_PREFIX, TOKEN_HEADER

JSON = dict[str, Any]

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
CONTROL_OPENAPI_URL = "/_emulator/openapi.json"

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
"""The Swagger UI files served from the ``fastapi_offline`` package, with their types."""

RATE_LIMIT_HEADERS: JSON = {
    "X-RateLimit-Limit": {
        "description": "Requests allowed per window for this key",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the current window",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "When the window resets, in Unix epoch seconds",
        "schema": {"type": "integer"},
    },
}

_ERROR_SCHEMA: JSON = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_RATE_LIMIT_SCHEMA: JSON = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "enum": ["RATE_LIMIT_EXCEEDED"]},
        "message": {"type": "string"},
        "retry_after": {"type": "integer", "description": "Seconds to wait"},
    },
    "required": ["error", "message", "retry_after"],
}


def _json_response(description: str, schema: JSON) -> JSON:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _api_document(app: FastAPI, routes: Sequence[BaseRoute]) -> JSON:
    """Build the ``/v1`` document: FastAPI's own, with the answers every operation can give."""
    spec = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=list(routes),
        tags=app.openapi_tags,
    )
    for path, operations in spec.get("paths", {}).items():
        if not path.startswith(API_PREFIX):
            continue
        for operation in operations.values():
            responses: JSON = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses["413"] = _json_response(
                    "Request body larger than 1 MB", copy.deepcopy(_ERROR_SCHEMA)
                )
            responses["429"] = _json_response(
                "Rate limit exceeded; the wait is in the body's `retry_after`",
                copy.deepcopy(_RATE_LIMIT_SCHEMA),
            )
            for code, response in responses.items():
                response["headers"] = copy.deepcopy(RATE_LIMIT_HEADERS)
                if code == "422":
                    response["description"] = "Invalid input (FastAPI validation error list)"
            # The 401 is answered before the key is known: it carries no rate-limit headers.
            responses["401"] = _json_response(
                "Missing, invalid, disabled or expired API key", copy.deepcopy(_ERROR_SCHEMA)
            )
    return spec


def control_document(app: FastAPI, routes: Sequence[BaseRoute]) -> JSON:
    """Build the control API's own document (``/_emulator/...``), token scheme included."""
    spec = get_openapi(
        title="Twyn emulator control API",
        version=app.version,
        description=(
            "Controls of the local emulator itself (faults, counters, rate limits, tenants, "
            "keys, simulations). Not part of the Twyn API. Every call needs the instance's "
            f"control token in the `{TOKEN_HEADER}` header, comes from a loopback client, "
            "and sends JSON."
        ),
        routes=list(routes),
    )
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})["controlToken"] = {
        "type": "apiKey",
        "in": "header",
        "name": TOKEN_HEADER,
    }
    spec["security"] = [{"controlToken": []}]
    return spec


def install_docs(
    app: FastAPI, api_routes: Sequence[BaseRoute], control_routes: Sequence[BaseRoute]
) -> None:
    """Add ``/openapi.json``, ``/_emulator/openapi.json``, ``/docs`` and its assets to ``app``.

    Parameters
    ----------
    app
        An app created with ``docs_url=None``, ``redoc_url=None`` and ``openapi_url=None``.
    api_routes
        The ``/v1`` routers' routes, described in ``/openapi.json``.
    control_routes
        The control router's routes, described in their own document.
    """
    cache: dict[str, JSON] = {}

    def api_openapi() -> JSON:
        if "api" not in cache:
            cache["api"] = _api_document(app, api_routes)
        return cache["api"]

    app.openapi = api_openapi  # type: ignore[method-assign]

    def add(path: str, endpoint: Callable[..., Any]) -> None:
        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)

    async def openapi_json() -> JSONResponse:
        return JSONResponse(api_openapi())

    async def control_openapi_json() -> JSONResponse:
        if "control" not in cache:
            cache["control"] = control_document(app, control_routes)
        return JSONResponse(cache["control"])

    async def docs_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            # No online validator badge: it would be fetched from the validator's site.
            swagger_ui_parameters={"validatorUrl": None},
        )

    async def docs_asset(name: str) -> Response:
        media_type = ASSETS.get(name)
        if media_type is None:
            raise HTTPException(404, "Not Found")
        data = (files("fastapi_offline") / "static" / name).read_bytes()
        return Response(data, media_type=media_type, headers={"Cache-Control": "max-age=3600"})

    add("/openapi.json", openapi_json)
    add(CONTROL_OPENAPI_URL, control_openapi_json)
    add(DOCS_URL, docs_page)
    add(ASSETS_URL + "/{name}", docs_asset)
