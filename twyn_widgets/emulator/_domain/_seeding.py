"""Seeds: fresh ones for unique instances, and stable generators and hashes that do not depend
on ``PYTHONHASHSEED``."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from typing import Any


def seeded_rng(*parts: object) -> random.Random:
    """Return a :class:`random.Random` seeded from a stable hash of ``parts``."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def canonical(value: Any) -> str:
    """Serialise JSON data canonically (sorted keys, no spaces) for hashing and caching."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def fresh_seed() -> int:
    """Draw a random seed (63 bits from the OS), so that no two instances share ids or keys."""
    return secrets.randbits(63)
