"""Text helpers for messages that quote client input."""

from __future__ import annotations

EXCERPT = 60
"""Characters of client input quoted back in a message, at most."""


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """Return ``text`` cut to ``limit`` characters (ellipsis included), safe to encode as UTF-8.

    Parameters
    ----------
    text
        Any string, lone surrogates included (they become U+FFFD).
    limit
        The longest result.
    """
    clean = text.encode("utf-8", "replace").decode("utf-8")
    return clean if len(clean) <= limit else clean[: limit - 1] + "\u2026"
