"""The README's examples run: every ```python block, in order, in one real kernel.

The blocks run as cells of one notebook would: the same kernel, the same variables, IPython's
own input transforms for the ``%`` magics and ``$`` expansion. No key is set, so
``tw.connect()`` starts the embedded emulator in the kernel, as it does for a new user.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.kernel.harness import kernel

pytestmark = pytest.mark.kernel

README = Path(__file__).resolve().parents[2] / "README.md"

PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)

KERNEL_ENV = {
    # Offline on the embedded emulator, whatever the developer's shell holds.
    "TWYN_API_KEY": "",
    # 120x: a 4-8 minute run takes 2-4 s, so the whole story stays well under a minute.
    "TWYN_EMULATOR_SPEED": "120",
    # Why Agg: the plots must draw for real, but no test should need a display.
    "MPLBACKEND": "Agg",
}


def python_blocks(markdown: str) -> list[str]:
    """The ```python blocks of ``markdown``, in order."""
    return PYTHON_BLOCK.findall(markdown)


def _failures(number: int, block: str, messages: list[dict[str, Any]]) -> list[str]:
    return [
        f"README python block {number} fails with "
        f"{m['content']['ename']}: {m['content']['evalue']}\n--- block {number} ---\n{block}"
        for m in messages
        if m["msg_type"] == "error"
    ]


def test_python_blocks_are_found_in_order_and_only_python_ones() -> None:
    text = "```python\na = 1\n```\n\n```bash\nls\n```\n\n```python\nb = a\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = a\n"]


def test_readme_python_blocks_run_in_order_in_one_kernel() -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    # The story: connect and watch, the magic, a frame and a plot, a board and its comparison.
    assert len(blocks) >= 4, blocks
    failures: list[str] = []
    with kernel(KERNEL_ENV) as k:
        for number, block in enumerate(blocks, start=1):
            # Why go on after a failure: a later block may fail for a reason of its own, and
            # the report should name every broken example at once.
            try:
                messages = k.execute(block, timeout=180)
            except TimeoutError:
                pytest.fail(f"README python block {number} still runs after 180 s:\n{block}")
            failures += _failures(number, block, messages)
    assert not failures, "\n\n".join(failures)
