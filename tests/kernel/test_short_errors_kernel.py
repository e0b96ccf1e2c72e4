"""What a user's mistake looks like in a real kernel: the user's line and the error, not ours.

Counted as a notebook shows it: the lines of the ``error`` message's traceback (ANSI colours
removed), in IPython's default traceback mode; a ``UsageError`` shows as one stderr line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.kernel.harness import Kernel, errors_of, kernel, stdout_of
from tests.kernel.test_watcher_kernel import env_for

pytestmark = pytest.mark.kernel

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
UNKNOWN = "00000000-0000-0000-0000-000000000000"


def shown(messages: list[dict[str, Any]]) -> str:
    """The one error the cell showed: its traceback, else its stderr, colours removed."""
    tracebacks = errors_of(messages)
    if tracebacks:
        assert len(tracebacks) == 1, tracebacks
        return ANSI.sub("", tracebacks[0]).strip("\n")
    stderr = "".join(
        m["content"]["text"]
        for m in messages
        if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"
    )
    return ANSI.sub("", stderr).strip("\n")


def lines(text: str) -> int:
    return len(text.splitlines())


@pytest.fixture(scope="module")
def k(emu_60: Any) -> Iterator[Kernel]:
    with kernel(env_for(emu_60)) as running:
        out = running.execute(
            "%load_ext twyn_widgets\n"
            "import twyn_widgets as tw\n"
            "from twyn_widgets.polling._engine import get_engine\n"
            "client = tw.connect()\n"
            "sid = client.create_simulation('short errors').id\n"
            "wrong = tw.TwynClient(api_key='twyn_live_wrong_key_0000', base_url=client.base_url)\n"
        )
        assert not errors_of(out), errors_of(out)
        yield running


def active(k: Kernel) -> str:
    return stdout_of(k.execute("print('ACTIVE', get_engine().active)"))


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("%twyn_wait --timeout -5 $sid", "--timeout must be a number of API seconds > 0"),
        ("%twyn_wait --interval 0.5 $sid", "--interval must be at least 1 API second"),
        ("%twyn_wait $sid '#'", "simulation id '#' is not a valid id"),
    ],
    ids=["negative-timeout", "interval-under-the-floor", "invalid-id"],
)
def test_a_bad_option_value_or_id_is_one_line_and_starts_nothing(
    k: Kernel, line: str, says: str
) -> None:
    text = shown(k.execute(line))
    assert lines(text) == 1, text
    assert text.startswith("UsageError: ")
    assert says in text
    assert "ACTIVE 0" in active(k)


def test_the_readme_line_with_its_comment_waits_and_returns_the_result(k: Kernel) -> None:
    out = k.execute(
        "res = %twyn_wait $sid   # shows the watcher, blocks, returns the result\n"
        "print('RESULT', res.id == sid)\n",
        timeout=90,
    )
    assert not errors_of(out), errors_of(out)
    assert "RESULT True" in stdout_of(out)


@pytest.mark.parametrize(
    ("code", "user_line", "says"),
    [
        (f"%twyn_wait {UNKNOWN}", UNKNOWN, f"NotFound: HTTP 404: Simulation with ID {UNKNOWN}"),
        ("client.create_simulation('')", "create_simulation('')", "ValidationError: HTTP 422"),
        ("wrong.list_keys()", "wrong.list_keys()", "AuthenticationError: HTTP 401"),
    ],
    ids=["unknown-id", "empty-prompt", "wrong-key"],
)
def test_an_api_error_shows_the_users_line_and_the_error_in_at_most_12_lines(
    k: Kernel, code: str, user_line: str, says: str
) -> None:
    text = shown(k.execute(code, timeout=30))
    assert lines(text) <= 12, text
    assert says in text
    assert user_line in text  # the user's own line...
    assert "twyn_widgets" not in text  # ...and none of ours
    assert "wrong_key" not in text  # never the key


@pytest.mark.parametrize(
    ("wait", "user_line"),
    [
        # IPython shows a magic's line as the call it was turned into.
        ("res = %twyn_wait $sid2", "run_line_magic('twyn_wait', '$sid2')"),
        ("w = tw.SimulationWatcher(sid2); w.wait()", "w.wait()"),
        ("b = tw.SimulationBoard([sid2]); b.wait()", "b.wait()"),
    ],
    ids=["magic", "watcher", "board"],
)
def test_an_interrupt_says_watching_stopped_and_how_to_resume_in_at_most_8_lines(
    k: Kernel, wait: str, user_line: str
) -> None:
    k.execute("sid2 = client.create_simulation('short errors: interrupted').id")
    sid2 = stdout_of(k.execute("print(sid2)")).strip()
    msg_id = k.client.execute(wait)
    k.drain(1.5)
    k.interrupt()
    text = shown(k.collect(msg_id, timeout=15))
    assert lines(text) <= 8, text
    assert f"WatchInterrupted: stopped watching simulation {sid2}" in text
    assert "it keeps running on the server" in text
    assert f"%twyn_wait {sid2}" in text  # how to pick it up again
    assert user_line in text
    assert "threading" not in text
    assert "ACTIVE 0" in active(k)  # nothing keeps polling
