"""Request bodies of at most 1 MB: larger ones answer 413 before they reach a route.

Every body is read here in full (up to the cap) and replayed to the app, so a body sent
without ``Content-Length`` (chunked) is held to the same cap as one that declares its size.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._asgi import header, send_json

MAX_BODY_BYTES = 1_000_000
"""The largest request body accepted, in bytes (1 MB)."""


def too_large_body(limit: int) -> dict[str, str]:
    """The 413 body."""
    return {"detail": f"Request body too large: the emulator accepts at most {limit:,} bytes"}


class BodyLimit:
    """Answer 413 to any request whose body exceeds ``limit`` bytes.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    limit
        The largest accepted body, in bytes.
    """

    def __init__(self, app: ASGIApp, *, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.limit:
            await send_json(send, 413, too_large_body(self.limit))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away before its body was complete: nothing to answer.
                return
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if size > self.limit:
                await send_json(send, 413, too_large_body(self.limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            # Later calls wait for the disconnect, as the server's own receive() does.
            return await receive()

        await self.app(scope, replay, send)
