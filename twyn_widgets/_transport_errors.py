"""Why a request got no HTTP answer: ``requests``' exception chain read down to its real cause.

``requests`` wraps every network failure in a ``ConnectionError`` whose text is a long
``HTTPSConnectionPool(...): Max retries exceeded...`` line; the cause (a failed name lookup, a
refused port, a TLS alert, a proxy) sits a few links down the chain, in ``urllib3``'s and the
socket's exceptions. This module finds it and builds the :class:`~twyn_widgets.TransportError`
that names the host and the cause; every phrase of those messages is here.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from . import errors

__all__ = ["Cause", "classify", "host_of", "proxy_for", "summary", "transport_error"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNREACHABLE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH})
_CHAIN_LIMIT = 32  # links followed at most: a chain is a handful, a cycle must not loop


def host_of(url: str) -> str:
    """``host``, or ``host:port`` when the port is not the scheme's default (``[::1]:8000``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme):
        return host
    return f"{host}:{port}"


def proxy_for(session: requests.Session, url: str) -> str | None:
    """The proxy ``session`` sends ``url`` through (its settings, else the environment's), as
    ``host:port``: never its credentials."""
    proxies: Mapping[str, str] = session.proxies
    if session.trust_env:
        proxies = session.merge_environment_settings(url, dict(proxies), None, None, None)[
            "proxies"
        ]
    chosen = requests.utils.select_proxy(url, proxies)
    return host_of(chosen) if chosen else None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps: causes, contexts, ``reason`` and exception args."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo and len(seen) < _CHAIN_LIMIT:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            getattr(current, "original_error", None),
            *current.args,
        ]
        todo.extend(x for x in linked if isinstance(x, BaseException))


@dataclass(frozen=True, slots=True)
class Cause:
    """What a failed request's chain says.

    Attributes
    ----------
    code
        The stable code of :attr:`TransportError.cause <twyn_widgets.TransportError.cause>`.
    kind
        A finer flavour for the phrasing: ``certificate``, ``closed``, ``reset``, ``body``...
    detail
        The underlying error's own words, for the message's parentheses (may be empty).
    """

    code: str
    kind: str = ""
    detail: str = ""


def classify(exc: BaseException) -> Cause:
    """The cause of ``exc``, a ``requests`` exception (or anything it wraps)."""
    chain = list(_chain(exc))
    if any(_is_proxy_wrapper(e) for e in chain):
        inner = _classify_direct([e for e in chain if not _is_proxy_wrapper(e)])
        return Cause("proxy", detail=_PROXY_DETAIL.get(inner.code, "") or inner.detail)
    return _classify_direct(chain)


def _is_proxy_wrapper(exc: BaseException) -> bool:
    return isinstance(exc, (requests.exceptions.ProxyError, urllib3.exceptions.ProxyError))


_PROXY_DETAIL = {
    "dns": "cannot resolve the proxy",
    "refused": "connection refused",
    "unreachable": "the proxy is unreachable",
    "connect-timeout": "timed out",
    "read-timeout": "timed out",
}


def _classify_direct(chain: list[BaseException]) -> Cause:
    def first(*types: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, types)), None)

    tls = first(ssl.SSLError)
    if isinstance(tls, ssl.SSLError):
        if isinstance(tls, ssl.SSLCertVerificationError):
            return Cause("tls", "certificate", tls.verify_message or _ssl_words(tls))
        return Cause("tls", "handshake", _ssl_words(tls))
    lookup = first(socket.gaierror)
    if lookup is not None or first(urllib3.exceptions.NameResolutionError) is not None:
        words = lookup.strerror if isinstance(lookup, socket.gaierror) else None
        return Cause("dns", detail=words or "")
    if first(ConnectionRefusedError) is not None:
        return Cause("refused")
    if any(isinstance(e, OSError) and e.errno in _UNREACHABLE for e in chain):
        return Cause("unreachable")
    # Why requests' class and not urllib3's ConnectTimeoutError: urllib3's NewConnectionError
    # (any failed connect) subclasses ConnectTimeoutError; requests tells the two apart.
    if first(requests.exceptions.ConnectTimeout) is not None:
        return Cause("connect-timeout")
    timeouts = (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError)
    if first(*timeouts) is not None:
        return Cause("read-timeout")
    # Why closed before reset: http.client's RemoteDisconnected subclasses ConnectionResetError.
    if first(http.client.RemoteDisconnected) is not None:
        return Cause("dropped", "closed")
    if first(ConnectionResetError, ConnectionAbortedError, BrokenPipeError) is not None:
        return Cause("dropped", "reset")
    broken = (
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.ProtocolError,
        http.client.IncompleteRead,
    )
    if first(*broken) is not None:
        return Cause("dropped", "body")
    last = chain[-1] if chain else None
    return Cause("other", detail=f"{type(last).__name__}: {last}" if last else "")


def _ssl_words(exc: ssl.SSLError) -> str:
    """The words of an SSL error: ``wrong version number`` from
    ``[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)``."""
    text = str(exc)
    if "] " in text:
        text = text.split("] ", 1)[1]
    return text.split(" (_ssl.c", 1)[0].strip()


_PHRASES = {
    ("dns", ""): "cannot resolve {host}",
    ("refused", ""): "{host} refused the connection",
    ("unreachable", ""): "{host} is unreachable",
    ("tls", "certificate"): "the certificate of {host} is not trusted",
    ("tls", "handshake"): "TLS handshake with {host} failed",
    ("proxy", ""): "cannot reach {host} through the proxy {proxy}",
    ("connect-timeout", ""): "connecting to {host} timed out after {connect:g} s",
    ("read-timeout", ""): "no answer from {host} within {read:g} s",
    ("read-timeout", "body"): "the answer from {host} did not end within {whole:g} s",
    ("dropped", "closed"): "{host} closed the connection",
    ("dropped", "reset"): "{host} reset the connection",
    ("dropped", "body"): "the connection to {host} broke mid-answer",
    ("too-large", ""): "the answer from {host} passed the size cap",
}
"""Every cause's words, by ``(code, kind)``; anything else is "the request to {host} failed"."""


def summary(cause: Cause, host: str, *, proxy: str | None, timeout: tuple[float, float]) -> str:
    """The host and the cause in a few words, as a watch's notice shows them."""
    connect, read = timeout
    phrase = _PHRASES.get((cause.code, cause.kind), "the request to {host} failed")
    return phrase.format(
        host=host,
        proxy=proxy or "(from the environment)",
        connect=connect,
        read=read,
        whole=connect + read,
    )


_CLASSES: dict[str, type[errors.TransportError]] = {
    "dns": errors.ConnectError,
    "refused": errors.ConnectError,
    "unreachable": errors.ConnectError,
    "tls": errors.ConnectError,
    "proxy": errors.ConnectError,
    "connect-timeout": errors.RequestTimeout,
    "read-timeout": errors.RequestTimeout,
    "dropped": errors.ConnectionDropped,
    "too-large": errors.ResponseTooLarge,
}


def transport_error(
    cause: Cause,
    *,
    method: str,
    path: str,
    host: str,
    timeout: tuple[float, float],
    proxy: Callable[[], str | None] = lambda: None,
    scrub: Callable[[str], str] = str,
    unknown: type[errors.TransportError] = errors.TransportError,
) -> errors.TransportError:
    """The error to raise: its class by cause, a message naming the host and the cause.

    ``proxy`` is asked only for a proxy error; ``scrub`` cleans the underlying error's words;
    ``unknown`` is the class for the cause ``other``.
    """
    short = summary(cause, host, proxy=proxy() if cause.code == "proxy" else None, timeout=timeout)
    detail = scrub(cause.detail)[:200]
    message = f"{method} {path}: {short}" + (f" ({detail})" if detail else "")
    cls = _CLASSES.get(cause.code, unknown)
    return cls(message, host=host, cause=cause.code, summary=short)
