"""The API-key endpoints through the client, against the emulator (as the docs give them)."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import twyn_widgets as tw
from twyn_widgets import TwynClient

UNKNOWN = "key_000000000000"


@pytest.fixture
def tenant(emu: Any) -> Iterator[TwynClient]:
    """A client of a tenant of its own, so key lists hold only this test's keys."""
    _, key = emu.new_tenant("keys")
    client = TwynClient(key, emu.base_url)
    try:
        yield client
    finally:
        client.close()


def test_create_key_returns_the_secret_once_with_its_details(tenant: TwynClient) -> None:
    key = tenant.create_key("Development Server", rate_limit=500, expires_in_days=90)
    assert isinstance(key, tw.APIKey)
    assert key.key_id.startswith("key_")
    assert key.name == "Development Server"
    assert key.rate_limit == 500
    assert key.is_active is True
    assert key.api_key is not None
    assert key.api_key.startswith("twyn_")
    assert key.created_at is not None
    assert key.expires_at is not None
    assert key.expires_at - key.created_at == timedelta(days=90)
    again = tenant.get_key(key.key_id)
    assert again.api_key is None
    assert (again.key_id, again.name, again.rate_limit) == (key.key_id, key.name, 500)
    assert again.tenant_id == key.tenant_id


def test_a_new_key_works_at_once(tenant: TwynClient, emu: Any) -> None:
    key = tenant.create_key("fresh")
    assert key.api_key is not None
    with TwynClient(key.api_key, emu.base_url) as fresh:
        sim = tenant.create_simulation("made with the old key")
        assert sim.id in {s.id for s in fresh.list_simulations(limit=100).items}
    assert tenant.get_key(key.key_id).usage_count == 1


def test_update_key_renames_disables_and_enables(tenant: TwynClient, emu: Any) -> None:
    key = tenant.create_key("before")
    assert key.api_key is not None
    renamed = tenant.update_key(key.key_id, name="after")
    assert (renamed.name, renamed.is_active) == ("after", True)
    off = tenant.update_key(key.key_id, is_active=False)
    assert (off.name, off.is_active) == ("after", False)
    with pytest.raises(tw.AuthenticationError):
        TwynClient(key.api_key, emu.base_url).list_keys()
    assert tenant.update_key(key.key_id, is_active=True).is_active is True
    assert TwynClient(key.api_key, emu.base_url).list_keys()


def test_delete_key_revokes_it_and_returns_none(tenant: TwynClient, emu: Any) -> None:
    key = tenant.create_key("doomed")
    assert key.api_key is not None
    assert tenant.delete_key(key.key_id) is None
    with pytest.raises(tw.NotFound):
        tenant.get_key(key.key_id)
    with pytest.raises(tw.AuthenticationError):
        TwynClient(key.api_key, emu.base_url).list_keys()


def test_list_keys_gives_api_keys_without_secrets(tenant: TwynClient) -> None:
    made = [tenant.create_key(f"listed {i}") for i in range(2)]
    keys = tenant.list_keys()
    assert all(isinstance(k, tw.APIKey) for k in keys)
    assert {k.key_id for k in made} < {k.key_id for k in keys}
    assert all(k.api_key is None for k in keys)
    assert {k.key_id: k.name for k in keys if k in made} == {k.key_id: k.name for k in made}


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_key(UNKNOWN),
        lambda c: c.update_key(UNKNOWN, name="x"),
        lambda c: c.delete_key(UNKNOWN),
    ],
    ids=["get", "update", "delete"],
)
def test_an_unknown_key_is_not_found(tenant: TwynClient, call: Any) -> None:
    with pytest.raises(tw.NotFound) as exc:
        call(tenant)
    assert exc.value.status_code == 404


def test_another_tenants_key_is_not_reachable(tenant: TwynClient, client: TwynClient) -> None:
    theirs = client.create_key("not yours")
    with pytest.raises((tw.NotFound, tw.PermissionDenied)):
        tenant.get_key(theirs.key_id)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_key(""),
        lambda c: c.create_key("too fast", rate_limit=0),
        lambda c: c.create_key("forever", expires_in_days=0),
        lambda c: c.update_key(c.list_keys()[0].key_id, name=""),
    ],
    ids=["empty-name", "rate-limit", "expiry", "rename-empty"],
)
def test_a_refused_field_is_a_validation_error(tenant: TwynClient, call: Any) -> None:
    with pytest.raises(tw.ValidationError) as exc:
        call(tenant)
    assert exc.value.status_code == 422
    assert exc.value.errors


@pytest.mark.parametrize("bad", ["../keys", "key 1", "key/1", "", "k" * 129, "kéy"])
def test_key_ids_are_checked_before_any_request(emu: Any, client: TwynClient, bad: str) -> None:
    emu.reset_counters()
    for call in (client.get_key, client.delete_key, lambda k: client.update_key(k, name="x")):
        with pytest.raises(tw.InvalidIdError):
            call(bad)
    assert emu.counters()["requests_total"] == 0


def test_the_secret_never_shows_in_repr_str_or_a_debug_log(
    tenant: TwynClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        key = tenant.create_key("secret keeper")
        tenant.get_key(key.key_id)
        tenant.list_keys()
    secret = key.api_key
    assert secret is not None
    assert len(caplog.records) >= 3  # the transport did log each call
    assert secret not in caplog.text
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert secret not in text
        assert secret[-4:] in text  # masked, not dropped: the user can tell keys apart
        assert "..." in text
    assert pickle.loads(pickle.dumps(key)).api_key == secret  # still readable on purpose


def test_the_secret_takes_no_part_in_equality() -> None:
    with_secret = tw.APIKey.from_json({"key_id": "key_1", "name": "a", "api_key": "twyn_live_x"})
    assert with_secret == tw.APIKey.from_json({"key_id": "key_1", "name": "a"})
    assert with_secret != tw.APIKey.from_json({"key_id": "key_1", "name": "b"})
