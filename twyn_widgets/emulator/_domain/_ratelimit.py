"""Per-key rate limiting in fixed one-hour windows, with the wait in the 429 body.

Each key gets a window that opens with its first request: an hour of emulated time by
default (``3600 / speed`` real seconds, so that a client scaling its notion of time by the
speed factor sees the same budget as against the real service), or ``key.window`` real
seconds when set through the control API. At most ``key.rate_limit`` requests are accepted
in a window. Every answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (Unix epoch seconds, an integer); a refused request gets 429 with
the wait in the body only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._state import ApiKey
from ._timeutil import Clock


@dataclass
class _Window:
    start: float
    count: int = 0


@dataclass(frozen=True)
class Decision:
    """Outcome of one request against its key's window.

    Attributes
    ----------
    allowed
        Whether the request may proceed.
    limit, remaining, reset
        Values of the ``X-RateLimit-*`` headers (``reset`` in integer epoch seconds).
    retry_after
        Whole seconds until the window resets (at least 1).
    """

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        """Return the ``X-RateLimit-*`` headers as raw ASGI header pairs."""
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]


class RateLimiter:
    """Fixed windows per key.

    Parameters
    ----------
    clock
        Source of the current time (epoch seconds).
    default_window
        Window length in real seconds for keys without their own.
    """

    def __init__(self, clock: Clock, default_window: float) -> None:
        self._clock = clock
        self._default_window = default_window
        self._windows: dict[str, _Window] = {}

    def window_of(self, key: ApiKey) -> float:
        """The length of ``key``'s window, in real seconds."""
        return self._default_window if key.window is None else key.window

    def _window(self, key: ApiKey, now: float) -> _Window:
        window = self._windows.get(key.key_id)
        if window is None or now >= window.start + self.window_of(key):
            window = _Window(now)
            self._windows[key.key_id] = window
        return window

    def hit(self, key: ApiKey) -> Decision:
        """Count one request for ``key`` if its window still has room."""
        now = self._clock()
        window = self._window(key, now)
        allowed = window.count < key.rate_limit
        if allowed:
            window.count += 1
        end = window.start + self.window_of(key)
        return Decision(
            allowed=allowed,
            limit=key.rate_limit,
            remaining=max(0, key.rate_limit - window.count),
            reset=math.ceil(end),
            retry_after=max(1, math.ceil(end - now)),
        )

    def restart(self, key: ApiKey) -> None:
        """Open a fresh, empty window for ``key`` now."""
        self._windows[key.key_id] = _Window(self._clock())


def rate_limit_body(retry_after: int) -> dict[str, object]:
    """The documented 429 body, e.g. ``Rate limit exceeded. Try again in 45 minutes.``."""
    minutes = max(1, math.ceil(retry_after / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return {
        "error": "RATE_LIMIT_EXCEEDED",
        "message": f"Rate limit exceeded. Try again in {minutes} {unit}.",
        "retry_after": retry_after,
    }
