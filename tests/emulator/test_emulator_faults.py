"""Fault injection: every kind, and how rules match and expire."""

from __future__ import annotations

import json
import time

import pytest
import requests

from twyn_widgets.emulator import FAULT_KINDS, Emulator
from twyn_widgets.emulator._control._faults import FaultRegistry

from .conftest import Api, control

SIM_PATH = r"^/v1/simulations/[^/]+$"


def test_status_faults_answer_fastapi_style_json(api: Api, server: Emulator) -> None:
    for code in (500, 502, 503, 504):
        server.inject(f"status_{code}")
        response = api.get("/keys")
        assert response.status_code == code
        assert isinstance(response.json()["detail"], str)
        assert response.headers["X-RateLimit-Limit"]
        assert api.get("/keys").status_code == 200


def test_html_error_is_an_nginx_502_page(api: Api, server: Emulator) -> None:
    server.inject("html_error")
    response = api.get("/keys")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in response.text
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_slow_delays_then_answers_normally(api: Api, server: Emulator) -> None:
    server.inject("slow", delay=0.3)
    started = time.monotonic()
    response = api.get("/keys")
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert response.json()["total"] == 1


def test_slow_beyond_the_client_timeout_is_a_read_timeout(api: Api, server: Emulator) -> None:
    server.inject("slow", delay=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get("/keys", timeout=0.2)


def test_drop_closes_the_connection_without_an_answer(api: Api, server: Emulator) -> None:
    server.inject("drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{api.base}/keys", headers={"X-API-Key": api.api_key}, timeout=10)
    assert api.get("/keys").status_code == 200


def test_drop_on_a_kept_alive_connection(api: Api, server: Emulator) -> None:
    assert api.get("/keys").status_code == 200
    server.inject("drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("/keys")
    assert api.get("/keys").status_code == 200


def test_reset_mid_body_cuts_the_answer(api: Api, server: Emulator) -> None:
    server.inject("reset_mid_body")
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        api.get("/keys")
    assert api.get("/keys").status_code == 200


def test_reset_mid_body_delivers_status_and_headers_first(api: Api, server: Emulator) -> None:
    server.inject("reset_mid_body")
    response = api.get("/keys", stream=True)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        _ = response.content


def test_malformed_json_is_200_json_that_does_not_parse(api: Api, server: Emulator) -> None:
    server.inject("malformed_json")
    response = api.get("/keys")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_truncated_json_is_the_real_answer_cut_in_half(api: Api, server: Emulator) -> None:
    whole = api.get("/keys").content
    server.inject("truncated_json")
    response = api.get("/keys")
    assert response.status_code == 200
    assert whole.startswith(response.content)
    assert 0 < len(response.content) < len(whole)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_rate_limited_body_has_retry_after_in_the_body_only(api: Api, server: Emulator) -> None:
    server.inject("rate_limited_body", delay=3)
    response = api.get("/keys")
    assert response.status_code == 429
    assert response.json()["retry_after"] == 3
    assert response.json()["error"] == "RATE_LIMIT_EXCEEDED"
    assert "Retry-After" not in response.headers
    assert response.headers["X-RateLimit-Remaining"] == "0"
    server.inject("rate_limited_body")
    assert api.get("/keys").json()["retry_after"] == 2


def test_rate_limited_header_has_retry_after_in_the_header_only(api: Api, server: Emulator) -> None:
    server.inject("rate_limited_header", delay=4)
    response = api.get("/keys")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "4"
    assert "retry_after" not in response.json()
    server.inject("rate_limited_header")
    assert api.get("/keys").headers["Retry-After"] == "2"


def test_huge_body_is_about_50_mb_of_valid_json(api: Api, server: Emulator) -> None:
    server.inject("huge_body")
    response = api.get("/keys")
    assert response.status_code == 200
    assert 45_000_000 <= len(response.content) <= 60_000_000
    assert len(response.json()["items"]) > 1000


def test_endless_body_streams_until_the_client_leaves(api: Api, server: Emulator) -> None:
    server.inject("endless_body")
    response = api.get("/keys", stream=True)
    assert response.status_code == 200
    received = 0
    for chunk in response.iter_content(64 * 1024):
        received += len(chunk)
        if received > 2_000_000:
            break
    response.close()
    assert received > 2_000_000
    assert api.get("/keys").status_code == 200


def test_count_applies_to_the_next_n_matching_requests(api: Api, server: Emulator) -> None:
    server.inject("status_503", count=2)
    codes = [api.get("/keys").status_code for _ in range(3)]
    assert codes == [503, 503, 200]


def test_path_and_method_select_the_requests(api: Api, server: Emulator) -> None:
    sim = api.create()
    server.inject("status_500", path=SIM_PATH, method="get", count=5)
    assert api.get("/keys").status_code == 200
    assert api.get(f"/simulations/{sim['id']}/results").status_code == 409
    assert api.get("/simulations").status_code == 200
    assert api.get(f"/simulations/{sim['id']}").status_code == 500


def test_fraction_fires_on_some_requests_until_cleared(api: Api, server: Emulator) -> None:
    server.inject("status_502", fraction=0.5)
    codes = [api.get("/keys").status_code for _ in range(40)]
    assert 5 <= codes.count(502) <= 35
    assert set(codes) == {200, 502}
    server.clear_faults()
    assert all(api.get("/keys").status_code == 200 for _ in range(5))


def test_fraction_is_deterministic_for_a_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        registry = FaultRegistry(seed)
        registry.add("status_500", fraction=0.5)
        return [registry.take("GET", "/v1/keys") is not None for _ in range(50)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)


def test_control_paths_are_never_faulted(server: Emulator) -> None:
    server.inject("drop", fraction=1.0)
    assert server.health()["ok"] is True
    before = server.counters()["requests_total"]
    listed = control(server, "GET", "faults")  # a third control call, answered too
    assert listed.status_code == 200
    assert [rule["kind"] for rule in listed.json()["faults"]] == ["drop"]
    with pytest.raises(requests.ConnectionError):  # while the API itself is dropped
        requests.get(
            f"{server.base_url}/simulations", headers={"X-API-Key": server.api_key}, timeout=5
        )
    assert server.counters()["requests_total"] == before + 1  # the dropped one, seen
    server.clear_faults()


def test_faults_can_be_listed(server: Emulator) -> None:
    fault_id = server.inject("slow", delay=0.1, path="^/nothing$")
    listed = control(server, "GET", "faults").json()["faults"]
    assert [rule["id"] for rule in listed] == [fault_id]
    assert listed[0]["kind"] == "slow"
    assert listed[0]["remaining"] == 1


def test_bad_fault_requests_are_422(server: Emulator) -> None:
    assert control(server, "POST", "faults", json={"kind": "meteor"}).status_code == 422
    bad_regex = control(server, "POST", "faults", json={"kind": "drop", "path": "(["})
    assert bad_regex.status_code == 422
    assert control(server, "POST", "faults", json={"kind": "drop", "count": 0}).status_code == 422


def test_every_documented_kind_is_accepted(server: Emulator) -> None:
    assert len(FAULT_KINDS) == 14
    for kind in FAULT_KINDS:
        server.inject(kind, path="^/never$")
    server.clear_faults()
