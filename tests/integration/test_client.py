"""The client against the real emulator over loopback HTTP: every endpoint, every error class."""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

import pytest

import twyn_widgets as tw
from tests.conftest import real
from twyn_widgets import Status
from twyn_widgets.client import TwynClient

VALID_CONFIG = {
    "step_unit": "week",
    "number_of_steps": 12,
    "agent_groups": [
        {
            "id": "customers",
            "name": "Customers",
            "description": "SaaS customers",
            "number_of_agents": 1000,
            "variables": {
                "satisfaction": {"type": "normal", "mean": 0.75, "std": 0.15},
                "price_sensitivity": {"type": "uniform", "min": 0.3, "max": 0.9},
            },
            "actions": {"churn": {"type": "binary", "description": "Cancel subscription"}},
        }
    ],
}


def wait_status(client: TwynClient, sid: str, *statuses: str, limit: float = 10.0) -> tw.Simulation:
    """Poll quickly (the emulator is 600x) until one of ``statuses``."""
    deadline = time.monotonic() + limit
    while True:
        sim = client.get_simulation(sid)
        if sim.status in statuses:
            return sim
        assert time.monotonic() < deadline, f"still {sim.status}"
        time.sleep(0.02)


def test_create_get_and_results_walk_the_documented_lifecycle(client: TwynClient) -> None:
    sim = client.create_simulation("How does a 10% price rise affect churn?", tags=["pricing"])
    assert sim.status is Status.PENDING
    assert sim.title
    assert sim.lifecycle[0].status is Status.PENDING
    with pytest.raises(tw.Conflict) as running:
        client.get_results(sim)
    assert running.value.error_code == "SIMULATION_NOT_COMPLETE"
    assert running.value.status is not None
    done = wait_status(client, sim.id, "COMPLETED_ANALYSIS")
    names = [e.status for e in done.lifecycle]
    assert names == [
        "PENDING", "PROCESSING_CONFIG", "COMPLETED_CONFIG", "PROCESSING_SIMULATION",
        "COMPLETED_SIMULATION", "PROCESSING_ANALYSIS", "COMPLETED_ANALYSIS",
    ]  # fmt: skip
    assert set(done.phase_durations()) == set(tw.Phase)
    result = client.get_results(done)
    assert result.id == sim.id
    assert result.analysis.executive_summary
    assert result.metrics.by_group
    assert result.simulation is done


def test_failed_simulation_reports_error_log_phase_and_results_conflict(
    client: TwynClient,
) -> None:
    sim = client.create_simulation("A doomed run [fail:simulator]")
    failed = wait_status(client, sim.id, "FAILED")
    assert failed.error_log
    assert failed.failed_phase is tw.Phase.SIMULATOR
    with pytest.raises(tw.Conflict) as exc:
        client.get_results(sim)
    assert exc.value.status == "FAILED"


def test_with_config_skips_the_architect_and_config_round_trips(client: TwynClient) -> None:
    sim = client.create_simulation_with_config("Reference prompt", VALID_CONFIG, title="Mine")
    assert sim.title == "Mine"
    done = wait_status(client, sim.id, "COMPLETED_ANALYSIS")
    assert Status.PROCESSING_CONFIG not in [e.status for e in done.lifecycle]
    assert client.get_config(sim)["agent_groups"][0]["id"] == "customers"


def test_update_config_resets_to_completed_config_and_is_refused_before_and_after(
    client: TwynClient,
) -> None:
    sim = client.create_simulation("Config edit test")
    with pytest.raises(tw.Conflict) as early:
        client.update_config(sim, VALID_CONFIG)
    assert early.value.error_code == "SIMULATION_NOT_COMPLETE"
    # Editable from COMPLETED_CONFIG until the end (0.3-0.6 s at 600x).
    wait_status(client, sim.id, "COMPLETED_CONFIG", "PROCESSING_SIMULATION")
    client.update_config(sim, VALID_CONFIG)
    again = client.get_simulation(sim)
    assert again.status.order <= Status.PROCESSING_SIMULATION.order
    wait_status(client, sim.id, "COMPLETED_ANALYSIS")
    assert client.get_config(sim)["number_of_steps"] == 12
    with pytest.raises(tw.Conflict) as late:
        client.update_config(sim, VALID_CONFIG)
    assert late.value.status == "COMPLETED_ANALYSIS"


def test_rerun_architect_starts_the_pipeline_again(client: TwynClient) -> None:
    sim = client.create_simulation("Architect rerun test")
    client.rerun_architect(sim, "A new prompt", max_turns=30, model="gpt-4o")
    assert client.get_simulation(sim).status is Status.PROCESSING_CONFIG
    wait_status(client, sim.id, "COMPLETED_ANALYSIS")
    with pytest.raises(tw.Conflict):
        client.rerun_architect(sim, "Too late")


def test_list_filters_and_iterates_every_page(client: TwynClient) -> None:
    tag = f"t{time.monotonic_ns()}"
    ids = {client.create_simulation(f"list test {i}", tags=[tag]).id for i in range(5)}
    page = client.list_simulations(tag=tag, limit=2)
    assert page.total == 5
    assert len(page.items) == 2
    assert {s.id for s in client.iter_simulations(tag=tag, page_size=2)} == ids
    assert list(client.iter_simulations(tag=tag, status="FAILED")) == []
    with pytest.raises(ValueError, match="1-100"):
        client.list_simulations(limit=101)


def test_scenarios_crud_and_delete_keeps_simulations(client: TwynClient) -> None:
    scenario = client.create_scenario("Q4 2025 Pricing Strategy", "Testing pricing")
    sim = client.create_simulation("In a scenario", scenario_id=scenario.id)
    assert client.get_simulation(sim).scenario_id == scenario.id
    assert client.update_scenario(scenario.id, name="Renamed").name == "Renamed"
    assert scenario.id in {s.id for s in client.list_scenarios(limit=100)}
    client.delete_scenario(scenario.id)
    with pytest.raises(tw.NotFound):
        client.get_scenario(scenario.id)
    with pytest.raises(tw.NotFound):
        client.delete_scenario(scenario.id)
    assert client.get_simulation(sim).scenario_id is None


def test_list_keys_checks_the_key_and_never_returns_secrets(client: TwynClient, emu: Any) -> None:
    keys = client.list_keys()
    assert keys
    assert all(emu.api_key not in repr(k) for k in keys)


def test_401_is_authentication_error_with_the_server_message(emu: Any) -> None:
    bad = TwynClient("twyn_test_" + "0" * 64, emu.base_url)
    with pytest.raises(tw.AuthenticationError, match="Invalid or missing API key") as exc:
        bad.list_keys()
    assert exc.value.status_code == 401


def test_403_for_another_tenants_simulation(client: TwynClient, emu: Any) -> None:
    _, other_key = emu.new_tenant("other")
    other = TwynClient(other_key, emu.base_url)
    sim = other.create_simulation("not yours")
    with pytest.raises(tw.PermissionDenied, match="different tenant"):
        client.get_simulation(sim.id)


def test_404_for_an_unknown_simulation(client: TwynClient) -> None:
    with pytest.raises(tw.NotFound, match="not found") as exc:
        client.get_simulation("550e8400-e29b-41d4-a716-000000000000")
    assert exc.value.status_code == 404


def test_422_lists_field_locations(client: TwynClient) -> None:
    with pytest.raises(tw.ValidationError) as exc:
        client.create_simulation_with_config("bad", {"step_unit": "week"})
    assert exc.value.errors
    assert any("config" in where for where, _ in exc.value.errors)


def test_429_reads_retry_after_from_the_body(emu: Any) -> None:
    _, key = emu.new_tenant("limited")
    limited = TwynClient(key, emu.base_url)
    emu.set_rate_limit(key, 2, window=60)
    limited.list_keys()
    limited.list_keys()
    assert limited.rate_limit is not None
    assert limited.rate_limit.remaining == 0
    with pytest.raises(tw.RateLimited, match="Rate limit exceeded") as exc:
        limited.list_keys()
    assert exc.value.retry_after is not None
    assert 0 < exc.value.retry_after <= 60
    assert exc.value.error_code == "RATE_LIMIT_EXCEEDED"


def test_429_with_only_a_retry_after_header(client: TwynClient, emu: Any) -> None:
    emu.inject("rate_limited_header", count=1, delay=7)
    with pytest.raises(tw.RateLimited) as exc:
        client.list_keys()
    assert exc.value.retry_after == 7


def test_rate_limit_headers_are_read_on_every_answer(client: TwynClient) -> None:
    client.list_keys()
    seen = client.rate_limit
    assert seen is not None
    assert seen.limit is not None
    assert seen.remaining is not None
    assert seen.reset is not None
    assert seen.reset > time.time() - 1


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("status_500", tw.ServerError),
        ("status_502", tw.ServerError),
        ("status_503", tw.ServerError),
        ("status_504", tw.ServerError),
        ("html_error", tw.ServerError),
        ("drop", tw.TransportError),
        ("reset_mid_body", tw.TransportError),
        ("malformed_json", tw.ProtocolError),
        ("truncated_json", tw.ProtocolError),
        ("huge_body", tw.ResponseTooLarge),
    ],
)
def test_each_fault_maps_to_its_exception(
    client: TwynClient, emu: Any, kind: str, error: type[Exception]
) -> None:
    emu.inject(kind, count=1)
    with pytest.raises(error):
        client.list_keys()
    client.list_keys()  # the next call is fine


def test_html_error_page_says_so_instead_of_dumping_html(client: TwynClient, emu: Any) -> None:
    emu.inject("html_error", count=1)
    with pytest.raises(tw.ServerError) as exc:
        client.list_keys()
    assert "<html" not in str(exc.value).lower()
    assert "HTML error page" in str(exc.value)


def test_slow_server_gives_request_timeout(emu: Any) -> None:
    fast = emu.client(timeout=(1.0, 0.3))
    emu.inject("slow", count=1, delay=2)
    with pytest.raises(tw.RequestTimeout):
        fast.list_keys()


def test_endless_body_is_cut_off(emu: Any) -> None:
    small = emu.client(max_bytes=1_000_000, timeout=(1.0, 2.0))
    emu.inject("endless_body", count=1)
    with pytest.raises((tw.ResponseTooLarge, tw.RequestTimeout)):
        small.list_keys()


def test_connections_are_reused_across_calls(client: TwynClient, emu: Any) -> None:
    client.list_keys()
    before = emu.counters()["connections_total"]
    for _ in range(20):
        client.list_keys()
    assert emu.counters()["connections_total"] == before


@pytest.mark.parametrize(
    "bad_id",
    ["../keys", "a/b", "?x=1", "a#b", "%2e%2e", "a\nb", "é", "x" * 10_000, "", " id"],
)
def test_hostile_ids_are_refused_before_any_request(
    client: TwynClient, emu: Any, bad_id: str
) -> None:
    before = emu.counters()["requests_total"]
    with pytest.raises(tw.InvalidIdError):
        client.get_simulation(bad_id)
    assert emu.counters()["requests_total"] == before


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(tw.ConfigurationError, match="unencrypted"):
        TwynClient("twyn_test_" + "a" * 64, "http://api.example.com/v1")
    TwynClient("twyn_test_" + "a" * 64, "http://example.com/v1", allow_insecure=True)
    TwynClient("twyn_test_" + "a" * 64, "http://[::1]:8000/v1")


def _error_paths(emu: Any, c: TwynClient) -> list[BaseException]:
    """Provoke every error the client can raise; return the exceptions."""
    found: list[BaseException] = []

    def attempt(call: Any) -> None:
        try:
            call()
        except tw.TwynError as exc:
            found.append(exc)

    kinds = ("status_500", "status_502", "status_503", "status_504", "html_error", "drop",
             "reset_mid_body", "malformed_json", "truncated_json", "huge_body",
             "rate_limited_body", "rate_limited_header")  # fmt: skip
    for kind in kinds:
        emu.inject(kind, count=1)
        attempt(c.list_keys)
    emu.inject("slow", count=1, delay=2)
    attempt(lambda: emu.client(timeout=(1.0, 0.3)).list_keys())
    attempt(lambda: TwynClient("twyn_test_" + "0" * 64, emu.base_url).list_keys())  # 401
    _, other_key = emu.new_tenant("key-walk")
    foreign = TwynClient(other_key, emu.base_url).create_simulation("not yours")
    attempt(lambda: c.get_simulation(foreign.id))  # 403
    attempt(lambda: c.get_simulation("550e8400-e29b-41d4-a716-000000000000"))  # 404
    running = c.create_simulation("key walk")
    attempt(lambda: c.get_results(running))  # 409
    attempt(lambda: c.create_simulation_with_config("x", {}))  # 422
    attempt(lambda: c.get_simulation("../keys"))  # refused id
    attempt(lambda: c.watch(running, timeout=1).result(real(5)))  # WaitTimeout
    failing = c.create_simulation("key walk [fail:architect]")
    attempt(lambda: c.watch(failing).result(real(10)))  # SimulationFailed
    attempt(lambda: TwynClient(emu.api_key, "http://example.com/v1"))  # insecure URL
    attempt(lambda: TwynClient(emu.api_key[:12] + "\x07" + emu.api_key[12:], emu.base_url))
    return found


def test_the_key_never_shows_in_reprs_errors_tracebacks_or_debug_logs(
    emu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    key = emu.api_key
    c = emu.client()
    assert key not in repr(c)
    assert key[-4:] in repr(c)
    caplog.set_level(logging.DEBUG)
    found = _error_paths(emu, c)
    kinds = {type(e).__name__ for e in found}
    assert {"ServerError", "ConnectionDropped", "ProtocolError", "ResponseTooLarge",
            "RateLimited", "RequestTimeout", "AuthenticationError", "PermissionDenied",
            "NotFound", "Conflict", "ValidationError", "InvalidIdError", "WaitTimeout",
            "SimulationFailed", "ConfigurationError"} <= kinds  # fmt: skip
    for exc in found:
        text = "".join(traceback.format_exception(exc)) + repr(exc) + str(exc.__dict__)
        assert key not in text, type(exc).__name__
    assert key not in caplog.text


def test_no_key_is_a_clear_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWYN_API_KEY", raising=False)
    with pytest.raises(tw.ConfigurationError, match="TWYN_API_KEY"):
        TwynClient()


def test_environment_supplies_key_base_url_and_time_scale(
    emu: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWYN_API_KEY", emu.api_key)
    monkeypatch.setenv("TWYN_BASE_URL", emu.base_url)
    monkeypatch.setenv("TWYN_TIME_SCALE", "0.5")
    c = TwynClient()
    assert c.base_url == emu.base_url
    assert c.time_scale == 0.5
    assert c.list_keys()
