"""Which hosts and clients the emulator trusts: loopback tests and the ``Host`` header check.

A local server is open to DNS rebinding: a web page on ``evil.example`` makes the user's
browser resolve that name to 127.0.0.1 and then reads the answers, which the browser treats
as same-origin. The answers' ``Host`` header still says ``evil.example``, so refusing every
``Host`` that is not ``localhost``, a loopback address or the address the server is bound to
(as Jupyter's server does) closes that door. IP literals cannot be rebound, so a server bound
to every interface (opt-in) also accepts any IP literal.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from .._domain import excerpt
from ._asgi import header, send_json

LOCAL_NAMES = frozenset({"localhost"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ``::ffff:127.0.0.1`` is how an IPv4 client shows up on a dual-stack socket.
        return address.ipv4_mapped
    return address


def is_ip_literal(host: str) -> bool:
    """Tell whether ``host`` is an IPv4 or IPv6 address (not a name)."""
    return _ip(host) is not None


def is_loopback(host: str) -> bool:
    """Tell whether an address is a loopback one, IPv4-mapped IPv6 (``::ffff:127.0.0.1``) included.

    Parameters
    ----------
    host
        An IP address as text; names other than ``localhost`` are not loopback.
    """
    if host.lower().rstrip(".") in LOCAL_NAMES:
        return True
    address = _ip(host)
    return address is not None and address.is_loopback


def is_loopback_bind(host: str) -> bool:
    """Tell whether listening on ``host`` keeps the server reachable from this machine only."""
    if host in WILDCARDS:
        return False
    if is_loopback(host):
        return True
    if is_ip_literal(host):
        return False
    try:
        found = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(found) and all(is_loopback(str(info[4][0])) for info in found)


def _interface_addresses() -> list[str]:
    """This machine's own addresses: from its host name, and on Linux from ``/proc``."""
    found: list[str] = []
    with contextlib.suppress(OSError):
        found += [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)]
    try:
        # Each local IPv4 address appears as "|-- ADDRESS" followed by "/32 host LOCAL".
        lines = Path("/proc/net/fib_trie").read_text().splitlines()
    except OSError:
        lines = []
    for previous, line in itertools.pairwise(lines):
        if line.strip() == "/32 host LOCAL" and "|--" in previous:
            found.append(previous.split("|--", 1)[1].strip())
    try:
        # Columns: address in hex, index, prefix length, scope (00: global), flags, name.
        rows = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        rows = []
    for row in rows:
        fields = row.split()
        if len(fields) >= 4 and fields[3] == "00":
            found.append(str(ipaddress.IPv6Address(bytes.fromhex(fields[0]))))
    return found


def reachable_addresses(host: str) -> list[str]:
    """Return the addresses other machines could use to reach a server bound to ``host``.

    For a wildcard bind these are this machine's own non-loopback addresses, as far as they
    can be found; otherwise ``host`` itself.
    """
    if host not in WILDCARDS:
        return [host]
    found: list[str] = []
    for address in _interface_addresses():
        if not is_loopback(address) and address not in found:
            found.append(address)
    return found or ["every network interface of this machine"]


def host_name(value: str) -> str:
    """Return the host part of a ``Host`` header value, lower case, without port or brackets."""
    text = value.strip().lower()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    if text.count(":") == 1:
        text = text.split(":", 1)[0]
    return text.rstrip(".")


@dataclass(frozen=True)
class HostPolicy:
    """The ``Host`` values a server answers.

    Attributes
    ----------
    names
        Accepted host names and addresses (lower case), besides loopback addresses.
    any_ip
        Accept any IP literal (a server bound to every interface, by explicit opt-in).
    any_host
        Accept every ``Host`` (``"*"`` among the allowed hosts): no rebinding protection.
    """

    names: frozenset[str] = field(default=LOCAL_NAMES)
    any_ip: bool = False
    any_host: bool = False

    @classmethod
    def for_bind(cls, bound: str, allowed: Iterable[str] = ()) -> HostPolicy:
        """Build the policy of a server bound to ``bound`` that also accepts ``allowed``."""
        extra = {host_name(name) for name in allowed}
        names = set(LOCAL_NAMES) | (extra - {"*"})
        if bound not in WILDCARDS:
            names.add(host_name(bound) if not bound.startswith("[") else bound[1:-1])
            names.add(bound.lower())
        return cls(frozenset(names), any_ip=bound in WILDCARDS, any_host="*" in extra)

    def allows(self, value: str | None) -> bool:
        """Tell whether a request with this ``Host`` header value may be answered."""
        if self.any_host:
            return True
        if not value:
            return False
        name = host_name(value)
        if name in self.names or is_loopback(name):
            return True
        return self.any_ip and is_ip_literal(name)


class HostGuard:
    """Refuse (403) every request whose ``Host`` header the policy does not allow.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    policy
        The accepted hosts.
    """

    def __init__(self, app: ASGIApp, *, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = header(scope, b"host")
        if not self.policy.allows(value):
            shown = "none" if value is None else repr(excerpt(value))
            await send_json(
                send,
                403,
                {
                    "detail": f"Host header {shown} is not allowed: use localhost or the "
                    "address the emulator listens on"
                },
            )
            return
        await self.app(scope, receive, send)
