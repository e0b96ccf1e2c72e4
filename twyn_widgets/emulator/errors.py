"""Error responses in the two body styles the docs use.

FastAPI style ``{"detail": "..."}`` for 401/403/404 (and FastAPI's own 422 list), and the
structured style ``{"error": "CODE", "message": "...", "status": "CURRENT_STATUS"}`` for 409.
Handlers raise :class:`ApiError`; one exception handler turns it into a JSON response.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

INVALID_KEY = "Invalid or missing API key"


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
    """404 ``{"detail": "<Kind> with ID <id> not found"}`` (the docs' wording for simulations)."""
    return ApiError(404, {"detail": f"{kind} with ID {ident} not found"})


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
    return JSONResponse(status_code=500, content={"detail": f"Internal server error: {exc}"})
