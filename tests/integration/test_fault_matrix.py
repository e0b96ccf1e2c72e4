"""The fault matrix: each fault injected during each phase; the watch ends right, and says so.

A transient fault (network, 5xx, HTML, bad JSON, 429, odd statuses) must end with the right
result and show in the watch's report; a terminal one (401, 404) must end the watch with its
exception within one poll. In every case nothing is left polling, and a widget on the watch
shows what happened.

The matrix runs twice: with list items served whole, and as summaries (``id``, ``title``,
``status``, ``created_at``). Each test also watches a neighbour simulation on the same client,
so the engine refreshes both with ``GET /v1/simulations`` sweeps and faults on the list route
reach the watch too.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import twyn_widgets as tw
from tests.conftest import real
from tests.integration.probes import quiet_for, requests_total
from tests.proxy import Proxy
from twyn_widgets.client import TwynClient
from twyn_widgets.polling import WatchSnapshot, WatchState
from twyn_widgets.widgets import SimulationWatcher

SPEED = 120.0  # phases last 0.5-2 s: room to inject a fault inside each one
PHASES = ("Architect", "Simulator", "Analyst")


@pytest.fixture(scope="module", params=["full", "summary"])
def emu60(request: pytest.FixtureRequest) -> Iterator[Any]:
    from twyn_widgets import emulator

    with emulator.start(speed=SPEED, seed=3, list_items=request.param) as server:
        yield server


@pytest.fixture
def neighbour() -> Iterator[Callable[[TwynClient], tw.Watch]]:
    """Watch a second simulation on a client, so its polls go through list sweeps."""
    started: list[tw.Watch] = []

    def watch_one(client: TwynClient) -> tw.Watch:
        other = client.watch(client.create_simulation("matrix neighbour"), timeout=3600)
        started.append(other)
        return other

    yield watch_one
    for watch in started:
        watch.stop()


def when_phase(watch: tw.Watch, phase: str, action: Callable[[], None]) -> None:
    """Run ``action`` once, from the polling thread, when the watch first reports ``phase``."""
    fired = threading.Event()

    def on(snapshot: WatchSnapshot) -> None:
        if (
            not fired.is_set()
            and snapshot.phase is not None
            and snapshot.phase.label == phase
            and snapshot.status is not None
            and snapshot.status == snapshot.phase.processing_status
        ):
            fired.set()
            action()

    watch.subscribe(on)


def finish(widget: SimulationWatcher) -> str:
    """Let the widget send its end; return what it shows: the browser's words and the static
    outcome a notebook keeps."""
    deadline = time.monotonic() + 5
    while not widget.view_state.get("ended") and time.monotonic() < deadline:
        time.sleep(0.05)
    view = widget.view_state
    return f"{view['word']} {view['detail']} {widget._repr_mimebundle_()['text/html']}"


POLL_INTERVAL = 60 / SPEED
"""The longest wait of the default schedule (60 API seconds), in real seconds."""


def assert_nothing_polls(emu: Any, *others: tw.Watch) -> None:
    """Once the watch ended (and the neighbour stopped), the server sees no request for two
    of the longest poll intervals."""
    for other in others:
        other.stop()
    time.sleep(0.05)  # a request already on the wire may still land
    since = time.monotonic()
    window = 2 * POLL_INTERVAL
    assert quiet_for(emu, since, requests_total(emu), timeout=window) == window


TRANSIENT = {
    "status_500": "HTTP 500",
    "status_502": "HTTP 502",
    "status_503": "HTTP 503",
    "status_504": "HTTP 504",
    "html_error": "HTTP 502",
    "reset_mid_body": "the connection to {host} broke mid-answer",
    "drop": "{host} closed the connection",
    "malformed_json": "a malformed answer",
    "truncated_json": "a malformed answer",
    "slow": "no answer from {host} within 0.5 s",
}
"""What each fault's retry notice starts with (the notice goes on: ``, retry 1 in 1 s``)."""


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("kind", sorted(TRANSIENT))
def test_transient_fault_in_each_phase_recovers_and_is_reported(
    emu60: Any, neighbour: Any, kind: str, phase: str
) -> None:
    client = emu60.client(timeout=(1.0, 0.5))
    sim = client.create_simulation(f"matrix {kind} in {phase}")
    other = neighbour(client)
    widget = SimulationWatcher(sim, client=client)
    watch = widget.watch
    assert watch is not None
    seen: list[WatchSnapshot] = []
    watch.subscribe(seen.append)
    path = f"^/v1/simulations(/{sim.id}(/results)?)?$"
    when_phase(watch, phase, lambda: emu60.inject(kind, count=2, path=path, delay=1.5))
    try:
        result = widget.wait(real(30, 1 / SPEED))
    finally:
        emu60.clear_faults()
    assert result.id == sim.id
    notices = [s.notice or "" for s in seen if s.state is WatchState.RETRYING]
    said = re.escape(TRANSIENT[kind].format(host=emu60.base_url.split("/")[2]))
    assert any(re.fullmatch(rf"{said}, retry \d+ in \d+ s", n) for n in notices), notices
    assert "done" in finish(widget)
    assert_nothing_polls(emu60, other)


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("where", ["body", "header"])
def test_429_in_each_phase_waits_out_retry_after_then_succeeds(
    emu60: Any, neighbour: Any, phase: str, where: str
) -> None:
    client = emu60.client()
    sim = client.create_simulation(f"matrix 429 {where} in {phase}")
    other = neighbour(client)
    widget = SimulationWatcher(sim, client=client)
    watch = widget.watch
    assert watch is not None
    seen: list[WatchSnapshot] = []
    watch.subscribe(seen.append)
    kind = "rate_limited_body" if where == "body" else "rate_limited_header"
    hit: list[float] = []

    def inject() -> None:
        hit.append(time.monotonic())
        emu60.inject(kind, count=1, path=f"^/v1/simulations(/{sim.id})?$", delay=1)

    paused = threading.Event()
    at: list[float] = []

    def on(snapshot: WatchSnapshot) -> None:
        if snapshot.state is WatchState.RATE_LIMITED and not at:
            at.append(time.monotonic())
            paused.set()

    watch.subscribe(on)
    when_phase(watch, phase, inject)
    assert paused.wait(30), "the 429 was not reported"
    # Measured at the server: no request of the key (the neighbour's neither) for 1 s.
    assert quiet_for(emu60, at[0], requests_total(emu60), timeout=3) >= 0.95
    assert widget.wait(real(30, 1 / SPEED)).id == sim.id
    limited = [s for s in seen if s.state is WatchState.RATE_LIMITED]
    assert limited, "the 429 was not reported"
    assert "rate limited: waiting 1 s" in (limited[0].notice or "")
    assert "done" in finish(widget)
    assert_nothing_polls(emu60, other)


@pytest.mark.parametrize("phase", PHASES)
def test_server_down_then_back_in_each_phase_recovers(
    emu60: Any, neighbour: Any, phase: str
) -> None:
    proxy = Proxy(int(emu60.base_url.split(":")[2].split("/")[0]))
    client = TwynClient(emu60.api_key, f"http://127.0.0.1:{proxy.port}/v1", time_scale=1 / SPEED)
    sim = client.create_simulation(f"matrix outage in {phase}")
    other = neighbour(client)
    client._transport.close()  # the outage must also refuse new connections
    widget = SimulationWatcher(sim, client=client)
    watch = widget.watch
    assert watch is not None
    seen: list[WatchSnapshot] = []
    watch.subscribe(seen.append)

    def outage() -> None:
        proxy.down()
        threading.Timer(1.5, proxy.up).start()

    when_phase(watch, phase, outage)
    try:
        assert widget.wait(real(60, 1 / SPEED)).id == sim.id
        assert_nothing_polls(emu60, other)  # with the proxy up: a poll would get through
    finally:
        proxy.down()
    notices = [s.notice or "" for s in seen if s.state is WatchState.RETRYING]
    assert any(f"127.0.0.1:{proxy.port} refused the connection, retry" in n for n in notices), (
        notices
    )


@pytest.mark.parametrize("phase", PHASES)
def test_unknown_status_in_each_phase_is_shown_and_polled_on(
    emu60: Any, neighbour: Any, phase: str
) -> None:
    client = emu60.client()
    sim = client.create_simulation(f"matrix unknown status in {phase}")
    other = neighbour(client)
    widget = SimulationWatcher(sim, client=client)
    watch = widget.watch
    assert watch is not None
    seen: list[WatchSnapshot] = []
    watch.subscribe(seen.append)
    when_phase(watch, phase, lambda: emu60.force_status(sim.id, "QUEUED_FOR_GPU", duration=1.0))
    assert widget.wait(real(30, 1 / SPEED)).id == sim.id
    assert any("unknown status 'QUEUED_FOR_GPU'" in (s.notice or "") for s in seen)
    assert_nothing_polls(emu60, other)


@pytest.mark.parametrize("phase", ["Simulator", "Analyst"])
def test_status_going_backwards_in_each_phase_is_reported(
    emu60: Any, neighbour: Any, phase: str
) -> None:
    client = emu60.client()
    sim = client.create_simulation(f"matrix backwards in {phase}")
    other = neighbour(client)
    watch = client.watch(sim)
    seen: list[WatchSnapshot] = []
    watch.subscribe(seen.append)
    when_phase(watch, phase, lambda: emu60.force_status(sim.id, "PENDING", duration=1.0))
    assert watch.result(real(30, 1 / SPEED)).id == sim.id
    assert any("went back" in (s.notice or "") for s in seen)
    assert_nothing_polls(emu60, other)


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("fault", ["404", "401"])
def test_terminal_fault_in_each_phase_ends_the_watch_within_one_poll(
    emu60: Any, neighbour: Any, fault: str, phase: str
) -> None:
    _, key = emu60.new_tenant(f"matrix-{fault}-{phase}")
    client = TwynClient(key, emu60.base_url, time_scale=1 / SPEED)
    sim = client.create_simulation(f"matrix {fault} in {phase}")
    other = neighbour(client)
    key_id = client.list_keys()[0].key_id
    widget = SimulationWatcher(sim, client=client)
    watch = widget.watch
    assert watch is not None
    polls_at_fault: list[int] = []

    def strike() -> None:
        polls_at_fault.append(watch.snapshot.polls)
        if fault == "404":
            emu60.delete_simulation(sim.id)
        else:
            client._call("PATCH", f"/keys/{key_id}", body={"is_active": False})

    when_phase(watch, phase, strike)
    expected = tw.NotFound if fault == "404" else tw.AuthenticationError
    with pytest.raises(expected):
        widget.wait(real(30, 1 / SPEED))
    # the very next poll after the fault ended it (the batched list of one is a single GET)
    assert watch.snapshot.polls <= polls_at_fault[0] + 1
    text = finish(widget)
    assert f"HTTP {fault}" in text
    assert widget.view_state["accent"].startswith("var(--jp-error-color1")  # a red bar
    assert_nothing_polls(emu60, other)
