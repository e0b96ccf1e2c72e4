"""Stable seeds: random generators and hashes that do not depend on ``PYTHONHASHSEED``."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any


def seeded_rng(*parts: object) -> random.Random:
    """Return a :class:`random.Random` seeded from a stable hash of ``parts``."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def canonical(value: Any) -> str:
    """Serialise JSON data canonically (sorted keys, no spaces) for hashing and caching."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
