"""The API's refusals, as exceptions carrying the exact JSON body the docs give.

FastAPI style ``{"detail": "..."}`` for 401/403/404, and the structured style
``{"error": "CODE", "message": "...", "status": "CURRENT_STATUS"}`` for 409. The store and the
guards raise :class:`ApiError`; the HTTP layer's exception handler turns it into a JSON
response. Plain Python: no web framework is imported here.
"""

from __future__ import annotations

from typing import Any

from ._textutil import excerpt

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
