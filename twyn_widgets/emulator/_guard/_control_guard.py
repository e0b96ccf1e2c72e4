"""The lock on ``/_emulator/...``: loopback clients with the instance's control token, JSON only.

Why each rule:

- **A token in a custom header.** A web page can send a "simple" cross-site request (a form
  POST, ``Content-Type: text/plain``) to a local server without asking; it cannot add a custom
  header without a CORS preflight (``OPTIONS``), which this guard refuses, and it cannot know
  the token, which is drawn at random for every instance.
- **JSON only.** Requests with a body must say ``Content-Type: application/json``, the one
  type a simple cross-site request cannot use.
- **No ``Origin`` from elsewhere.** Browsers name the page's origin; only the emulator's own
  origin is accepted.
- **Loopback clients only**, IPv4-mapped IPv6 included, even when the API itself listens on
  other interfaces.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.types import ASGIApp, Receive, Scope, Send

from ._asgi import header, is_control_path, send_json
from ._hosts import is_loopback

TOKEN_HEADER = "X-Emulator-Token"
"""The header that carries the control token."""

_TOKEN_HEADER_KEY = TOKEN_HEADER.lower().encode()
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def new_token() -> str:
    """Draw a control token: 32 random bytes, URL-safe base64."""
    return secrets.token_urlsafe(32)


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json"


def _client_is_loopback(scope: Scope) -> bool:
    client = scope.get("client")
    if not client:
        return False
    host = str(client[0])
    # Starlette's in-process TestClient names its peer "testclient": no socket is involved.
    return host == "testclient" or is_loopback(host)


def _same_origin(origin: str, host: str | None) -> bool:
    scheme, _, rest = origin.partition("://")
    return scheme in ("http", "https") and host is not None and rest.lower() == host.lower()


class ControlGuard:
    """Guard the control API; every other path passes through untouched.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    token
        The instance's control token.
    """

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            status, message = refusal
            # Deliberately no Access-Control-* header: a browser keeps the answer from the page.
            await send_json(send, status, {"detail": message})
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        if not _client_is_loopback(scope):
            return 403, "The emulator control API only answers loopback clients"
        method = str(scope["method"]).upper()
        if method == "OPTIONS":
            return 403, "The emulator control API refuses cross-origin requests"
        origin = header(scope, b"origin")
        if origin is not None and not _same_origin(origin, header(scope, b"host")):
            return 403, "The emulator control API refuses cross-origin requests"
        given = header(scope, _TOKEN_HEADER_KEY)
        if given is None or not hmac.compare_digest(given.encode("latin-1"), self.token):
            return 403, f"Missing or wrong control token (header {TOKEN_HEADER})"
        if method in _BODY_METHODS and not _is_json(header(scope, b"content-type")):
            return 415, "The control API accepts JSON only (Content-Type: application/json)"
        return None
