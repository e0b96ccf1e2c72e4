"""API-key authentication and rate limiting for every ``/v1`` request.

Done in a raw ASGI middleware rather than a FastAPI dependency so that the ``X-RateLimit-*``
headers land on every answer to a valid key, including 404s, 409s, 422s and injected faults.
Requests without a valid, active, unexpired key get 401 and do not count against any
limit. The authenticated tenant is handed to the routes through the ASGI scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._domain import INVALID_KEY, EmulatorState, RateLimiter, rate_limit_body, unauthorized
from ._asgi import header, is_api_path, send_json

PRINCIPAL_SCOPE_KEY = "twyn_emulator.principal"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant and the key used."""

    tenant_id: str
    key_id: str


class AuthMiddleware:
    """Authenticate ``/v1`` requests, enforce the rate limit and stamp the headers.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    state
        Store of keys.
    limiter
        The per-key windows.
    """

    def __init__(self, app: ASGIApp, *, state: EmulatorState, limiter: RateLimiter) -> None:
        self.app = app
        self.state = state
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = self.state.authenticate(header(scope, b"x-api-key"))
        if key is None:
            await send_json(send, 401, {"detail": INVALID_KEY})
            return
        decision = self.limiter.hit(key)
        if not decision.allowed:
            await send_json(
                send, 429, rate_limit_body(decision.retry_after), headers=decision.headers()
            )
            return
        self.state.touch_key(key)
        scope[PRINCIPAL_SCOPE_KEY] = Principal(key.tenant_id, key.key_id)
        extra = decision.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="Your API key, `twyn_{live|test}_` followed by 64 hex digits.",
)


async def principal(
    request: Request, _key: Annotated[str | None, Security(api_key_header)] = None
) -> Principal:
    """FastAPI dependency: the caller authenticated by :class:`AuthMiddleware`.

    The ``Security`` parameter only documents the header in OpenAPI; the check itself has
    already happened in the middleware.
    """
    found = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if not isinstance(found, Principal):
        raise unauthorized()
    return found


Caller = Annotated[Principal, Depends(principal)]
"""Route parameter type: the authenticated caller."""
