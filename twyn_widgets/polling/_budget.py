"""The rate budget of one API key, shared by every watch on it.

Every answer carries ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``. To make what is left
last until the reset, sends are spaced at least ``seconds_to_reset / remaining`` apart; after a
429 nobody sends until its wait has passed. Server times are real seconds, never scaled.
All methods take ``now`` (the poller's scheduling clock) so tests use a fake clock.

Not thread-safe on its own: the poller that owns it is called only under the engine's lock.
"""

from __future__ import annotations

__all__ = ["RateBudget"]


class RateBudget:
    """Paces the requests of one client so its key's budget lasts to the reset."""

    def __init__(self) -> None:
        self._next_free = float("-inf")  # no ordinary send before this time
        self._gap = 0.0
        self._paused_until = 0.0

    def observe(self, remaining: int | None, seconds_to_reset: float | None, now: float) -> None:
        """Take in the key's budget as an answer gave it: requests left, seconds to the reset.

        ``None`` for either means the server did not say (``X-RateLimit-*`` absent).
        """
        if remaining is None:
            return
        left = seconds_to_reset
        if left is None:
            self._gap = 0.0
        elif remaining <= 0:
            self._paused_until = max(self._paused_until, now + left)
            self._gap = 0.0
        else:
            self._gap = left / remaining

    def pause(self, retry_after: float | None, now: float, default: float = 1.0) -> None:
        """After a 429: no send before ``retry_after`` seconds (or ``default``) have passed."""
        wait = default if retry_after is None else retry_after
        self._paused_until = max(self._paused_until, now + wait)

    def earliest(self, now: float, *, urgent: bool = False) -> float:
        """The first time at which a send is within the budget (``now`` or later)."""
        spaced = float("-inf") if urgent else self._next_free
        return max(now, self._paused_until, spaced)

    def take(self, now: float, *, urgent: bool = False) -> bool:
        """Claim a send at ``now`` if the budget allows one; ``False`` means wait.

        An ordinary send (a poll) takes the next free slot, one gap after the last. An
        ``urgent`` one (a finished simulation's results: once per simulation, and what the
        caller waits for) takes no slot: it lowers ``remaining``, so the next answer widens
        the gap of the polls instead. Nothing is sent during a 429's pause or once the budget
        is spent.
        """
        if now < self._paused_until:
            return False
        if urgent:
            return True
        if now < self._next_free:
            return False
        self._next_free = max(self._next_free, now) + self._gap
        return True

    def extra(self, now: float) -> bool:
        """Send one more page of a sweep under way now, paid for by delaying the next poll."""
        if now < self._paused_until:
            return False
        self._next_free = max(self._next_free, now) + self._gap
        return True

    @property
    def paused_until(self) -> float:
        """Time until which a 429 (or a spent budget) holds every send."""
        return self._paused_until

    @property
    def gap(self) -> float:
        """The current spacing between sends, in seconds."""
        return self._gap
