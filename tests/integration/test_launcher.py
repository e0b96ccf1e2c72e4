"""``SimulationLauncher`` in plain Python (``button.click()``, no frontend), on the emulator."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import ipywidgets as W
import pytest

import twyn_widgets as tw
from tests.conftest import real
from twyn_widgets import TwynClient
from twyn_widgets._connect import set_default_client
from twyn_widgets.widgets.launcher import REPEAT_GUARD, SimulationLauncher

HOSTILE = "<img src=x onerror=alert(1)>"


class Clock:
    """A clock the test moves by hand, so the double-click guard is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def tenant_key(emu: Any) -> str:
    """The key of a tenant of its own."""
    _, key = emu.new_tenant("launcher")
    return str(key)


@pytest.fixture
def tenant(emu: Any, tenant_key: str) -> Iterator[TwynClient]:
    """A client of a tenant of its own: its simulation list holds only this test's runs."""
    client = TwynClient(tenant_key, emu.base_url, time_scale=1 / emu.speed)
    try:
        yield client
    finally:
        client.close()


def launcher_for(client: TwynClient) -> tuple[SimulationLauncher, Clock]:
    launcher = SimulationLauncher(client)
    clock = Clock()
    launcher._clock = clock
    return launcher, clock


def served_ids(client: TwynClient) -> list[str]:
    return [s.id for s in client.list_simulations(limit=100).items]


def fill(launcher: SimulationLauncher, **values: Any) -> dict[str, Any]:
    for name, value in values.items():
        getattr(launcher, name).value = value
    return values


def form_values(launcher: SimulationLauncher, names: Any) -> dict[str, Any]:
    return {name: getattr(launcher, name).value for name in names}


def test_run_creates_the_simulation_and_shows_its_watcher_below(tenant: TwynClient) -> None:
    launcher, _ = launcher_for(tenant)
    fill(launcher, prompt="launch: plain", title="Plain", tags=" a, b ,, c", scenario="")
    launcher.run_button.click()
    assert len(launcher.simulations) == 1
    sim = launcher.simulations[0]
    assert served_ids(tenant) == [sim.id]
    served = tenant.get_simulation(sim.id)
    assert (served.prompt, served.title, served.tags) == ("launch: plain", "Plain", ("a", "b", "c"))
    watcher = launcher.watchers[0]
    assert isinstance(watcher, tw.SimulationWatcher)
    assert watcher.simulation_id == sim.id
    form, runs = launcher.widget.children
    assert watcher.widget in runs.children  # shown below the form
    assert form not in runs.children
    assert watcher.wait(real(30)).id == sim.id
    assert launcher.run_button.disabled is False
    assert launcher.message.value == ""
    assert repr(launcher) == "SimulationLauncher(1 simulations created)"


def test_with_config_creates_from_the_json_config_in_a_scenario(
    tenant: TwynClient, emu: Any
) -> None:
    from tests.docs_examples import CONFIG

    scenario = tenant.create_scenario("launched here")
    launcher, _ = launcher_for(tenant)
    assert launcher.config.layout.display == "none"
    launcher.with_config.value = True
    assert launcher.config.layout.display == ""
    fill(launcher, prompt="launch: config", config=json.dumps(CONFIG), scenario=scenario.id)
    launcher.run_button.click()
    (sim,) = launcher.simulations
    assert tenant.get_simulation(sim.id).scenario_id == scenario.id
    assert tenant.get_config(sim.id)["agent_groups"][0]["id"] == "customers"
    assert emu.counters()["requests"].get("POST /v1/simulations/with-config", 0) >= 1


def test_a_double_click_creates_one_simulation(tenant: TwynClient) -> None:
    launcher, clock = launcher_for(tenant)
    fill(launcher, prompt="launch: double click")
    launcher.run_button.click()
    clock.now += REPEAT_GUARD / 2  # the second click of a double click, queued behind the first
    launcher.run_button.click()
    assert len(launcher.simulations) == 1
    assert len(served_ids(tenant)) == 1
    clock.now += REPEAT_GUARD  # a deliberate second run later is honoured
    launcher.run_button.click()
    assert len(launcher.simulations) == 2
    assert len(served_ids(tenant)) == 2


def test_two_threads_clicking_at_once_create_one_simulation(tenant: TwynClient) -> None:
    launcher, _ = launcher_for(tenant)
    fill(launcher, prompt="launch: two threads")
    # Hold the creation open until both clicks are in, so they truly overlap.
    inside = threading.Event()
    release = threading.Event()
    create = tenant.create_simulation

    def slow_create(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        assert release.wait(10)
        return create(*args, **kwargs)

    tenant.create_simulation = slow_create  # type: ignore[method-assign]
    first = threading.Thread(target=launcher.run_button.click)
    first.start()
    assert inside.wait(10)
    assert launcher.run_button.disabled is True  # the button says so while creating
    second = threading.Thread(target=launcher.run_button.click)
    second.start()
    second.join(10)
    release.set()
    first.join(10)
    assert len(launcher.simulations) == 1
    assert len(served_ids(tenant)) == 1
    assert launcher.run_button.disabled is False


KEPT = ("prompt", "title", "tags", "scenario", "with_config", "config")


def test_bad_config_json_shows_in_the_form_and_keeps_every_field(tenant: TwynClient) -> None:
    launcher, _ = launcher_for(tenant)
    typed = fill(
        launcher,
        prompt="launch: bad json",
        title=HOSTILE,
        tags="x, y",
        scenario="",
        with_config=True,
        config='{"step_unit": "week",',
    )
    launcher.run_button.click()
    assert launcher.simulations == []
    assert served_ids(tenant) == []
    assert "not valid JSON" in launcher.message.value
    assert "line 1, column" in launcher.message.value
    assert form_values(launcher, KEPT) == typed
    assert launcher.run_button.disabled is False


def test_a_422_shows_its_fields_escaped_and_keeps_every_field(tenant: TwynClient) -> None:
    # The server echoes a variable's name in the error's location: markup must stay text.
    group = {"id": "g", "name": "g", "number_of_agents": 10, "actions": {}}
    group["variables"] = {HOSTILE: {"type": "bogus"}}
    config = {"step_unit": "week", "number_of_steps": 3, "agent_groups": [group]}
    launcher, _ = launcher_for(tenant)
    typed = fill(
        launcher,
        prompt="launch: 422",
        title="T",
        tags=HOSTILE,
        scenario="",
        with_config=True,
        config=json.dumps(config),
    )
    launcher.run_button.click()
    message = launcher.message.value
    assert launcher.simulations == []
    assert served_ids(tenant) == []
    assert "HTTP 422" in message
    assert "body.config.agent_groups.0.variables.&lt;img src=x onerror=alert(1)&gt;" in message
    assert "<img" not in message
    assert form_values(launcher, KEPT) == typed


def test_other_errors_show_in_the_form(tenant: TwynClient) -> None:
    launcher, _ = launcher_for(tenant)
    typed = fill(launcher, prompt="launch: 404 scenario", scenario="no-such-scenario")
    launcher.run_button.click()
    assert "Could not create the simulation: NotFound" in launcher.message.value
    assert form_values(launcher, ("prompt", "scenario")) == typed
    launcher.scenario.value = "../escape"
    launcher.run_button.click()
    assert "InvalidIdError" in launcher.message.value
    launcher.scenario.value = ""
    launcher.prompt.value = "   "
    launcher.run_button.click()
    assert "Write a prompt first" in launcher.message.value
    assert launcher.simulations == []
    launcher.prompt.value = "launch: fixed"
    launcher.run_button.click()
    assert len(launcher.simulations) == 1
    assert launcher.message.value == ""  # the old error goes once a run succeeds


def every_widget(root: Any) -> list[Any]:
    found = [root]
    for child in getattr(root, "children", ()):
        found.extend(every_widget(child))
    return found


def test_the_key_is_in_no_widget_state(tenant: TwynClient, tenant_key: str) -> None:
    secret = tenant_key  # the key the client was made with
    assert secret.startswith("twyn_")
    launcher, _ = launcher_for(tenant)
    fill(launcher, prompt="launch: state")
    launcher.run_button.click()
    launcher.watchers[0].wait(real(30))
    widgets = every_widget(launcher.widget)
    assert len(widgets) > 10
    assert all(isinstance(w, W.Widget) for w in widgets)
    state = json.dumps([w.get_state() for w in widgets], default=str)
    assert launcher.simulations[0].id in state  # the state is really there to be searched
    assert secret not in state
    assert secret[-8:] not in state


def test_the_default_client_is_used_and_nothing_is_started(tenant: TwynClient) -> None:
    set_default_client(tenant)
    try:
        assert SimulationLauncher()._client is tenant
    finally:
        set_default_client(None)
    with pytest.raises(tw.ConfigurationError, match="no client"):
        SimulationLauncher()


def test_the_launcher_is_exported_lazily() -> None:
    assert tw.SimulationLauncher is SimulationLauncher
