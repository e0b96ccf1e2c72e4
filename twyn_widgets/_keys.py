"""``APIKey``: an API key as ``/v1/keys`` describes it, its secret masked wherever it is shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ._transport import mask_key
from .errors import ProtocolError
from .models import _optional, _optional_time, _require, one_line_repr

__all__ = ["APIKey"]


@dataclass(frozen=True, slots=True)
class APIKey:
    """An API key of your tenant (``APIKeyInfo``, or the answer to its creation).

    Attributes
    ----------
    key_id
        The key's id (``key_...``), for :meth:`TwynClient.get_key` and friends.
    name
        Its name.
    is_active
        Whether requests made with it are accepted (a new key is active).
    rate_limit
        Requests per hour allowed, when the server says.
    created_at, expires_at, last_used_at
        UTC datetimes; ``expires_at`` and ``last_used_at`` may be ``None``.
    usage_count
        Requests made with it so far.
    tenant_id
        The tenant it belongs to.
    api_key
        The secret itself: present only on the object :meth:`TwynClient.create_key` returns
        (the API shows it once), else ``None``. It is masked in ``repr`` and ``str``
        (``twyn_live_...abcd``) and takes no part in equality; store it somewhere safe at once.
    """

    key_id: str
    name: str = ""
    is_active: bool = True
    rate_limit: int | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    usage_count: int = 0
    tenant_id: str | None = None
    api_key: str | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        # Why masked: a key is often the last line of the cell that made it, and the notebook
        # keeps what a cell printed; the secret must be copied on purpose, not by accident.
        return one_line_repr(
            "APIKey",
            key_id=self.key_id,
            name=self.name,
            is_active=self.is_active,
            rate_limit=self.rate_limit,
            usage_count=self.usage_count,
            api_key=None if self.api_key is None else mask_key(self.api_key),
        )

    __str__ = __repr__

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> APIKey:
        """Build from ``APIKeyInfo`` or the creation answer (which alone holds ``api_key``).

        Raises
        ------
        ProtocolError
            ``key_id`` is missing, or a field has the wrong type.
        """
        if not isinstance(data, Mapping):
            raise ProtocolError(f"key: expected a JSON object, got {type(data).__name__}")
        key_id = _require(data, "key_id", str, "key")
        where = f"key {key_id}"
        active = _optional(data, "is_active", bool, where)
        return cls(
            key_id=key_id,
            name=_optional(data, "name", str, where) or "",
            is_active=True if active is None else active,
            rate_limit=_optional(data, "rate_limit", int, where),
            created_at=_optional_time(data, "created_at", where),
            expires_at=_optional_time(data, "expires_at", where),
            last_used_at=_optional_time(data, "last_used_at", where),
            usage_count=_optional(data, "usage_count", int, where) or 0,
            tenant_id=_optional(data, "tenant_id", str, where),
            api_key=_optional(data, "api_key", str, where),
        )
