"""Command line: ``twyn-emulator`` / ``python -m twyn_widgets.emulator``."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from ._guard import TOKEN_HEADER, is_loopback_bind, reachable_addresses
from ._runtime import EmulatorError, start


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twyn-emulator",
        description=(
            "Serve a local emulator of the Twyn v1 API. Prints the base URL and an API key, "
            "then serves until interrupted (Ctrl-C)."
        ),
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on; anything but loopback needs --allow-remote "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be reachable from other machines (random key and control token)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host header is NAME (repeatable; '*' answers any "
        "Host and gives up the DNS-rebinding protection)",
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port, 0 for any free one (default: %(default)s)"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="speed factor: phases last 1/SPEED of their documented time (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of ids, keys and durations, for the same ones on every run "
        "(default: a fresh random seed)",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=1000,
        help="requests per key per emulated hour (default: %(default)s)",
    )
    parser.add_argument(
        "--list-items",
        default="full",
        choices=["full", "summary"],
        help="items of GET /v1/simulations: whole simulations or summaries "
        "(id, title, status, created_at) (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="uvicorn log level (default: %(default)s)",
    )
    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until interrupted.

    Parameters
    ----------
    argv
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Process exit status.
    """
    args = _parser().parse_args(argv)
    if args.speed <= 0:
        _parser().error("--speed must be positive")
    if args.log_level != "warning":
        import logging

        logging.basicConfig(level=args.log_level.upper() if args.log_level != "trace" else 5)
    remote = not is_loopback_bind(args.host)
    if remote:
        where = ", ".join(reachable_addresses(args.host))
        print(
            f"WARNING: --host {args.host or '0.0.0.0'} is reachable from other machines "
            f"(at {where}, port {args.port or 'any'}). Anyone there who learns the API key can "
            "read every prompt and result.",
            file=sys.stderr,
            flush=True,
        )
        if not args.allow_remote:
            print(
                "Refusing to start: pass --allow-remote to listen there anyway, "
                "or use --host 127.0.0.1.",
                file=sys.stderr,
                flush=True,
            )
            return 2
    try:
        emulator = start(
            speed=args.speed,
            host=args.host,
            port=args.port,
            seed=args.seed,
            rate_limit=args.rate_limit,
            log_level=args.log_level,
            allow_remote=args.allow_remote,
            allowed_hosts=args.allow_host,
            list_items=args.list_items,
        )
    except (OSError, EmulatorError) as exc:
        print(f"twyn-emulator: {exc}", file=sys.stderr, flush=True)
        return 1
    # SIGTERM (e.g. from a process manager) stops as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"Twyn API emulator running at speed {args.speed:g}x", flush=True)
    print(f"  base URL: {emulator.base_url}", flush=True)
    if remote:
        for address in reachable_addresses(args.host):
            host = f"[{address}]" if ":" in address else address
            print(f"  remote:   http://{host}:{emulator.port}/v1", flush=True)
    print(f"  API key:  {emulator.api_key}", flush=True)
    print(f"  control:  {emulator.root_url}/_emulator/ with header", flush=True)
    print(f"            {TOKEN_HEADER}: {emulator.control_token}", flush=True)
    print(f"  docs:     {emulator.root_url}/docs", flush=True)
    print(f"  seed:     {emulator.seed}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        emulator.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
