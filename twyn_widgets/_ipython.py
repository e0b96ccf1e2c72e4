"""Typed doors into IPython's untyped display and shell functions (one place for the ignores)."""

from __future__ import annotations

from typing import Any

__all__ = ["display_bundle", "display_object", "in_kernel", "shell", "update_bundle"]


def shell() -> Any:
    """The running IPython shell, or ``None`` outside IPython."""
    try:
        from IPython.core.getipython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a core dependency
        return None
    return get_ipython()  # type: ignore[no-untyped-call]


def in_kernel() -> bool:
    """Whether we run in a Jupyter kernel (widgets can show), not a terminal or a script."""
    return getattr(shell(), "kernel", None) is not None


def display_bundle(bundle: dict[str, Any], display_id: str) -> None:
    """Display a raw MIME bundle under ``display_id``."""
    from IPython.display import display

    display(bundle, raw=True, display_id=display_id)  # type: ignore[no-untyped-call]


def update_bundle(bundle: dict[str, Any], display_id: str) -> None:
    """Replace what ``display_id`` shows with a new raw MIME bundle."""
    from IPython.display import update_display

    update_display(bundle, raw=True, display_id=display_id)  # type: ignore[no-untyped-call]


def display_object(obj: Any) -> None:
    """Display an object as IPython would (its ``_ipython_display_`` or repr)."""
    from IPython.display import display

    display(obj)  # type: ignore[no-untyped-call]
