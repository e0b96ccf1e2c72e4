"""The /_emulator control API and the server's guards: token, JSON only, Host, loopback."""

from __future__ import annotations

import re
import socket

import pytest
import requests

from twyn_widgets.emulator import Emulator, EmulatorError, start
from twyn_widgets.emulator._guard._hosts import HostPolicy, is_loopback

from .conftest import SPEED, Api, control


def test_health(server: Emulator) -> None:
    response = control(server, "GET", "health")
    assert response.json() == {"ok": True, "speed": SPEED}


def test_new_tenant_is_201_with_an_isolated_key(server: Emulator) -> None:
    response = control(server, "POST", "tenants", json={"name": "Other Co"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"tenant_id", "api_key"}
    assert re.fullmatch(r"twyn_test_[0-9a-f]{64}", body["api_key"])
    other = Api(server, body["api_key"])
    keys = other.get("/keys").json()
    assert keys["total"] == 1
    assert keys["keys"][0]["tenant_id"] == body["tenant_id"]
    assert other.get("/simulations").json()["total"] == 0
    other.close()


def test_new_tenant_needs_no_fields(server: Emulator) -> None:
    response = control(server, "POST", "tenants", json={})
    assert response.status_code == 201
    tenant_id, key = server.new_tenant()
    assert tenant_id != response.json()["tenant_id"]
    assert key.startswith("twyn_test_")


def test_control_api_needs_no_api_key_and_sets_no_rate_headers(server: Emulator) -> None:
    response = control(server, "GET", "counters")
    assert response.status_code == 200
    assert set(response.json()) == {
        "requests_total",
        "requests",
        "connections_total",
        "connections_open",
    }
    assert "X-RateLimit-Limit" not in response.headers


def test_fail_answers_with_when_and_the_simulation(api: Api, server: Emulator) -> None:
    sim = api.create()
    response = control(
        server,
        "POST",
        f"simulations/{sim['id']}/fail",
        json={"error_log": "boom", "phase": None},
    )
    assert response.status_code == 200
    assert response.json()["failure"] == "now"
    assert response.json()["simulation"]["status"] == "FAILED"
    assert api.sim(sim["id"])["error_log"] == "boom"


# The control token ---------------------------------------------------------------------------


def test_control_calls_without_the_token_are_refused(server: Emulator, api: Api) -> None:
    sim = api.create()
    url = f"{server.root_url}/_emulator/simulations/{sim['id']}/fail"
    for headers in ({}, {"X-Emulator-Token": "guess"}, {"X-Emulator-Token": ""}):
        refused = requests.post(url, json={}, headers=headers, timeout=10)
        assert refused.status_code == 403
        assert "control token" in refused.json()["detail"]
    assert requests.get(f"{server.root_url}/_emulator/health", timeout=10).status_code == 403
    assert api.sim(sim["id"])["status"] != "FAILED"


def test_each_instance_has_its_own_token(server: Emulator) -> None:
    with start(speed=SPEED) as other:
        assert other.control_token != server.control_token
        assert len(other.control_token) >= 40
        theirs = {"X-Emulator-Token": other.control_token}
        response = requests.get(f"{server.root_url}/_emulator/health", headers=theirs, timeout=10)
        assert response.status_code == 403
        assert other.health()["ok"] is True


def test_the_token_is_not_in_the_handles_repr(server: Emulator) -> None:
    assert server.control_token not in repr(server)
    assert server.control_token not in repr(server._context)


def test_cross_site_simple_post_is_refused(server: Emulator, api: Api) -> None:
    """What a web page can send without a preflight: text/plain, its own Origin, no token."""
    sim = api.create()
    response = requests.post(
        f"{server.root_url}/_emulator/simulations/{sim['id']}/fail",
        data='{"error_log": "pwned"}',
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
        timeout=10,
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in {name.lower() for name in response.headers}
    assert api.sim(sim["id"])["status"] != "FAILED"


def test_a_foreign_origin_is_refused_even_with_the_token(server: Emulator) -> None:
    response = control(server, "GET", "health", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    same = control(server, "GET", "health", headers={"Origin": server.root_url})
    assert same.status_code == 200


def test_the_cors_preflight_is_refused(server: Emulator) -> None:
    response = requests.options(
        f"{server.root_url}/_emulator/faults",
        headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-emulator-token",
        },
        timeout=10,
    )
    assert response.status_code == 403
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


def test_control_bodies_must_be_json(server: Emulator) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"X-Emulator-Token": server.control_token}
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = requests.post(
            f"{server.root_url}/_emulator/faults",
            data='{"kind": "drop", "path": "^/never$"}',
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 415, content_type
    assert control(server, "GET", "faults").json()["faults"] == []


# Host header and loopback ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", "localhost.evil"]
)
def test_a_foreign_host_header_is_refused_on_every_route(server: Emulator, host: str) -> None:
    for path in ("/v1/keys", "/docs", "/openapi.json", "/_emulator/health"):
        response = requests.get(
            f"{server.root_url}{path}",
            headers={
                "Host": host,
                "X-API-Key": server.api_key,
                "X-Emulator-Token": server.control_token,
            },
            timeout=10,
        )
        assert response.status_code == 403, path
        assert "Host header" in response.json()["detail"]


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:1234", "127.0.0.1", "[::1]:80"])
def test_local_host_headers_are_answered(server: Emulator, host: str) -> None:
    response = requests.get(
        f"{server.base_url}/keys",
        headers={"Host": host, "X-API-Key": server.api_key},
        timeout=10,
    )
    assert response.status_code == 200


def test_allowed_hosts_opt_in() -> None:
    with start(speed=SPEED, allowed_hosts=["twyn.test"]) as emulator:
        headers = {"X-API-Key": emulator.api_key}
        ok = requests.get(
            f"{emulator.base_url}/keys", headers={**headers, "Host": "twyn.test:8000"}, timeout=10
        )
        assert ok.status_code == 200
        refused = requests.get(
            f"{emulator.base_url}/keys", headers={**headers, "Host": "other.test"}, timeout=10
        )
        assert refused.status_code == 403


def test_host_policy_of_a_wildcard_bind_accepts_ip_literals_only() -> None:
    policy = HostPolicy.for_bind("0.0.0.0")
    assert policy.allows("192.0.2.7:8000")
    assert policy.allows("[2001:db8::1]:8000")
    assert not policy.allows("evil.example")
    assert not policy.allows(None)
    assert HostPolicy.for_bind("127.0.0.1", ["*"]).allows("anything.example")
    assert not HostPolicy.for_bind("127.0.0.1").allows("192.0.2.7")


def test_ipv4_mapped_ipv6_loopback_counts_as_loopback() -> None:
    assert is_loopback("::ffff:127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("127.0.0.2")
    assert not is_loopback("::ffff:10.1.2.3")
    assert not is_loopback("10.1.2.3")


def _ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_dual_stack_server_answers_control_calls_from_127_0_0_1() -> None:
    """On ``::`` an IPv4 loopback client shows up as ``::ffff:127.0.0.1``."""
    if not _ipv6_available():
        pytest.fail("this machine has no IPv6 loopback; the dual-stack case cannot be shown")
    with start(speed=SPEED, host="::", allow_remote=True) as emulator:
        url = f"http://127.0.0.1:{emulator.port}/_emulator/health"
        response = requests.get(
            url, headers={"X-Emulator-Token": emulator.control_token}, timeout=10
        )
        assert response.status_code == 200
        assert response.json()["ok"] is True


def test_listening_off_loopback_needs_allow_remote() -> None:
    with pytest.raises(EmulatorError, match="allow_remote"):
        start(host="0.0.0.0")


def test_a_remote_server_draws_a_random_key_even_with_a_seed() -> None:
    with start(seed=42) as local, start(seed=42, host="0.0.0.0", allow_remote=True) as remote:
        assert remote.api_key != local.api_key
        assert re.fullmatch(r"twyn_test_[0-9a-f]{64}", remote.api_key)


# Keys -----------------------------------------------------------------------------------------


def test_a_disabled_key_can_be_re_enabled_through_the_control_api(server: Emulator) -> None:
    _, key = server.new_tenant()
    api = Api(server, key)
    key_id = api.get("/keys").json()["keys"][0]["key_id"]
    assert api.patch(f"/keys/{key_id}", json={"is_active": False}).status_code == 200
    assert api.get("/keys").status_code == 401
    server.enable_key(key)
    keys = api.get("/keys")
    assert keys.status_code == 200
    assert keys.json()["keys"][0]["is_active"] is True
    missing = control(server, "POST", "keys/enable", json={"api_key": "twyn_test_nope"})
    assert missing.status_code == 404
    api.close()
