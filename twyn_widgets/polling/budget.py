"""The rate budget of one API key, shared by every watch on it.

Every answer carries ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``. To make what is left
last until the reset, sends are spaced at least ``seconds_to_reset / remaining`` apart; after a
429 nobody sends until its wait has passed. Server times are real seconds, never scaled.
All methods take ``now`` (epoch seconds) so tests use a fake clock.
"""

from __future__ import annotations

import threading

from ..models import RateLimit

__all__ = ["RateBudget"]


class RateBudget:
    """Paces the requests of one client so its key's budget lasts to the reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_send = float("-inf")
        self._gap = 0.0
        self._paused_until = 0.0
        self._remaining: int | None = None

    def observe(self, seen: RateLimit | None, now: float) -> None:
        """Take in the last ``X-RateLimit-*`` values (``None``: the server sent none)."""
        if seen is None or seen.remaining is None:
            return
        with self._lock:
            self._remaining = seen.remaining
            left = seen.seconds_to_reset(now)
            if left is None:
                self._gap = 0.0
            elif seen.remaining <= 0:
                self._paused_until = max(self._paused_until, now + left)
                self._gap = 0.0
            else:
                self._gap = left / seen.remaining

    def pause(self, retry_after: float | None, now: float, default: float = 1.0) -> None:
        """After a 429: no send before ``retry_after`` seconds (or ``default``) have passed."""
        wait = default if retry_after is None else retry_after
        with self._lock:
            self._paused_until = max(self._paused_until, now + wait)

    def earliest(self, now: float) -> float:
        """The first epoch time at which a send is within the budget (``now`` or later)."""
        with self._lock:
            return max(now, self._paused_until, self._last_send + self._gap)

    def take(self, now: float, *, urgent: bool = False) -> bool:
        """Claim a send at ``now`` if the budget allows one; ``False`` means wait.

        An ``urgent`` send (fetching a finished simulation's results: once per simulation,
        and what the caller is waiting for) skips the spacing, never a 429's pause or a
        spent budget.
        """
        with self._lock:
            spaced = self._last_send + (0.0 if urgent else self._gap)
            if now < max(self._paused_until, spaced):
                return False
            self._last_send = now
            if self._remaining is not None:
                self._remaining -= 1
            return True

    @property
    def paused_until(self) -> float:
        """Epoch time until which a 429 (or a spent budget) holds every send."""
        return self._paused_until

    @property
    def gap(self) -> float:
        """The current spacing between sends, in seconds."""
        return self._gap
