"""Exception handlers: an :class:`ApiError`, a validation error or a crash as a JSON answer.

An :class:`ApiError` is sent as its exact body. Validation errors (422) keep FastAPI's list
shape but quote at most a short excerpt of the input, so a large or malformed body is never
echoed back. Any other exception answers 500 the way the real backend does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .._domain import ApiError, excerpt

MAX_ERRORS = 20
"""Validation errors listed in one 422 answer at most."""
MESSAGE_CHARS = 300
"""Characters of a validation message kept at most."""


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
