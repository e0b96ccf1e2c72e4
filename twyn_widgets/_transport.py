"""HTTP for the client: one ``requests.Session`` per thread, timeouts, a size cap, error mapping.

This module and :mod:`._transport_errors` (which reads a failed request's exception chain) are
the only ones that import ``requests``. Every foreign exception is mapped here, once, to the tree
in :mod:`twyn_widgets.errors`, and the API key is scrubbed from every message.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from . import errors
from ._transport_errors import Cause, classify, host_of, proxy_for, transport_error
from ._version import __version__

__all__ = ["Response", "Transport", "is_loopback_url", "mask_key"]

log = logging.getLogger("twyn_widgets")

DEFAULT_TIMEOUT = (5.0, 30.0)
"""(connect, read) seconds: the docs ask for 30 s per call."""

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Largest body read; a results object is far smaller (the docs' examples are a few KB)."""

_STATUS_ERRORS: dict[int, type[errors.APIError]] = {
    400: errors.BadRequest,
    401: errors.AuthenticationError,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    409: errors.Conflict,
    422: errors.ValidationError,
    429: errors.RateLimited,
}


def mask_key(key: str | None) -> str:
    """Show a key as ``twyn_live_...abcd``: its kind and last four characters, nothing more."""
    if not key:
        return "<no key>"
    prefix = ""
    parts = key.split("_")
    if len(parts) >= 3 and parts[0] == "twyn":
        prefix = f"{parts[0]}_{parts[1]}_"
    return f"{prefix}...{key[-4:]}" if len(key) > 8 else "..."


def is_loopback_url(url: str) -> bool:
    """Whether the URL's host is ``localhost`` or a loopback address."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Response:
    """A decoded 2xx answer: its JSON (``None`` for 204), status and headers."""

    status_code: int
    data: Any
    headers: Mapping[str, str]


class Transport:
    """Sends requests for one API key and base URL; safe to use from many threads.

    Parameters
    ----------
    base_url
        The API's base, e.g. ``https://api.twyn.it/v1``.
    api_key
        Sent as ``X-API-Key`` on every request; never logged or shown.
    timeout
        ``(connect, read)`` seconds for every request; the whole body must also arrive
        within ``connect + read`` seconds.
    max_bytes
        The body size cap.
    on_headers
        Called with the headers of every HTTP answer, errors included (for the rate limit).

    Notes
    -----
    ``requests`` makes no promise that one ``Session`` is safe across threads (psf/requests#2766),
    so each thread gets its own, kept for the thread's life: connections are reused per thread,
    and the number of connections never exceeds the number of threads that call.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        on_headers: Callable[[Mapping[str, str]], None] | None = None,
    ) -> None:
        self.on_headers = on_headers
        self.base_url = base_url.rstrip("/")
        self.host = host_of(self.base_url)
        """Where requests go, as errors name it: ``api.twyn.it``, or ``host:port``."""
        self._key = api_key
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._local = threading.local()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False

    # -- sessions ---------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(
                {
                    "X-API-Key": self._key,
                    "Accept": "application/json",
                    "User-Agent": f"twyn-widgets/{__version__}",
                }
            )
            # Why: a pool of one connection per host is all one thread can use at a time.
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
            with self._lock:
                self._sessions.add(session)
        return session

    def close(self) -> None:
        """Close every thread's session (their connections); later calls open new ones."""
        with self._lock:
            sessions = list(self._sessions)
            self._sessions = weakref.WeakSet()
        for session in sessions:
            session.close()
        self._local = threading.local()

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Response:
        """Send one request; return the decoded answer.

        Raises
        ------
        TransportError
            No whole HTTP answer arrived.
        ProtocolError
            A 2xx whose body is not JSON.
        APIError
            A 4xx or 5xx answer, as its subclass.
        """
        url = f"{self.base_url}{path}"
        started = time.monotonic()
        connect_timeout, read_timeout = self.timeout
        try:
            resp = self._session().request(
                method,
                url,
                params=_clean_params(params),
                json=json_body,
                timeout=(connect_timeout, read_timeout),
                stream=True,
                allow_redirects=False,
            )
            try:
                body = self._read_body(
                    resp, started + connect_timeout + read_timeout, method, path, url
                )
            finally:
                resp.close()
        except errors.TwynError:
            raise
        except requests.exceptions.RequestException as exc:
            unknown = (
                errors.ConnectError
                if isinstance(exc, requests.exceptions.ConnectionError)
                else errors.TransportError
            )
            raise self._failure(classify(exc), method, path, url, unknown=unknown) from exc

        headers = resp.headers
        log.debug("%s %s -> %s (%d bytes)", method, path, resp.status_code, len(body))
        if self.on_headers is not None:
            self.on_headers(headers)
        if resp.status_code >= 400 or resp.status_code < 200:
            raise self._api_error(resp.status_code, resp.reason or "", body, headers)
        if resp.status_code == 204 or not body.strip():
            return Response(resp.status_code, None, headers)
        return Response(resp.status_code, self._decode(body, method, path), headers)

    def _read_body(
        self, resp: requests.Response, deadline: float, method: str, path: str, url: str
    ) -> bytes:
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            detail = f"{int(declared):,} bytes announced, cap {self.max_bytes:,}"
            raise self._failure(Cause("too-large", detail=detail), method, path, url)
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > self.max_bytes:
                detail = f"cut off at {self.max_bytes:,} bytes"
                raise self._failure(Cause("too-large", detail=detail), method, path, url)
            if time.monotonic() > deadline:
                # Why: the read timeout is per socket read; a body that trickles forever
                # would pass it, so the whole body has a deadline too.
                raise self._failure(Cause("read-timeout", "body"), method, path, url)
            chunks.append(chunk)
        return b"".join(chunks)

    def _failure(
        self,
        cause: Cause,
        method: str,
        path: str,
        url: str,
        *,
        unknown: type[errors.TransportError] = errors.TransportError,
    ) -> errors.TransportError:
        """The error naming this transport's host and ``cause``."""
        return transport_error(
            cause,
            method=method,
            path=path,
            host=self.host,
            timeout=self.timeout,
            proxy=lambda: proxy_for(self._session(), url),
            scrub=self._scrub,
            unknown=unknown,
        )

    def _decode(self, body: bytes, method: str, path: str) -> Any:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            head = body[:60].decode("utf-8", "replace")
            raise errors.ProtocolError(
                f"{method} {path}: the answer is not JSON ({self._scrub(head)!r}...)"
            ) from exc

    def _api_error(
        self, status: int, reason: str, body: bytes, headers: Mapping[str, str]
    ) -> errors.APIError:
        data: Any = None
        try:
            data = json.loads(body) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            data = None
        detail, code, sim_status = _error_fields(data)
        if detail is None:
            is_html = "html" in headers.get("Content-Type", "").lower()
            detail = f"{reason or 'error'} (an HTML error page)" if is_html else (reason or "error")
        detail = self._scrub(detail)
        if status == 429:
            return errors.RateLimited(
                status,
                detail,
                retry_after=_retry_after(data, headers),
                error_code=code,
                status=sim_status,
                body=data,
            )
        cls = _STATUS_ERRORS.get(status)
        if cls is None:
            cls = errors.ServerError if status >= 500 else errors.APIError
        return cls(status, detail, error_code=code, status=sim_status, body=data)

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, mask_key(self._key)) if self._key else text


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}


def _error_fields(data: Any) -> tuple[str | None, str | None, str | None]:
    """Read both documented error-body styles: ``{detail}`` and ``{error, message, status}``."""
    if not isinstance(data, Mapping):
        return None, None, None
    code = data.get("error") if isinstance(data.get("error"), str) else None
    sim_status = data.get("status") if isinstance(data.get("status"), str) else None
    detail = data.get("detail")
    message = data.get("message")
    text: str | None
    if isinstance(detail, str):
        text = detail
    elif isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, Mapping):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p is not None)
                parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        text = "; ".join(parts) or None
    elif isinstance(message, str):
        text = message
    elif isinstance(detail, Mapping) and isinstance(detail.get("message"), str):
        text = detail["message"]
    else:
        text = None
    if text is not None and isinstance(message, str) and message != text and code is None:
        text = f"{text} ({message})"
    return text, code, sim_status


def _retry_after(data: Any, headers: Mapping[str, str]) -> float | None:
    """The wait of a 429: the body's ``retry_after`` (as documented), else ``Retry-After``."""
    if isinstance(data, Mapping):
        value = data.get("retry_after")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return float(value)
    header = headers.get("Retry-After")
    if header is None:
        return None
    header = header.strip()
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
