"""The switch that makes ``GET /v1/simulations`` serve summary items: start option, route, CLI."""

from __future__ import annotations

import requests

from twyn_widgets.emulator import start
from twyn_widgets.emulator.__main__ import _parser

SUMMARY = {"id", "title", "status", "created_at"}


def list_items(emu: object, key: str, base: str) -> list[dict[str, object]]:
    response = requests.get(f"{base}/simulations", headers={"X-API-Key": key}, timeout=10)
    assert response.status_code == 200
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_summary_items_hold_only_the_four_summary_fields_and_the_route_switches_back() -> None:
    with start(speed=60, list_items="summary") as emu:
        sim = emu.client().create_simulation("list items")
        items = list_items(emu, emu.api_key, emu.base_url)
        assert [set(i) for i in items] == [SUMMARY]
        assert items[0]["id"] == sim.id
        emu.set_list_items("full")
        full = list_items(emu, emu.api_key, emu.base_url)
        assert {"lifecycle", "error_log", "prompt"} <= set(full[0])
        emu.set_list_items("summary")
        assert set(list_items(emu, emu.api_key, emu.base_url)[0]) == SUMMARY
        one = emu.client().get_simulation(sim.id)  # a single GET stays whole
        assert "lifecycle" in one.raw


def test_the_command_line_takes_the_list_items_switch() -> None:
    assert _parser().parse_args(["--list-items", "summary"]).list_items == "summary"
    assert _parser().parse_args([]).list_items == "full"
