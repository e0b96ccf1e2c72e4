"""How the package's errors show in IPython: the user's line and the message, not our frames.

The package marks the frames an error only passes through (a public method, the one that
re-raises what a polling thread caught) with ``__tracebackhide__ = True``, the convention
IPython and pytest honour. IPython hides such frames, except the last one, where the error
was raised: for our errors that is always one of ours, so it still shows, with its source.
:func:`user_traceback` (called through the exceptions' ``_render_traceback_``) hides that
one too, and otherwise formats exactly as IPython would, in its current mode (``%xmode``).
"""

from __future__ import annotations

import traceback
from types import TracebackType

from ._ipython import shell

__all__ = ["strip_hidden", "user_traceback"]


def _hidden(tb: TracebackType) -> bool:
    return bool(tb.tb_frame.f_locals.get("__tracebackhide__", False))


def strip_hidden(tb: TracebackType | None) -> TracebackType | None:
    """The traceback ``tb`` without its frames marked ``__tracebackhide__``."""
    kept: list[TracebackType] = []
    while tb is not None:
        if not _hidden(tb):
            kept.append(tb)
        tb = tb.tb_next
    out: TracebackType | None = None
    for entry in reversed(kept):
        out = TracebackType(out, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return out


def user_traceback(exc: BaseException) -> list[str]:
    """The traceback lines IPython shows for ``exc``, without the package's hidden frames.

    Honours IPython's own switch: with ``skip_hidden`` off (``%config`` or the debugger's
    ``skip_hidden False``), every frame shows.
    """
    ip = shell()
    formatter = getattr(ip, "InteractiveTB", None)
    if formatter is None:  # not IPython's shell (another host calling the hook)
        return traceback.format_exception(type(exc), exc, exc.__traceback__)
    full = exc.__traceback__
    tb = strip_hidden(full) if getattr(formatter, "skip_hidden", True) else full
    lines: list[str] = formatter.structured_traceback(type(exc), exc, tb)
    if hasattr(formatter, "tb"):
        # Why: the formatter keeps the traceback it formatted for ``%debug``; the debugger
        # hides the marked frames itself and should still be able to step into ours.
        formatter.tb = full
    return lines
