"""Error responses in the two body styles the docs use.

FastAPI style ``{"detail": "..."}`` for 401/403/404 (and FastAPI's own 422 list), and the
structured style ``{"error": "CODE", "message": "...", "status": "CURRENT_STATUS"}`` for 409.
Handlers raise :class:`ApiError`; one exception handler turns it into a JSON response.
Validation errors (422) keep FastAPI's list shape but quote at most a short excerpt of the
input, so a large or malformed body is never echoed back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .textutil import excerpt

INVALID_KEY = "Invalid or missing API key"

SIMULATION_NOT_COMPLETE = "SIMULATION_NOT_COMPLETE"
"""409 code the docs give for a simulation that is still running."""
SIMULATION_FAILED = "SIMULATION_FAILED"
"""409 code for a FAILED simulation: its results, config edits and re-runs all answer it."""
SIMULATION_COMPLETE = "SIMULATION_COMPLETE"
"""409 code for a change asked of a COMPLETED_ANALYSIS simulation.

The docs name no code for this case; the emulator needs one for the structured body and
uses this one, the counterpart of ``SIMULATION_NOT_COMPLETE``.
"""

MAX_ERRORS = 20
"""Validation errors listed in one 422 answer at most."""
MESSAGE_CHARS = 300
"""Characters of a validation message kept at most."""


class ApiError(Exception):
    """An HTTP error with an exact JSON body.

    Parameters
    ----------
    status_code
        HTTP status code.
    body
        The JSON body to send, verbatim.
    """

    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        super().__init__(status_code, body)
        self.status_code = status_code
        self.body = body


def not_found(kind: str, ident: str) -> ApiError:
    """404 ``{"detail": "<Kind> with ID <id> not found"}`` (the docs' wording for simulations).

    The id is quoted as an excerpt: it comes from the client and may be long.
    """
    return ApiError(404, {"detail": f"{kind} with ID {excerpt(ident, 100)} not found"})


def forbidden(kind: str) -> ApiError:
    """403 ``{"detail": "Access denied: <kind> belongs to different tenant"}``."""
    return ApiError(403, {"detail": f"Access denied: {kind} belongs to different tenant"})


def conflict(error: str, message: str, status: str) -> ApiError:
    """409 with the structured body ``{"error", "message", "status"}``."""
    return ApiError(409, {"error": error, "message": message, "status": status})


def unauthorized() -> ApiError:
    """401 ``{"detail": "Invalid or missing API key"}``."""
    return ApiError(401, {"detail": INVALID_KEY})


async def api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Render an :class:`ApiError` as its JSON body."""
    assert isinstance(exc, ApiError)
    return JSONResponse(status_code=exc.status_code, content=exc.body)


async def internal_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Render an unexpected exception the way the real backend does: ``Internal server error``."""
    return JSONResponse(
        status_code=500, content={"detail": f"Internal server error: {excerpt(str(exc), 200)}"}
    )


def _short_input(value: Any) -> Any:
    """A scalar input as it was (strings as an excerpt); containers are left out."""
    if isinstance(value, str):
        return excerpt(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value if not isinstance(value, int) or abs(value) < 10**18 else excerpt(str(value))
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return None


def _short_loc(loc: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else excerpt(str(part)) for part in loc]


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Render FastAPI's validation errors without echoing more than an excerpt of the input.

    Parameters
    ----------
    errors
        ``RequestValidationError.errors()``.

    Returns
    -------
    list of dict
        At most :data:`MAX_ERRORS` entries with ``loc``, ``msg``, ``type`` and, for a scalar
        input, a short ``input``.
    """
    shown: list[dict[str, Any]] = []
    for error in list(errors)[:MAX_ERRORS]:
        item: dict[str, Any] = {
            "loc": _short_loc(error.get("loc", ())),
            "msg": excerpt(str(error.get("msg", "")), MESSAGE_CHARS),
            "type": excerpt(str(error.get("type", "value_error"))),
        }
        short = _short_input(error.get("input"))
        if short is not None:
            item["input"] = short
        shown.append(item)
    return shown


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Render a :class:`RequestValidationError` as a 422 ``{"detail": [...]}`` of excerpts."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": validation_errors(exc.errors())})
