"""Rate limiting: per-key fixed windows, headers on every answer, 429 body."""

from __future__ import annotations

import math
import time

import requests

from twyn_widgets.emulator import Emulator

from .conftest import SPEED, Api, FakeClock, control

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def test_every_answer_carries_the_rate_limit_headers(api: Api) -> None:
    answers = [
        api.get("/keys"),  # 200
        api.post("/simulations", json={"prompt": "x"}),  # 201
        api.get("/simulations/unknown"),  # 404
        api.post("/simulations", json={}),  # 422
        api.get("/simulations/" + api.create()["id"] + "/results"),  # 409
        api.get("/no/such/route"),  # 404 from the router
    ]
    for answer in answers:
        for name in HEADERS:
            assert answer.headers[name].isdigit(), (answer.status_code, name)
    assert answers[0].headers["X-RateLimit-Limit"] == "1000"


def test_remaining_counts_down_and_reset_is_an_integer_epoch(api: Api) -> None:
    first = api.get("/keys").headers
    second = api.get("/keys").headers
    assert int(second["X-RateLimit-Remaining"]) == int(first["X-RateLimit-Remaining"]) - 1
    assert first["X-RateLimit-Reset"] == second["X-RateLimit-Reset"]
    assert int(first["X-RateLimit-Reset"]) > 1_700_000_000


def test_over_the_limit_is_429_with_the_wait_in_the_body_only(api: Api, server: Emulator) -> None:
    server.set_rate_limit(api.api_key, 3)
    for _ in range(3):
        assert api.get("/keys").status_code == 200
    refused = api.get("/keys")
    assert refused.status_code == 429
    body = refused.json()
    assert set(body) == {"error", "message", "retry_after"}
    assert body["error"] == "RATE_LIMIT_EXCEEDED"
    assert isinstance(body["retry_after"], int)
    assert 1 <= body["retry_after"] <= math.ceil(3600 / SPEED)
    assert body["message"] == "Rate limit exceeded. Try again in 1 minute."
    assert "Retry-After" not in refused.headers
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Limit"] == "3"


def test_the_default_window_is_an_emulated_hour(api: Api) -> None:
    before = time.time()
    reset = int(api.get("/keys").headers["X-RateLimit-Reset"])
    assert before + 3600 / SPEED - 1 <= reset <= time.time() + 3600 / SPEED + 1


def test_a_real_hour_window_says_minutes(frozen_api: Api, frozen: Emulator) -> None:
    frozen.set_rate_limit(frozen_api.api_key, 1)
    frozen_api.get("/keys")
    body = frozen_api.get("/keys").json()
    assert body["retry_after"] == 3600
    assert body["message"] == "Rate limit exceeded. Try again in 60 minutes."


def test_401_does_not_count_against_the_limit(api: Api, server: Emulator) -> None:
    server.set_rate_limit(api.api_key, 2)
    for _ in range(5):
        assert requests.get(f"{api.base}/keys", timeout=10).status_code == 401
    assert api.get("/keys").headers["X-RateLimit-Remaining"] == "1"


def test_limits_are_per_key(api: Api, server: Emulator) -> None:
    server.set_rate_limit(api.api_key, 1)
    api.get("/keys")
    assert api.get("/keys").status_code == 429
    other = api.post("/keys", json={"name": "second"})
    assert other.status_code == 429
    _, key = server.new_tenant()
    fresh = Api(server, key)
    assert fresh.get("/keys").status_code == 200
    fresh.close()


def test_window_resets_after_its_length(
    frozen_api: Api, frozen: Emulator, clock: FakeClock
) -> None:
    frozen.set_rate_limit(frozen_api.api_key, 2, window=60)
    start = clock()
    frozen_api.get("/keys")
    last = frozen_api.get("/keys")
    assert last.headers["X-RateLimit-Reset"] == str(math.ceil(start + 60))
    clock.advance(30)
    refused = frozen_api.get("/keys")
    assert refused.status_code == 429
    assert refused.json()["retry_after"] == 30
    assert refused.json()["message"] == "Rate limit exceeded. Try again in 1 minute."
    clock.advance(30)
    again = frozen_api.get("/keys")
    assert again.status_code == 200
    assert again.headers["X-RateLimit-Remaining"] == "1"
    assert again.headers["X-RateLimit-Reset"] == str(math.ceil(clock() + 60))


def test_set_rate_limit_of_an_unknown_key_fails(server: Emulator) -> None:
    response = control(server, "POST", "rate-limit", json={"api_key": "twyn_test_nope", "limit": 5})
    assert response.status_code == 404
