"""In a real kernel: the launcher's Run button clicked as a frontend does, twice in a row."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.kernel.harness import errors_of, kernel, stdout_of

pytestmark = pytest.mark.kernel


def click(k: Any, model_id: str) -> None:
    """Send what JupyterLab sends when a Button is clicked: a custom ``click`` comm message."""
    content = {"comm_id": model_id, "data": {"method": "custom", "content": {"event": "click"}}}
    k.client.shell_channel.send(k.client.session.msg("comm_msg", content))


def test_a_frontend_double_click_creates_one_simulation_and_sends_no_key(emu_60: Any) -> None:
    _, key = emu_60.new_tenant("kernel-launcher")
    env = {
        "TWYN_API_KEY": "",
        "TEST_EMU_KEY": key,
        "TEST_EMU_URL": emu_60.base_url,
        "TEST_EMU_SCALE": str(1 / emu_60.speed),
    }
    with kernel(env) as k:
        out = k.execute(
            "import os, twyn_widgets as tw\n"
            "client = tw.TwynClient(api_key=os.environ['TEST_EMU_KEY'],"
            " base_url=os.environ['TEST_EMU_URL'],"
            " time_scale=float(os.environ['TEST_EMU_SCALE']))\n"
            "L = tw.SimulationLauncher(client)\n"
            "L.prompt.value = 'kernel: double click'\n"
            "display(L)\n"
            "print('BUTTON', L.run_button.model_id)\n"
        )
        assert not errors_of(out), errors_of(out)
        model_id = stdout_of(out).split("BUTTON ", 1)[1].split()[0]
        # Both clicks are queued before the kernel handles the first, as a double click is.
        click(k, model_id)
        click(k, model_id)
        out = k.execute(
            "r = L.watchers[0].wait(3600)  # API seconds: 60 real s at 60x\n"
            "print('CREATED', len(L.simulations),"
            " client.list_simulations(limit=100).total, r.id == L.simulations[0].id)\n",
            timeout=90,
        )
        assert not errors_of(out), errors_of(out)
        assert "CREATED 1 1 True" in stdout_of(out)
        k.drain(1.0)
        wire = json.dumps([m["content"] for m in k.messages], default=str)
        assert "comm_open" in json.dumps([m["msg_type"] for m in k.messages])
        assert key not in wire
        assert key[-8:] not in wire
