"""What a user keeps: the outcome is in the notebook file before a waiting call returns.

Read from what the kernel really sends (iopub, in arrival order) and from notebooks executed by
nbclient and saved, the way ``jupyter nbconvert --execute``, nbval and papermill run them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests.kernel.harness import errors_of, kernel
from tests.kernel.test_watcher_kernel import env_for

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
VIEW = "application/vnd.jupyter.widget-view+json"


def _idle_index(messages: list[dict[str, Any]], msg_id: str) -> int:
    for i, msg in enumerate(messages):
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "status"
            and msg["content"]["execution_state"] == "idle"
        ):
            return i
    raise AssertionError("the cell never went idle")


def _states_sent(messages: list[dict[str, Any]]) -> list[str]:
    """The watch states the kernel sent to the live view, in order."""
    return [
        m["content"]["data"]["state"]["sim"]["state"]
        for m in messages
        if m["msg_type"] == "comm_msg"
        and m["content"]["data"].get("method") == "update"
        and "sim" in m["content"]["data"].get("state", {})
    ]


def test_wait_returns_only_after_the_end_is_sent_and_the_outcome_replaces_the_view(
    emu_60: Any,
) -> None:
    with kernel(env_for(emu_60)) as k:
        shown = k.execute(
            "import twyn_widgets as tw\n"
            "c = tw.TwynClient()\n"
            "w = tw.SimulationWatcher(c.create_simulation('kept: wait'), client=c)\n"
            "display(w)\n"
        )
        assert not errors_of(shown)
        display_ids = [
            m["content"]["transient"]["display_id"]
            for m in shown
            if m["msg_type"] == "display_data"
        ]
        assert len(display_ids) == 1
        msg_id = k.client.execute("r = w.wait()")
        waited = k.collect(msg_id, timeout=60)
        assert not errors_of(waited)
        before_return = k.messages[: _idle_index(k.messages, msg_id)]
        assert _states_sent(before_return)[-1:] == ["succeeded"]
        # The static outcome goes out from the waiting cell itself (what nbclient records).
        updates = [m for m in waited if m["msg_type"] == "update_display_data"]
        assert updates, "no update_display_data from the waiting cell"
        last = updates[-1]["content"]
        assert last["transient"]["display_id"] == display_ids[0]
        assert VIEW not in last["data"]
        assert "twyn-static" in last["data"]["text/html"]
        assert "COMPLETED_ANALYSIS" in last["data"]["text/html"]
        assert "done" in last["data"]["text/plain"]


def _outputs_of(book: Any, index: int) -> list[dict[str, Any]]:
    return [dict(o) for o in book.cells[index].outputs]


def _run(book: Any, tmp_path: Path) -> Any:
    NotebookClient(
        book, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    saved = tmp_path / "executed.ipynb"
    nbformat.write(book, saved)
    return nbformat.read(saved, as_version=4)


def test_headless_quickstart_saves_the_watchers_outcome_as_html(
    emu_60: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env_for(emu_60).items():
        monkeypatch.setenv(name, value)
    book = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    watcher_cells = [
        i for i, c in enumerate(book.cells) if "tw.SimulationWatcher(" in c.get("source", "")
    ]
    assert len(watcher_cells) == 1
    saved = _run(book, tmp_path)
    outputs = _outputs_of(saved, watcher_cells[0])
    data = [o["data"] for o in outputs if "data" in o]
    assert len(data) == 1, outputs
    assert VIEW not in data[0]
    html = data[0]["text/html"]
    assert "twyn-static" in html
    assert "COMPLETED_ANALYSIS" in html
    assert "twyn-result" in html  # the analysis, not just a status line
    assert "done" in data[0]["text/plain"]


def test_a_watcher_shown_twice_and_waited_on_in_another_cell_keeps_both_outcomes(
    emu_60: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env_for(emu_60).items():
        monkeypatch.setenv(name, value)
    # The waiting cell comes last: no later cell runs while a thread's update arrives, so only
    # the waiting call's own update can reach the saved file.
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_code_cell(
            "import twyn_widgets as tw\n"
            "c = tw.TwynClient()\n"
            "w = tw.SimulationWatcher(c.create_simulation('kept: twice'), client=c)\n"
            "w"
        ),
        nbformat.v4.new_code_cell("display(w)"),
        nbformat.v4.new_code_cell("r = w.wait()"),
    ]
    saved = _run(book, tmp_path)
    for index in (0, 1):
        data = [o["data"] for o in _outputs_of(saved, index) if "data" in o]
        assert len(data) == 1, f"cell {index}: {data}"
        assert VIEW not in data[0], f"cell {index} still holds the live view"
        assert "COMPLETED_ANALYSIS" in data[0]["text/html"], f"cell {index}"
    # No output uses the live view any more, so the file keeps no heavy widget state: the
    # view's module (every anywidget model carries its ES module) was emptied at the end.
    states = saved.metadata.get("widgets", {})
    states = states.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    assert len(states) <= 2, list(states)  # the view and its layout (nbclient keeps all)
    assert all(not s["state"].get("_esm") for s in states.values())
    assert len(json.dumps(states)) < 3000


def test_a_board_waited_on_in_another_cell_keeps_its_outcome(
    emu_60: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env_for(emu_60).items():
        monkeypatch.setenv(name, value)
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_code_cell(
            "import twyn_widgets as tw\n"
            "c = tw.TwynClient()\n"
            "b = tw.SimulationBoard([c.create_simulation(f'kept: board {i}') for i in range(3)],"
            " client=c)\nb"
        ),
        nbformat.v4.new_code_cell("rs = b.wait()"),
        # What tw.compare gives, as the board formats numbers (after the wait: changes nothing).
        nbformat.v4.new_code_cell(
            "import json\n"
            "print(json.dumps({k: {m: f'{v:.4g}' for m, v in d.items()}"
            " for k, d in tw.final_values(rs).items()}))"
        ),
    ]
    saved = _run(book, tmp_path)
    board = [o["data"] for o in _outputs_of(saved, 0) if "data" in o]
    assert len(board) == 1
    assert VIEW not in board[0]
    html = board[0]["text/html"]
    assert "3 simulations</b>: 0 running, 3 done" in html
    assert json.dumps(board[0]).count("twyn-row") >= 3
    # Under the ended board, the table of final values: the numbers of tw.compare.
    finals = json.loads(_outputs_of(saved, 2)[0]["text"])
    assert len(finals) == 3
    table = html.split('class="twyn-finals"', 1)[1]
    head = table.split("<thead>", 1)[1].split("</thead>", 1)[0]
    columns = [th.split(">", 1)[1] for th in head.split("</th>")[1:-1]]
    for sim_id, values in finals.items():
        row = table.split(f'title="{sim_id}"', 1)[1].split("</tr>", 1)[0]
        cells = [td.split(">", 1)[1] for td in row.split("</td>")[1:-1]]
        shown = {c: v for c, v in zip(columns, cells, strict=True) if v}
        assert shown == values, sim_id
