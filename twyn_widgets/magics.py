"""``%twyn_wait`` and ``%%twyn_wait``: show a live watcher, block until done, return the result.

``%load_ext twyn_widgets`` registers them.
"""

from __future__ import annotations

import ast
import concurrent.futures
import keyword
import math
import shlex
from collections.abc import Sequence
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ._connect import resolve_client
from ._ipython import display_object, in_kernel
from .client import TwynClient
from .errors import ConfigurationError, InvalidIdError, TwynError
from .models import Simulation, simulation_id
from .polling import Backoff, Fixed, PhaseAware, Schedule
from .polling._schedules import MIN_INTERVAL
from .polling._watch import API_SECOND, interrupted

__all__ = ["TwynMagics", "register"]

_POLL = 0.2
"""Seconds between checks while blocking: short, so Ctrl-C / Interrupt ends the wait at once."""


def _schedule(kind: str, interval: float | None) -> Schedule:
    """The schedule the options ask for; a bad value is a one-line ``UsageError``."""
    if interval is not None and not (math.isfinite(interval) and interval >= MIN_INTERVAL):
        raise UsageError(
            f"--interval must be at least {MIN_INTERVAL:g} API second, the API's floor "
            f"(got {interval:g})"
        )
    if kind == "fixed":
        return Fixed(interval if interval is not None else 5.0)
    if kind == "backoff":
        if interval is not None:
            raise UsageError("--interval goes with --schedule fixed or phase, not backoff")
        return Backoff()
    return PhaseAware() if interval is None else PhaseAware(interval=interval)


def _check_options(args: Any) -> None:
    """Refuse a bad ``--timeout`` or ``-o`` before anything starts (one line each)."""
    timeout = args.timeout
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--timeout must be a number of API seconds > 0 (got {timeout:g})")
    out = args.out
    if out is not None and (not out.isidentifier() or keyword.iskeyword(out)):
        raise UsageError(f"-o/--out must name a variable (got {out!r})")


def _words(line: str) -> list[str]:
    """The line's words as a shell reads them, with ``#`` starting a comment, as in Python.

    Why here: IPython hands a line magic the rest of the line, comment included (after
    expanding ``$name``), so ``%twyn_wait $sim.id  # note`` would read the note as more ids.
    """
    try:
        return shlex.split(line, comments=True)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"%twyn_wait: {exc} in {line.strip()!r}") from None


_SHARED_OPTIONS = (
    argument(
        "--timeout",
        type=float,
        default=None,
        metavar="API_SECONDS",
        help="give up after this many API seconds (default 600, the docs' limit); an API "
        f"second is {API_SECOND}",
    ),
    argument(
        "--schedule",
        choices=("phase", "fixed", "backoff"),
        default="phase",
        help="when to poll: phase-aware (default), every --interval s, or the docs' backoff",
    ),
    argument(
        "--interval",
        type=float,
        default=None,
        metavar="API_SECONDS",
        help="API seconds between polls (fixed: default 5; at least 1, the API's floor)",
    ),
    argument("--quiet", action="store_true", help="show nothing; still return the result"),
    argument(
        "--notify",
        action="store_true",
        default=None,
        help="tell me when it ends while I look elsewhere: a desktop notification (the "
        "widget's bell asks the browser's permission) and a mark in the tab's title",
    ),
    argument(
        "--no-raise",
        dest="no_raise",
        action="store_true",
        help="return the exception instead of raising it, for every ending that is not a "
        "result (failed, timed out, stopped, not found...)",
    ),
    argument(
        "--client",
        default=None,
        metavar="NAME",
        help="the variable holding the TwynClient to watch with (default: the simulation's "
        "own client, else the default one, else the only one in the notebook)",
    ),
    argument(
        "-o", "--out", default=None, metavar="VAR", help="also store the result in variable VAR"
    ),
)


# Why Any: IPython 9 types ``cell_magic("name")`` as returning ``_F | Callable[[_F], _F]``, a
# union no checker can apply as a decorator, and IPython 8 ships no types at all; one untyped
# name keeps the module checked the same way on both.
_named_cell_magic: Any = cell_magic


def _options(func: Any) -> Any:
    """Apply the options the line and the cell magic share."""
    for decorator in reversed(_SHARED_OPTIONS):
        func = decorator(func)
    return func


@magics_class
class TwynMagics(Magics):  # type: ignore[misc]
    """The ``%twyn_wait`` line magic and ``%%twyn_wait`` cell magic."""

    @magic_arguments()
    @argument("simulations", nargs="*", help="simulation ids (or names of variables holding them)")
    @argument(
        "--running",
        action="store_true",
        help="wait on every simulation of the key that is still running (after a restart)",
    )
    @_options
    @line_magic
    def twyn_wait(self, line: str) -> Any:
        """Watch simulations live and block until they finish; return the result(s).

        ``res = %twyn_wait $sid`` gives one ``SimulationResult``; several ids give a list,
        shown on one board; ``%twyn_wait --running`` waits on everything the key still runs.
        A ``#`` starts a comment, as in Python. Every id and option is checked before
        anything starts. Interrupt ends the wait at once, stops the polling and raises
        ``WatchInterrupted`` (a ``KeyboardInterrupt``); the simulations keep running on the
        server.
        """
        __tracebackhide__ = True
        args = self._parse(self.twyn_wait, line)
        if args.running:
            if args.simulations:
                raise UsageError("%twyn_wait --running takes no simulation ids")
            client = self._client(args, None)
            running = client.list_running()
            if not running:
                print("twyn-widgets: no simulation of this key is running")
                return []
            return self._wait(running, args, several=True)
        if not args.simulations:
            raise UsageError("%twyn_wait needs at least one simulation id (or --running)")
        targets = [self._resolve(name) for name in args.simulations]
        return self._wait(targets, args, several=len(targets) > 1)

    @magic_arguments()
    @_options
    @_named_cell_magic("twyn_wait")
    def twyn_wait_cell(self, line: str, cell: str) -> Any:
        """Run the cell, then wait on what its last expression gives (an id, a ``Simulation``,
        a ``SimulationWatcher``, or a list of them) as ``%twyn_wait`` does."""
        __tracebackhide__ = True
        args = self._parse(self.twyn_wait_cell, line)
        value = self._run_cell(cell)
        if value is None:
            raise UsageError("%%twyn_wait: the cell's last line must give a simulation or a list")
        several = isinstance(value, (list, tuple))
        targets = list(value) if several else [value]
        return self._wait(targets, args, several=several)

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _parse(func: Any, line: str) -> Any:
        try:
            args = func.parser.parse_args(_words(line))
        except UsageError:
            raise
        except SystemExit:  # argparse's exit on bad options (or after --help)
            raise UsageError(f"bad options: {line.strip()!r}") from None
        _check_options(args)
        return args

    @property
    def _ns(self) -> dict[str, Any]:
        assert self.shell is not None  # set when IPython registers the magics
        ns: dict[str, Any] = self.shell.user_ns
        return ns

    def _client(self, args: Any, target: object) -> TwynClient:
        """The client for ``target``: ``--client NAME``, else as :func:`resolve_client` says."""
        if args.client is not None:
            client = self._ns.get(args.client)
            if not isinstance(client, TwynClient):
                raise UsageError(
                    f"--client {args.client}: no TwynClient of that name in the notebook"
                )
            return client
        try:
            return resolve_client(target, None, namespace=self._ns)
        except ConfigurationError as exc:
            raise UsageError(str(exc)) from None

    def _resolve(self, token: str) -> Any:
        """A name in the user's namespace holding a simulation wins over the literal id."""
        value = self._ns.get(token) if token.isidentifier() else None
        if value is not None and not callable(value):
            return value
        return token

    def _run_cell(self, cell: str) -> Any:
        tree = ast.parse(self.shell.transform_cell(cell) if self.shell else cell)
        last = tree.body[-1] if tree.body else None
        ns = self._ns
        if isinstance(last, ast.Expr):
            tree.body.pop()
        else:
            last = None
        if tree.body:
            exec(compile(tree, "<twyn_wait cell>", "exec"), ns)
        if last is None:
            return None
        return eval(compile(ast.Expression(last.value), "<twyn_wait cell>", "eval"), ns)

    def _wait(self, targets: Sequence[Any], args: Any, *, several: bool) -> Any:
        __tracebackhide__ = True  # what ends a wait shows as of the user's line
        from .widgets import SimulationBoard, SimulationWatcher

        _check_targets(targets, SimulationWatcher)
        options = {"schedule": _schedule(args.schedule, args.interval), "timeout": args.timeout}
        # Each simulation is watched with its own client (resolved before anything starts, so
        # a bad --client or an ambiguous namespace leaves nothing polling).
        clients = {
            id(t): self._client(args, t) for t in targets if not isinstance(t, SimulationWatcher)
        }
        widget: Any = None
        watches: list[Any]
        if args.quiet:  # no widget at all: just the watches
            watches = [
                t.watch if isinstance(t, SimulationWatcher) else clients[id(t)].watch(t, **options)
                for t in targets
            ]
        elif several:
            rows = [
                t if isinstance(t, SimulationWatcher) else clients[id(t)].watch(t, **options)
                for t in targets
            ]
            widget = SimulationBoard(rows, notify=args.notify)
            watches = widget.watches
        else:
            target = targets[0]
            widget = (
                target
                if isinstance(target, SimulationWatcher)
                else SimulationWatcher(
                    target, client=clients[id(target)], notify=args.notify, **options
                )
            )
            if args.notify:
                widget.notify = True
            if widget.watch is None:
                widget.start()
            watches = [widget.watch]
        if widget is not None:
            _show(widget)
        try:
            if widget is not None and not in_kernel():
                # Why: a terminal cannot show the widget; its text face draws while waiting.
                from . import _terminal as terminal

                terminal.wait(watches, board=several)
            outcomes = _block(watches, args.no_raise)
        except KeyboardInterrupt:
            # Stops every watch (nothing keeps polling) and says how to pick them up again.
            raise interrupted(watches) from None
        except BaseException:
            _settle(widget)
            raise
        _settle(widget)
        value = outcomes if several else outcomes[0]
        if args.out:
            self._ns[args.out] = value
        return value


def _show(widget: Any) -> None:
    if in_kernel():
        display_object(widget)
    # A terminal cannot show a widget: _wait draws its text face while it waits instead.


def _settle(widget: Any) -> None:
    """Wait (briefly) until the widget shows the end before the cell returns."""
    if widget is not None:
        # Why: a widget refreshes at most once a second; returning before it shows the end
        # would leave "running" on screen while the next cell already prints the result.
        widget._settle()


def _check_targets(targets: Sequence[Any], watcher_type: type) -> None:
    """Refuse what cannot be waited on, every bad id named in one line, before any request."""
    bad: list[str] = []
    for target in targets:
        if isinstance(target, watcher_type):
            continue
        if not isinstance(target, (str, Simulation, dict)):
            raise UsageError(
                f"%twyn_wait cannot wait on a {type(target).__name__}: give an id, a "
                "Simulation, a SimulationWatcher, or a list of them"
            )
        try:
            simulation_id(target)
        except InvalidIdError as exc:
            bad.append(str(exc))
    if bad:
        raise UsageError("; ".join(bad))


def _block(watches: Sequence[Any], no_raise: bool) -> list[Any]:
    __tracebackhide__ = True
    pending = set(watches)
    while pending:
        # Why short waits: the kernel's interrupt arrives as KeyboardInterrupt between them.
        _, pending = concurrent.futures.wait(pending, timeout=_POLL)
    out: list[Any] = []
    for watch in watches:
        try:
            out.append(watch.result())
        except (TwynError, concurrent.futures.CancelledError) as exc:
            # Failed, timed out, stopped, not found...: every ending that is not a result.
            if not no_raise:
                raise
            out.append(exc)
    return out


def register(ipython: Any) -> None:
    """Register the magics on an IPython shell (``%load_ext twyn_widgets`` calls this)."""
    ipython.register_magics(TwynMagics)
