"""A real ipykernel driven through jupyter_client, recording every iopub message it sends."""

from __future__ import annotations

import os
import queue
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jupyter_client.manager import KernelManager


@dataclass
class Kernel:
    """A running kernel and every iopub message it has sent so far (with arrival times)."""

    manager: KernelManager
    client: Any
    messages: list[dict[str, Any]] = field(default_factory=list)

    def _pump(self, timeout: float) -> dict[str, Any] | None:
        try:
            msg: dict[str, Any] = self.client.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return None
        msg["_arrived"] = time.monotonic()
        self.messages.append(msg)
        return msg

    def execute(self, code: str, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Run ``code``; return its iopub messages once the kernel is idle again."""
        msg_id = self.client.execute(code)
        return self.collect(msg_id, timeout)

    def collect(self, msg_id: str, timeout: float) -> list[dict[str, Any]]:
        """Pump iopub until the kernel reports idle for ``msg_id``."""
        deadline = time.monotonic() + timeout
        mine: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            msg = self._pump(0.2)
            if msg is None:
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                mine.append(msg)
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    return mine
        raise TimeoutError(f"kernel still busy after {timeout} s")

    def drain(self, seconds: float) -> None:
        """Record messages for ``seconds`` more (updates from background threads)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._pump(0.1)

    def interrupt(self) -> None:
        """Send SIGINT, as the notebook's stop button does."""
        self.manager.interrupt_kernel()


def errors_of(messages: list[dict[str, Any]]) -> list[str]:
    """Tracebacks of ``error`` messages, joined."""
    return ["\n".join(m["content"]["traceback"]) for m in messages if m["msg_type"] == "error"]


def sent_at(msg: dict[str, Any]) -> float:
    """When the kernel sent ``msg`` (its header's date), in epoch seconds."""
    value = msg["header"]["date"]
    if isinstance(value, str):  # jupyter_client parses dates; a raw message keeps the string
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return float(value.timestamp())


def stdout_of(messages: list[dict[str, Any]]) -> str:
    """Text written to stdout."""
    return "".join(
        m["content"]["text"]
        for m in messages
        if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
    )


@contextmanager
def kernel(env: dict[str, str] | None = None) -> Iterator[Kernel]:
    """Start a python3 ipykernel (ipc transport), yield it, shut it down.

    Each kernel test starts its own (under a second): the tests read every message the kernel
    sent and check that nothing polls once their watches end, which a kernel shared with
    another test's watches and messages would blur.
    """
    # Why an ip of its own: with the ipc transport, jupyter_client names the sockets
    # "kernel-ipc-1".."-5" in the current folder by default, and kernels started at the same
    # time by parallel test processes then took each other's sockets ("Kernel didn't respond").
    ipc = os.path.join(tempfile.gettempdir(), f"twyn-kernel-{uuid.uuid4().hex[:12]}")
    manager = KernelManager(kernel_name="python3", transport="ipc", ip=ipc)
    manager.start_kernel(env={**os.environ, **(env or {})})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield Kernel(manager, client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
