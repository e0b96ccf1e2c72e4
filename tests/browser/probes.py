"""What a page does that its DOM does not show: the kernel's websocket frames, the desktop
notifications it creates, and whether it believes the user is looking.

- :class:`KernelFrames` counts what the kernel sends to the page (``comm_msg`` and all),
  read on the page's own kernel websocket (``/api/kernels/<id>/channels``).
- :data:`NOTIFY_INIT_SCRIPT` (a context init script) records every ``new Notification(...)``
  and lets a test "leave" and "come back to" the tab: headless pages always report visible
  and focused.
- :func:`set_notification_permission` grants or denies notifications for the server's origin.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from playwright.sync_api import BrowserContext, Page, WebSocket

# --------------------------------------------------------------------------------------------
# Kernel websocket frames


@dataclass(frozen=True)
class Frame:
    """One kernel-to-page frame: when it arrived (``time.monotonic()``), its channel, its
    message type and its size in bytes."""

    t: float
    channel: str
    msg_type: str
    size: int


def parse_frame(payload: bytes | str) -> tuple[str, str]:
    """``(channel, msg_type)`` of a kernel websocket frame.

    JupyterLab 4 speaks the binary v1 protocol (``v1.kernel.websocket.jupyter.org``): 8 bytes
    giving the number of offsets, the offsets (8 bytes each, little-endian), then the channel
    name, the header, the parent header, the metadata, the content and any buffers. Older
    front ends send one JSON text per message.
    """
    if isinstance(payload, str):
        msg = json.loads(payload)
        return str(msg.get("channel", "")), str(msg.get("header", {}).get("msg_type", ""))
    count = int.from_bytes(payload[:8], "little")
    offsets = [int.from_bytes(payload[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    channel = payload[offsets[0] : offsets[1]].decode("utf-8")
    header = json.loads(payload[offsets[1] : offsets[2]])
    return channel, str(header.get("msg_type", ""))


class KernelFrames:
    """Every frame the kernel sends to ``page`` on its kernel websocket, from now on.

    Create it before the page opens the notebook (the websocket is caught as it opens; a page
    reloaded later opens a new one, caught too).
    """

    def __init__(self, page: Page) -> None:
        self.frames: list[Frame] = []
        self.sockets: list[str] = []
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws: WebSocket) -> None:
        if "/api/kernels/" not in ws.url or "/channels" not in ws.url:
            return  # the server's other sockets (events, terminals) are not the kernel's
        self.sockets.append(ws.url)
        ws.on("framereceived", self._on_frame)  # received = kernel to page only

    def _on_frame(self, payload: bytes | str) -> None:
        try:
            channel, msg_type = parse_frame(payload)
        except (ValueError, IndexError, UnicodeDecodeError):
            channel, msg_type = "?", "comm_msg" if b"comm_msg" in _bytes(payload) else "?"
        self.frames.append(Frame(time.monotonic(), channel, msg_type, len(_bytes(payload))))

    def between(self, start: float, end: float, *msg_types: str) -> list[Frame]:
        """Frames of ``msg_types`` (``comm_msg`` if none given) that arrived between two
        ``time.monotonic()`` readings."""
        wanted = set(msg_types or ("comm_msg",))
        return [f for f in self.frames if start <= f.t <= end and f.msg_type in wanted]


def _bytes(payload: bytes | str) -> bytes:
    return payload.encode("utf-8") if isinstance(payload, str) else payload


# --------------------------------------------------------------------------------------------
# Notifications and a page the user has left

#: Added to the context before the page loads. ``window.__twynNotes`` gets ``{title, body}``
#: for every ``new Notification(...)`` (recorded before the real constructor runs; the
#: objects go to ``window.__twynNoteObjects``); ``window.__twynFocusCalls`` counts
#: ``window.focus()``. ``document.hidden``, ``visibilityState`` and ``hasFocus()`` report the
#: flag ``localStorage.__twynAway`` ("1": hidden and unfocused), which survives a reload, so a
#: page can be reloaded while "away". ``window.__twynSetAway(on)`` flips it and fires the
#: events a real tab switch fires.
NOTIFY_INIT_SCRIPT = """
(() => {
  const KEY = '__twynAway';
  const away = () => {
    try { return window.localStorage.getItem(KEY) === '1'; } catch (err) { return false; }
  };
  Object.defineProperty(Document.prototype, 'hidden', {
    configurable: true, get() { return away(); },
  });
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true, get() { return away() ? 'hidden' : 'visible'; },
  });
  Document.prototype.hasFocus = function () { return !away(); };
  window.__twynSetAway = (on) => {
    window.localStorage.setItem(KEY, on ? '1' : '0');
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event(on ? 'blur' : 'focus'));
  };
  window.__twynFocusCalls = 0;
  const focus = window.focus;
  window.focus = function () { window.__twynFocusCalls += 1; return focus.call(this); };
  window.__twynNotes = [];
  window.__twynNoteObjects = [];
  if (typeof window.Notification === 'function') {
    const Real = window.Notification;
    class Recorded extends Real {
      constructor(title, options) {
        window.__twynNotes.push({title: String(title), body: String((options || {}).body || '')});
        super(title, options);
        window.__twynNoteObjects.push(this);
      }
    }
    window.Notification = Recorded;
  }
})();
"""


class Note(TypedDict):
    """One desktop notification the page created."""

    title: str
    body: str


def notes(page: Page) -> list[Note]:
    """Every notification the page created since it loaded."""
    found: list[Note] = page.evaluate("() => window.__twynNotes")
    return found


def set_away(page: Page, away: bool) -> None:
    """Make the page hidden and unfocused (``True``), or visible and focused again."""
    page.evaluate("(on) => window.__twynSetAway(on)", away)


def set_notification_permission(
    context: BrowserContext, page: Page, origin: str, setting: Literal["granted", "denied"]
) -> None:
    """Grant or deny notifications to ``origin`` in ``context`` (before the page loads).

    Why the DevTools protocol for "denied": Playwright can only grant; Chromium's
    ``Browser.setPermission`` sets either, for the page's own browser context. The setting
    lasts as long as the protocol session: it is left open (it closes with the context).
    """
    if setting == "granted":
        context.grant_permissions(["notifications"], origin=origin)
        return
    cdp = context.new_cdp_session(page)
    info: dict[str, Any] = cdp.send("Target.getTargetInfo")
    cdp.send(
        "Browser.setPermission",
        {
            "permission": {"name": "notifications"},
            "setting": setting,
            "origin": origin,
            "browserContextId": info["targetInfo"]["browserContextId"],
        },
    )
