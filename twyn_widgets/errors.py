"""The exception tree of twyn-widgets.

Every failure the package reports is a :class:`TwynError`; foreign exceptions (``requests``,
``json``) are mapped once, at the transport boundary, with ``raise ... from exc``::

    TwynError
    ├── ConfigurationError          no key, an insecure URL, a bad option
    ├── InvalidIdError              an id that could reach another path; refused before any request
    ├── TransportError              no HTTP answer; ``host`` and ``cause`` say where and why
    │   ├── ConnectError            DNS, refused, unreachable, TLS, proxy
    │   ├── RequestTimeout          connect or read timeout, or the body took too long
    │   ├── ConnectionDropped       the connection broke mid-request or mid-response
    │   └── ResponseTooLarge        the body passed the size cap
    ├── ProtocolError               not the documented JSON (HTML, malformed, a field missing)
    ├── APIError                    the server answered with an error status
    │   ├── BadRequest              400
    │   ├── AuthenticationError     401
    │   ├── PermissionDenied        403
    │   ├── NotFound                404
    │   ├── Conflict                409 (``status`` holds the simulation's current status)
    │   ├── ValidationError         422 (``errors`` lists the field locations)
    │   ├── RateLimited             429 (``retry_after`` from the body or a ``Retry-After`` header)
    │   └── ServerError             5xx
    ├── SimulationFailed            the simulation reached FAILED (``error_log``, ``phase``)
    ├── WaitTimeout                 a wait passed its timeout; also a built-in ``TimeoutError``
    └── WatchStopped                the watch was stopped; also a ``CancelledError`` (futures)

    WatchInterrupted                an interrupt (Ctrl-C) ended a wait; a ``KeyboardInterrupt``

Messages never contain the API key: the transport scrubs it from every server string.

In IPython (a notebook, a terminal) these errors show the user's own line and the message, not
the package's frames: see :meth:`TwynError._render_traceback_`.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ._humanize import duration as _duration

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "ConnectError",
    "ConnectionDropped",
    "InvalidIdError",
    "NotFound",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "RequestTimeout",
    "ResponseTooLarge",
    "ServerError",
    "SimulationFailed",
    "TransportError",
    "TwynError",
    "ValidationError",
    "WaitTimeout",
    "WatchInterrupted",
    "WatchStopped",
    "is_transient",
]


class TwynError(Exception):
    """Base class of every error raised by twyn-widgets."""

    def _render_traceback_(self) -> list[str]:
        """IPython's hook for an exception's traceback: the frames without the package's own.

        IPython calls it instead of formatting the traceback itself; see
        :func:`twyn_widgets._tracebacks.user_traceback`.
        """
        from ._tracebacks import user_traceback

        return user_traceback(self)


class ConfigurationError(TwynError):
    """The client cannot be used as configured (no key, an insecure URL, a bad option)."""


class InvalidIdError(TwynError, ValueError):
    """An id that is not a plain identifier; refused before any request is sent."""


class TransportError(TwynError):
    """The request did not get an HTTP answer (network, timeout, dropped connection).

    The message names the host and the cause, e.g. ``GET /simulations: cannot resolve
    api.twyn.it (Name or service not known)``.

    Parameters
    ----------
    message
        The whole message.
    host
        Where the request went: ``api.twyn.it``, or ``host:port`` when the port is not the
        scheme's default; ``None`` when not known.
    cause
        Why, as a short stable code (``None`` when not known):

        - ``"dns"``: the host name could not be resolved (a :class:`ConnectError`);
        - ``"refused"``: nothing listens at the host's port (:class:`ConnectError`);
        - ``"unreachable"``: no route to the host (:class:`ConnectError`);
        - ``"tls"``: the TLS handshake failed, or the host's certificate is not trusted
          (:class:`ConnectError`);
        - ``"proxy"``: the proxy (``HTTPS_PROXY``...) could not be reached, or refused the
          tunnel (:class:`ConnectError`);
        - ``"connect-timeout"``: the connection was not accepted in time
          (:class:`RequestTimeout`);
        - ``"read-timeout"``: no answer, or not the whole body, in time (:class:`RequestTimeout`);
        - ``"dropped"``: the connection was closed or reset mid-exchange
          (:class:`ConnectionDropped`);
        - ``"too-large"``: the body passed the size cap (:class:`ResponseTooLarge`);
        - ``"other"``: none of these; the message carries the underlying error.
    summary
        The host and the cause in a few words (``cannot resolve api.twyn.it``), as a watch's
        notice shows them; defaults to ``message``.
    """

    def __init__(
        self,
        message: str,
        *,
        host: str | None = None,
        cause: str | None = None,
        summary: str | None = None,
    ) -> None:
        super().__init__(message)
        self.host = host
        self.cause = cause
        self.summary = summary if summary is not None else message


class ConnectError(TransportError):
    """The connection could not be opened (name not resolved, refused, unreachable, TLS,
    proxy)."""


class RequestTimeout(TransportError):
    """The server did not answer in time (connect, read, or the whole body)."""


class ConnectionDropped(TransportError):
    """The connection broke after it was opened, before a whole answer arrived."""


class ResponseTooLarge(TransportError):
    """The answer's body passed the client's size cap and was cut off."""


class ProtocolError(TwynError):
    """The server answered, but not with the documented JSON (HTML, malformed, a field missing)."""


class APIError(TwynError):
    """The server answered with an error status.

    Parameters
    ----------
    status_code
        The HTTP status.
    detail
        The server's message: ``detail`` of a FastAPI-style body, else ``message`` of a
        structured one, else the reason phrase.
    error_code
        The structured body's ``error`` (``SIMULATION_NOT_COMPLETE``, ``RATE_LIMIT_EXCEEDED``...).
    status
        The structured body's ``status`` (the simulation's status on a 409).
    body
        The decoded body, when it was JSON.
    """

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        error_code: str | None = None,
        status: str | None = None,
        body: Any = None,
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.error_code = error_code
        self.status = status
        self.body = body
        super().__init__(self._message())

    def _message(self) -> str:
        code = f" {self.error_code}" if self.error_code else ""
        return f"HTTP {self.status_code}{code}: {self.detail}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Why: keyword-only arguments are lost by Exception's default pickling; futures and
        # multiprocessing users pickle exceptions.
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[APIError], state: dict[str, Any]) -> APIError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    Exception.__init__(err, err._message())
    return err


class BadRequest(APIError):
    """400: the request was refused as invalid."""


class AuthenticationError(APIError):
    """401: the API key is missing, invalid, disabled or expired."""


class PermissionDenied(APIError):
    """403: the resource belongs to another tenant."""


class NotFound(APIError):
    """404: no such simulation, scenario or key."""


class Conflict(APIError):
    """409: the resource is not ready (e.g. results of a running simulation)."""


class ValidationError(APIError):
    """422: the body did not validate; ``errors`` lists ``(location, message)`` pairs."""

    @property
    def errors(self) -> list[tuple[str, str]]:
        """The field errors as ``("body.prompt", "field required")`` pairs."""
        items = self.body.get("detail") if isinstance(self.body, Mapping) else None
        out: list[tuple[str, str]] = []
        if isinstance(items, Sequence) and not isinstance(items, str):
            for item in items:
                if isinstance(item, Mapping):
                    loc = item.get("loc", ())
                    where = ".".join(str(p) for p in loc) if isinstance(loc, Sequence) else str(loc)
                    out.append((where, str(item.get("msg", ""))))
        return out


class RateLimited(APIError):
    """429: the key's request budget is spent; wait ``retry_after`` seconds (real seconds)."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        retry_after: float | None = None,
        error_code: str | None = None,
        status: str | None = None,
        body: Any = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(status_code, detail, error_code=error_code, status=status, body=body)

    def _message(self) -> str:
        wait = f" (retry after {self.retry_after:g} s)" if self.retry_after is not None else ""
        return super()._message() + wait


class ServerError(APIError):
    """5xx: the server failed."""


class SimulationFailed(TwynError):
    """The simulation reached FAILED.

    Parameters
    ----------
    simulation_id
        The simulation's id.
    error_log
        The server's ``error_log`` (may be ``None`` when the server gave none).
    phase
        The phase that failed (its display name), from the lifecycle, or ``None``.
    """

    def __init__(self, simulation_id: str, error_log: str | None, phase: str | None) -> None:
        self.simulation_id = simulation_id
        self.error_log = error_log
        self.phase = phase
        where = f" in the {phase} phase" if phase else ""
        super().__init__(
            f"Simulation {simulation_id} failed{where}: {error_log or 'no error_log given'}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.simulation_id, self.error_log, self.phase))


class WaitTimeout(TwynError, TimeoutError):
    """A wait passed its timeout before the simulation finished (it may still be running)."""

    @classmethod
    def gave_up(
        cls,
        simulation_id: str,
        api_timeout: float,
        *,
        status: str | None,
        answered: bool,
        seen_ago: float = 0.0,
        held: float | None = None,
        remaining: int | None = None,
        reset: float | None = None,
    ) -> WaitTimeout:
        """The timeout of a watch, phrased from what the polling knew (not guessed).

        Parameters
        ----------
        simulation_id
            The watched simulation.
        api_timeout
            The timeout as the caller asked for it, in API seconds.
        status
            The status last known (seen, or given when the watch began), if any.
        answered
            Whether any poll was answered (else ``status`` is the one the watch began with).
        seen_ago
            API seconds since the server last said ``status``.
        held
            API seconds the key's rate budget held the polls back, when it mattered.
        remaining, reset
            The key's budget as last seen: requests left, and the reset (epoch seconds).
        """
        sid = simulation_id
        if status is None:
            last_seen = "no status seen yet"
        elif not answered:
            last_seen = f"no poll answered yet (it was {status} when the watch began)"
        else:
            last_seen = f"last seen {status} {_duration(seen_ago)} ago"
        parts = [
            f"gave up waiting for simulation {sid} after {_duration(api_timeout)} "
            f"(timeout={api_timeout:g})",
            last_seen,
        ]
        if held is not None:
            parts.append(f"the key's rate budget held polls back {_duration(held)} in all")
            if remaining is not None and reset is not None:
                # Why local time: it is a time on the user's clock to come back at (the
                # server's own seconds, never scaled).
                at = datetime.fromtimestamp(reset).strftime("%H:%M")
                plural = "" if remaining == 1 else "s"
                parts[-1] += f" ({remaining} request{plural} left until {at})"
        return cls(
            "; ".join(parts) + ". It keeps running on the server (or has finished since): "
            f"wait again with client.watch({sid!r}).result() or "
            f"tw.SimulationWatcher({sid!r}, client=client)"
        )


class WatchStopped(TwynError, concurrent.futures.CancelledError):
    """The watch was stopped (Stop button, ``stop()``, an interrupt); the simulation itself keeps
    running on the server, since the API has no cancel.

    Also a ``concurrent.futures.CancelledError``, so code that expects a cancelled future's
    error keeps working.
    """

    @classmethod
    def by_caller(cls, simulation_id: str) -> WatchStopped:
        """The ending of a watch its caller stopped: the simulation runs on, how to resume."""
        sid = simulation_id
        return cls(
            f"stopped watching simulation {sid}; it keeps running on the server (the API has "
            f"no cancel). Watch it again with client.watch({sid!r})"
        )


class WatchInterrupted(KeyboardInterrupt):
    """An interrupt (Ctrl-C, the notebook's stop button) ended a wait; watching stopped.

    The simulations keep running on the server (the API has no cancel); the message says how
    to pick them up again. ``simulation_ids`` lists them.

    Why a ``KeyboardInterrupt`` and not a message printed before re-raising one: it still stops
    the cell (and a notebook's "run all"), ``except KeyboardInterrupt`` still catches it, and
    the message travels with the exception (into the notebook's error output, a script's
    stderr, a log) instead of landing apart from it on stdout. It is no :class:`TwynError`, so
    ``except Exception`` never swallows an interrupt.
    """

    def __init__(self, simulation_ids: Sequence[str]) -> None:
        self.simulation_ids = list(simulation_ids)
        super().__init__(_interrupted_message(self.simulation_ids))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.simulation_ids,))

    def _render_traceback_(self) -> list[str]:
        """As for :meth:`TwynError._render_traceback_`: the user's line and the message."""
        from ._tracebacks import user_traceback

        return user_traceback(self)


def _interrupted_message(ids: Sequence[str]) -> str:
    if len(ids) == 1:
        sid = ids[0]
        return (
            f"stopped watching simulation {sid}; it keeps running on the server. Pick it up "
            f"again with %twyn_wait {sid} or tw.SimulationWatcher({sid!r})"
        )
    return (
        f"stopped watching {len(ids)} simulations; they keep running on the server. Pick them "
        "up again with %twyn_wait --running or tw.SimulationBoard.running()"
    )


_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the same request later may succeed.

    Network failures, timeouts, cut-off bodies, malformed answers and 5xx are transient;
    401, 403, 404, 409, 422 and our own usage errors are not. A 429 is transient but is
    handled apart: its wait is told by the server.
    """
    if isinstance(exc, (TransportError, ProtocolError, RateLimited)):
        return True
    if isinstance(exc, ServerError):
        return True
    return isinstance(exc, APIError) and exc.status_code in _TRANSIENT_STATUS
