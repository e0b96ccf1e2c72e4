"""Command line: ``twyn-emulator`` / ``python -m twyn_widgets.emulator``."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from .server import start


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twyn-emulator",
        description=(
            "Serve a local emulator of the Twyn v1 API. Prints the base URL and an API key, "
            "then serves until interrupted (Ctrl-C)."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)"
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
        "--seed", type=int, default=0, help="seed of ids, keys and durations (default: %(default)s)"
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
    emulator = start(
        speed=args.speed,
        host=args.host,
        port=args.port,
        seed=args.seed,
        rate_limit=args.rate_limit,
        log_level=args.log_level,
        list_items=args.list_items,
    )
    # SIGTERM (e.g. from a process manager) stops as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"Twyn API emulator running at speed {args.speed:g}x", flush=True)
    print(f"  base URL: {emulator.base_url}", flush=True)
    print(f"  API key:  {emulator.api_key}", flush=True)
    print(f"  docs:     {emulator.root_url}/docs", flush=True)
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
