"""``SimulationLauncher``: a form that creates simulations and watches each below it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as W

from .. import _render as R
from .._connect import resolve_client
from ..client import TwynClient
from ..errors import ValidationError
from ..models import Simulation
from .watcher import SimulationWatcher

__all__ = ["SimulationLauncher"]

REPEAT_GUARD = 0.5
"""Seconds after a creation during which another click is taken as part of a double click."""

_LABELS = {"description_width": "8em"}


def _wide() -> Any:
    # One Layout per widget: a Layout is itself a widget, and a shared one would change all.
    return W.Layout(width="100%")


class SimulationLauncher:
    """A form to launch simulations from a notebook, each watched live below the form.

    Built from stock widgets: a prompt, an optional title, tags (comma separated) and a
    scenario id, a *with config* toggle that reveals a JSON config (the simulation then skips
    the Architect), and a *Run* button. Each Run creates one simulation and shows its
    :class:`~twyn_widgets.SimulationWatcher` under the form. An error (a 422 with its field
    list, bad JSON, a network failure) shows in the form, escaped, and every field keeps what
    was typed. A double click creates one simulation: the button is disabled while creating,
    a lock guards the creation, and a click within :data:`REPEAT_GUARD` seconds of a creation
    is ignored (a double click's second click reaches the kernel only after the first ran).

    Parameters
    ----------
    client
        The client to create with. By default the default client
        (:func:`twyn_widgets.connect`'s or :func:`twyn_widgets.set_default_client`'s), else
        the only client in the notebook; never a server started behind your back.
    notify
        Give each run's watcher ``notify`` (see :class:`~twyn_widgets.SimulationWatcher`).

    Attributes
    ----------
    simulations
        The simulations this launcher created, oldest first.
    watchers
        Their watchers, in the same order.
    prompt, title, tags, scenario, with_config, config, run_button, message
        The form's widgets (``launcher.prompt.value = "..."`` fills it from code).
    widget
        The whole form and its runs, to place inside an ipywidgets layout.

    Notes
    -----
    The API key lives only in the client: no widget state holds it (widget state is saved in
    the notebook file).

    Examples
    --------
    ``tw.SimulationLauncher(client)`` as a cell's last line shows the form.
    """

    def __init__(self, client: TwynClient | None = None, *, notify: bool | None = None) -> None:
        self._client = resolve_client(None, client)
        self._notify = notify
        self._lock = threading.Lock()
        self._clock: Callable[[], float] = time.monotonic
        self._last_created = -float("inf")
        self.simulations: list[Simulation] = []
        self.watchers: list[SimulationWatcher] = []
        self.prompt = W.Textarea(
            description="Prompt",
            placeholder="How will a 10% price rise affect churn?",
            rows=3,
            layout=_wide(),
            style=_LABELS,
        )
        self.title = W.Text(
            description="Title", placeholder="optional", layout=_wide(), style=_LABELS
        )
        self.tags = W.Text(
            description="Tags", placeholder="comma, separated", layout=_wide(), style=_LABELS
        )
        self.scenario = W.Text(
            description="Scenario id", placeholder="optional", layout=_wide(), style=_LABELS
        )
        self.with_config = W.ToggleButton(
            value=False,
            description="with config",
            icon="code",
            tooltip="Give your own SimulationConfig as JSON (skips the Architect)",
        )
        self.config = W.Textarea(
            description="Config (JSON)",
            placeholder='{"step_unit": "week", "number_of_steps": 12, "agent_groups": [...]}',
            rows=8,
            layout=W.Layout(width="100%", display="none"),
            style=_LABELS,
        )
        self.with_config.observe(self._show_config, names="value")
        self.run_button = W.Button(
            description="Run", icon="play", button_style="primary", tooltip="Create and watch"
        )
        self.run_button.on_click(lambda _button: self.run())
        self.message = W.HTML()
        self._runs = W.VBox()
        form = W.VBox(
            [
                self.prompt,
                self.title,
                self.tags,
                self.scenario,
                self.config,
                W.HBox([self.with_config, self.run_button]),
                self.message,
            ],
            layout=W.Layout(width="100%", max_width="900px"),
        )
        self.widget = W.VBox(children=(form, self._runs), _dom_classes=("twyn-launcher",))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # Why the form's own bundle: the launcher is not a widget itself (its help stays
        # short), the form is; it shows as the form, with this repr as its text.
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["text/plain"] = repr(self)
        return bundle

    def close(self) -> None:
        """Stop the runs' watchers and close the form."""
        for watcher in self.watchers:
            watcher.close()
        self.widget.close()

    def __repr__(self) -> str:
        return f"SimulationLauncher({len(self.simulations)} simulations created)"

    def _show_config(self, change: Mapping[str, Any]) -> None:
        self.config.layout.display = "" if change["new"] else "none"

    # -- running --------------------------------------------------------------------------------

    def run(self) -> Simulation | None:
        """Create a simulation from the form (what the Run button does) and watch it.

        Returns
        -------
        Simulation or None
            The new simulation, or ``None`` when nothing was created: an error (shown in the
            form), or a click taken as part of a double click.
        """
        if not self._lock.acquire(blocking=False):
            return None  # a creation is under way: this is the same click again
        try:
            if self._clock() - self._last_created < REPEAT_GUARD:
                return None
            self.run_button.disabled = True
            try:
                sim = self._create()
            except Exception as exc:  # shown in the form, as the user needs it
                self.message.value = R.form_error_html(*_describe(exc))
                return None
            self._last_created = self._clock()
            self.simulations.append(sim)
            watcher = SimulationWatcher(sim, client=self._client, notify=self._notify)
            self.watchers.append(watcher)
            self._runs.children = (*self._runs.children, watcher.widget)
            self.message.value = ""
            return sim
        finally:
            self.run_button.disabled = False
            self._lock.release()

    def _create(self) -> Simulation:
        prompt = self.prompt.value.strip()
        if not prompt:
            raise _FormError("Write a prompt first.")
        title = self.title.value.strip() or None
        tags = [t.strip() for t in self.tags.value.split(",") if t.strip()] or None
        scenario = self.scenario.value.strip() or None
        if not self.with_config.value:
            return self._client.create_simulation(
                prompt, title=title, tags=tags, scenario_id=scenario
            )
        config = _parse_config(self.config.value)
        return self._client.create_simulation_with_config(
            prompt, config, title=title, tags=tags, scenario_id=scenario
        )


class _FormError(ValueError):
    """Something in the form to fix before any request."""


def _parse_config(text: str) -> dict[str, Any]:
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _FormError(
            f"The config is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from exc
    if not isinstance(config, dict):
        raise _FormError("The config should be a JSON object: {...}.")
    return config


def _describe(exc: BaseException) -> tuple[str, list[str]]:
    """A message and a list of details for the form (unescaped: the caller escapes)."""
    if isinstance(exc, _FormError):
        return str(exc), []
    if isinstance(exc, ValidationError):
        details = [f"{where}: {message}" for where, message in exc.errors]
        if details:
            return f"The server refused the simulation (HTTP {exc.status_code}):", details
        return f"The server refused the simulation ({exc}).", []
    return f"Could not create the simulation: {type(exc).__name__}: {exc}", []
