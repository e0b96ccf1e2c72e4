"""``TwynClient``: one method per documented endpoint of the Twyn v1 API, returning typed models."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import errors
from ._keys import APIKey
from ._transport import DEFAULT_TIMEOUT, Transport, is_loopback_url, mask_key
from .models import (
    RateLimit,
    Scenario,
    Simulation,
    SimulationPage,
    SimulationRef,
    SimulationResult,
    check_id,
    simulation_id,
)

if TYPE_CHECKING:
    from .polling._schedules import Schedule
    from .polling._watch import Watch

__all__ = ["DEFAULT_BASE_URL", "APIKey", "SimulationRef", "TwynClient", "simulation_id"]

DEFAULT_BASE_URL = "https://api.twyn.it/v1"


def _iso(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat().replace("+00:00", "Z")


class TwynClient:
    """A client of the Twyn v1 API.

    Parameters
    ----------
    api_key
        The key; defaults to the ``TWYN_API_KEY`` environment variable.
    base_url
        Defaults to ``TWYN_BASE_URL``, else ``https://api.twyn.it/v1``. Plain ``http://`` is
        refused for any host but loopback unless ``allow_insecure=True`` (the key would travel
        in clear).
    timeout
        ``(connect, read)`` seconds per request, or one number for both. The docs ask for 30 s.
        Network time: real seconds, never scaled (the one timeout that is not in API seconds).
    time_scale
        Multiplies every duration the client assumes (phase lengths, poll intervals, the
        1 s floor, every wait's timeout), so a client of an emulator running 60x faster uses
        ``1/60`` and behaves the same, 60x faster: those durations are in *API seconds*, a
        second on the API's clock (a real second against the real API; 1/N of a real second
        against an emulator running N times faster). What the server says about time
        (``retry_after``, ``X-RateLimit-Reset``) is never scaled. Defaults to
        ``TWYN_TIME_SCALE`` or 1.
    allow_insecure
        Permit ``http://`` to a non-loopback host.
    max_bytes
        Cap on the size of one answer's body.

    Notes
    -----
    Safe to share between threads: each thread gets its own HTTP session, reused across calls.
    The key is never shown: ``repr(client)`` masks it as ``twyn_live_...abcd``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        time_scale: float | None = None,
        allow_insecure: bool = False,
        max_bytes: int | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("TWYN_API_KEY", "")
        key = key.strip()
        if not key:
            raise errors.ConfigurationError(
                "no API key: pass api_key=... or set TWYN_API_KEY "
                "(twyn_widgets.connect() starts a local emulator when there is none)"
            )
        if any(c.isspace() or not c.isprintable() or not c.isascii() for c in key):
            raise errors.ConfigurationError(
                "the API key holds spaces or control characters; check how it was pasted"
            )
        url = (base_url or os.environ.get("TWYN_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise errors.ConfigurationError(f"base_url must start with https:// (got {url!r})")
        if url.startswith("http://") and not allow_insecure and not is_loopback_url(url):
            raise errors.ConfigurationError(
                f"refusing plain http:// to {url!r}: the key would travel unencrypted; use "
                "https://, or pass allow_insecure=True if you really mean it"
            )
        if time_scale is None:
            time_scale = float(os.environ.get("TWYN_TIME_SCALE", "1") or 1)
        if not time_scale > 0:
            raise errors.ConfigurationError(f"time_scale must be > 0 (got {time_scale!r})")
        timeouts = (
            (float(timeout), float(timeout)) if isinstance(timeout, (int, float)) else timeout
        )
        self.base_url = url
        self.time_scale = float(time_scale)
        self._key_hint = mask_key(key)
        self._rate_limit: RateLimit | None = None
        self._rate_lock = threading.Lock()
        extra = {} if max_bytes is None else {"max_bytes": max_bytes}
        self._transport = Transport(
            url, key, timeout=timeouts, on_headers=self._note_rate_limit, **extra
        )
        self._on_close: list[Callable[[], None]] = []
        self.closed = False
        """Whether :meth:`close` was called (a closed client reopens connections on use)."""

    def __repr__(self) -> str:
        return f"TwynClient(base_url={self.base_url!r}, api_key={self._key_hint!r})"

    def __enter__(self) -> TwynClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop this client's watches and close its connections."""
        self.closed = True
        hooks, self._on_close = self._on_close, []
        for hook in hooks:
            hook()
        self._transport.close()

    def on_close(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when the client closes (the polling engine stops its watches)."""
        self._on_close.append(hook)

    # -- time and budget ------------------------------------------------------------------------

    def scaled(self, seconds: float | timedelta) -> float:
        """A duration the client assumes, in this client's time: ``seconds * time_scale``."""
        value = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        return value * self.time_scale

    @property
    def rate_limit(self) -> RateLimit | None:
        """The last ``X-RateLimit-*`` values the server sent, or ``None`` before any answer."""
        return self._rate_limit

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        seen = RateLimit.from_headers(headers)
        if seen is not None:
            with self._rate_lock:
                self._rate_limit = seen

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        __tracebackhide__ = True  # the caller's line shows, not the request's machinery
        try:
            return self._transport.request(method, path, params=params, json_body=body).data
        except errors.TwynError as exc:
            # Why drop the frames below: a TwynError is what the server or the network
            # answered, not a bug of ours; the transport's frames tell the caller nothing
            # (its cause, when it has one, stays chained).
            raise exc.with_traceback(None) from exc.__cause__

    @staticmethod
    def _object(data: Any, what: str) -> Mapping[str, Any]:
        __tracebackhide__ = True
        if not isinstance(data, Mapping):
            raise errors.ProtocolError(f"{what}: expected a JSON object")
        return data

    # -- simulations ----------------------------------------------------------------------------

    def create_simulation(
        self,
        prompt: str,
        *,
        title: str | None = None,
        tags: Sequence[str] | None = None,
        scenario_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Simulation:
        """Create a simulation: ``POST /v1/simulations`` (Architect, Simulator, Analyst).

        Returns
        -------
        Simulation
            The new simulation, usually PENDING.
        """
        __tracebackhide__ = True
        body: dict[str, Any] = {"prompt": prompt}
        body.update(_present(title=title, tags=_list(tags), metadata=_dict(metadata)))
        if scenario_id is not None:
            body["scenario_id"] = check_id(scenario_id, "scenario id")
        data = self._call("POST", "/simulations", body=body)
        return Simulation.from_json(self._object(data, "create simulation"), self)

    def create_simulation_with_config(
        self,
        prompt: str,
        config: Mapping[str, Any],
        *,
        title: str | None = None,
        tags: Sequence[str] | None = None,
        scenario_id: str | None = None,
    ) -> Simulation:
        """Create a simulation from your own config, skipping the Architect.

        ``POST /v1/simulations/with-config``; ``config`` is a SimulationConfig object
        (``step_unit``, ``number_of_steps``, ``agent_groups``).
        """
        __tracebackhide__ = True
        body: dict[str, Any] = {"prompt": prompt, "config": dict(config)}
        body.update(_present(title=title, tags=_list(tags)))
        if scenario_id is not None:
            body["scenario_id"] = check_id(scenario_id, "scenario id")
        data = self._call("POST", "/simulations/with-config", body=body)
        return Simulation.from_json(self._object(data, "create simulation"), self)

    def get_simulation(self, simulation: SimulationRef) -> Simulation:
        """``GET /v1/simulations/{id}``: the simulation and its status."""
        __tracebackhide__ = True
        sid = simulation_id(simulation)
        data = self._call("GET", f"/simulations/{quote(sid, safe='')}")
        return Simulation.from_json(self._object(data, f"simulation {sid}"), self)

    def get_results(
        self, simulation: SimulationRef, *, snapshot: Simulation | None = None
    ) -> SimulationResult:
        """``GET /v1/simulations/{id}/results``: config, metrics and analysis.

        Raises
        ------
        Conflict
            The simulation is still running (``error_code`` SIMULATION_NOT_COMPLETE,
            ``status`` its status) or has failed (``status`` FAILED).
        """
        __tracebackhide__ = True
        sid = simulation_id(simulation)
        if snapshot is None and isinstance(simulation, Simulation):
            snapshot = simulation
        data = self._call("GET", f"/simulations/{quote(sid, safe='')}/results")
        return SimulationResult.from_json(self._object(data, f"results {sid}"), snapshot)

    def list_simulations(
        self,
        *,
        status: str | None = None,
        tag: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> SimulationPage:
        """One page of ``GET /v1/simulations`` (``limit`` 1-100), filters combined."""
        __tracebackhide__ = True
        if not 1 <= limit <= 100:
            raise ValueError(f"limit must be 1-100 (got {limit})")
        if offset < 0:
            raise ValueError(f"offset must be >= 0 (got {offset})")
        params = {
            "status": None if status is None else str(status),
            "tag": tag,
            "created_after": _iso(created_after),
            "created_before": _iso(created_before),
            "limit": limit,
            "offset": offset,
        }
        data = self._call("GET", "/simulations", params=params)
        return SimulationPage.from_json(self._object(data, "simulation list"), self)

    def iter_simulations(
        self,
        *,
        status: str | None = None,
        tag: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        page_size: int = 100,
    ) -> Iterator[Simulation]:
        """Every simulation matching the filters, fetching pages of ``page_size`` as needed."""
        __tracebackhide__ = True
        offset: int | None = 0
        while offset is not None:
            page = self.list_simulations(
                status=status,
                tag=tag,
                created_after=created_after,
                created_before=created_before,
                limit=page_size,
                offset=offset,
            )
            yield from page.items
            offset = page.next_offset(offset)

    def list_running(
        self, *, created_after: datetime | str | None = None, page_size: int = 100
    ) -> list[Simulation]:
        """Every simulation of this key that has not reached a terminal status.

        Reads every page of ``GET /v1/simulations`` (items may be summaries: only ``id`` and
        ``status`` are needed), so it finds what still runs after a kernel restart:
        ``tw.SimulationBoard.running()`` and ``%twyn_wait --running`` watch them again.
        A status this version does not know counts as running.

        Parameters
        ----------
        created_after
            Only look at simulations created after this time (fewer pages to read).
        page_size
            Items per page (1-100).
        """
        __tracebackhide__ = True
        return [
            sim
            for sim in self.iter_simulations(created_after=created_after, page_size=page_size)
            if not sim.status.is_terminal
        ]

    def get_config(self, simulation: SimulationRef) -> dict[str, Any]:
        """``GET /v1/simulations/{id}/config``: the SimulationConfig object."""
        __tracebackhide__ = True
        sid = simulation_id(simulation)
        data = self._call("GET", f"/simulations/{quote(sid, safe='')}/config")
        return dict(self._object(data, f"config {sid}"))

    def update_config(self, simulation: SimulationRef, config: Mapping[str, Any]) -> Any:
        """``PUT /v1/simulations/{id}/config``: replace the config.

        After COMPLETED_CONFIG this resets the simulation: data and analysis are cleared and the
        Simulator and Analyst run again. Before it the server answers 409.
        """
        __tracebackhide__ = True
        sid = simulation_id(simulation)
        return self._call("PUT", f"/simulations/{quote(sid, safe='')}/config", body=dict(config))

    def rerun_architect(
        self,
        simulation: SimulationRef,
        prompt: str | None = None,
        *,
        max_turns: int | None = None,
        model: str | None = None,
    ) -> Any:
        """``POST /v1/simulations/{id}/architect``: run the Architect again with parameters."""
        __tracebackhide__ = True
        sid = simulation_id(simulation)
        body = _present(prompt=prompt, max_turns=max_turns, model=model)
        return self._call("POST", f"/simulations/{quote(sid, safe='')}/architect", body=body)

    # -- scenarios ------------------------------------------------------------------------------

    def create_scenario(self, name: str, description: str | None = None) -> Scenario:
        """``POST /v1/scenarios``: a new scenario (a folder for simulations)."""
        __tracebackhide__ = True
        data = self._call(
            "POST", "/scenarios", body={"name": name, **_present(description=description)}
        )
        return Scenario.from_json(self._object(data, "create scenario"))

    def list_scenarios(self, *, limit: int = 20, offset: int = 0) -> list[Scenario]:
        """``GET /v1/scenarios``: one page of scenarios."""
        __tracebackhide__ = True
        data = self._call("GET", "/scenarios", params={"limit": limit, "offset": offset})
        items = data.get("items") if isinstance(data, Mapping) else data
        if not isinstance(items, list):
            raise errors.ProtocolError("scenario list: expected items")
        return [Scenario.from_json(self._object(item, "scenario")) for item in items]

    def get_scenario(self, scenario_id: str) -> Scenario:
        """``GET /v1/scenarios/{id}``."""
        __tracebackhide__ = True
        sid = check_id(scenario_id, "scenario id")
        data = self._call("GET", f"/scenarios/{quote(sid, safe='')}")
        return Scenario.from_json(self._object(data, f"scenario {sid}"))

    def update_scenario(
        self, scenario_id: str, *, name: str | None = None, description: str | None = None
    ) -> Scenario:
        """``PUT /v1/scenarios/{id}``: change the name and/or the description."""
        __tracebackhide__ = True
        sid = check_id(scenario_id, "scenario id")
        body = _present(name=name, description=description)
        data = self._call("PUT", f"/scenarios/{quote(sid, safe='')}", body=body)
        return Scenario.from_json(self._object(data, f"scenario {sid}"))

    def delete_scenario(self, scenario_id: str) -> None:
        """``DELETE /v1/scenarios/{id}``: its simulations stay, with ``scenario_id`` null."""
        __tracebackhide__ = True
        sid = check_id(scenario_id, "scenario id")
        self._call("DELETE", f"/scenarios/{quote(sid, safe='')}")

    # -- keys -------------------------------------------------------------------------------------

    def create_key(
        self,
        name: str,
        *,
        rate_limit: int | None = None,
        expires_in_days: int | None = None,
    ) -> APIKey:
        """``POST /v1/keys``: a new key for your tenant, usable at once.

        Parameters
        ----------
        name
            What the key is for (``"Development Server"``).
        rate_limit
            Requests per hour allowed; the server's default when ``None``.
        expires_in_days
            Days until it expires; never when ``None``.

        Returns
        -------
        APIKey
            The new key; its ``api_key`` holds the secret, which the API shows only this
            once (masked in ``repr``: read the attribute to store it).

        Raises
        ------
        ValidationError
            The server refused a field (an empty name, a limit out of range).

        Notes
        -----
        Not idempotent: each call makes one more key.
        """
        __tracebackhide__ = True
        body: dict[str, Any] = {"name": name}
        body.update(_present(rate_limit=rate_limit, expires_in_days=expires_in_days))
        data = self._call("POST", "/keys", body=body)
        return APIKey.from_json(self._object(data, "create key"))

    def get_key(self, key_id: str) -> APIKey:
        """``GET /v1/keys/{key_id}``: one key's details and usage (never its secret).

        Raises
        ------
        InvalidIdError
            ``key_id`` is not a plain id (refused before any request).
        NotFound
            No such key for your tenant.
        """
        __tracebackhide__ = True
        kid = check_id(key_id, "key id")
        data = self._call("GET", f"/keys/{quote(kid, safe='')}")
        return APIKey.from_json(self._object(data, f"key {kid}"))

    def update_key(
        self, key_id: str, *, name: str | None = None, is_active: bool | None = None
    ) -> APIKey:
        """``PATCH /v1/keys/{key_id}``: rename a key, or disable / re-enable it.

        Disabling (``is_active=False``) is preferred over deleting: the usage history stays
        and the key can be enabled again. Fields left ``None`` are kept.

        Raises
        ------
        InvalidIdError
            ``key_id`` is not a plain id (refused before any request).
        NotFound
            No such key for your tenant.
        ValidationError
            The server refused a field (an empty name).
        """
        __tracebackhide__ = True
        kid = check_id(key_id, "key id")
        body = _present(name=name, is_active=is_active)
        data = self._call("PATCH", f"/keys/{quote(kid, safe='')}", body=body)
        return APIKey.from_json(self._object(data, f"key {kid}"))

    def delete_key(self, key_id: str) -> None:
        """``DELETE /v1/keys/{key_id}``: revoke a key permanently (see :meth:`update_key`).

        Raises
        ------
        InvalidIdError
            ``key_id`` is not a plain id (refused before any request).
        NotFound
            No such key for your tenant.
        """
        __tracebackhide__ = True
        kid = check_id(key_id, "key id")
        self._call("DELETE", f"/keys/{quote(kid, safe='')}")

    def list_keys(self) -> list[APIKey]:
        """``GET /v1/keys``: the tenant's keys (never their secrets). Also a cheap key check."""
        __tracebackhide__ = True
        data = self._object(self._call("GET", "/keys"), "key list")
        keys = data.get("keys")
        if not isinstance(keys, list):
            raise errors.ProtocolError("key list: required field 'keys' is missing")
        return [APIKey.from_json(self._object(k, "key")) for k in keys]

    # -- watching -------------------------------------------------------------------------------

    def watch(
        self,
        simulation: SimulationRef,
        *,
        schedule: Schedule | None = None,
        timeout: float | timedelta | None = None,
    ) -> Watch:
        """Watch a simulation on the shared background scheduler until it finishes.

        Returns a :class:`~twyn_widgets.polling.Watch`: a ``concurrent.futures.Future`` of the
        :class:`SimulationResult` that is also awaitable, with snapshots for subscribers.
        Watching the same simulation twice on one client shares one watch.

        Parameters
        ----------
        simulation
            Its id, a :class:`Simulation` or the API's dict.
        schedule
            When to poll; defaults to :class:`~twyn_widgets.polling.PhaseAware`.
        timeout
            Give up after this long, in API seconds (scaled by ``time_scale``, as the wait of
            ``result(timeout)`` is); defaults to the docs' 600 s.
        """
        __tracebackhide__ = True
        # Why a late import: the polling layer sits above the client; the client only offers
        # this door into it.
        from .polling._engine import get_engine

        return get_engine().watch(self, simulation, schedule=schedule, timeout=timeout)


def _present(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _list(values: Sequence[str] | None) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        return [values]
    return [str(v) for v in values]


def _dict(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if values is None else dict(values)
