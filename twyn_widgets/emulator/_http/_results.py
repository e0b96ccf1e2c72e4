"""Results bodies, built and encoded off the event loop.

The metrics and the report of the largest allowed config take a noticeable time to compute
and their JSON a few MB to encode; done on the event loop, that would stall every other
request (health probes included) meanwhile. They are computed in a worker thread instead,
from a snapshot taken on the loop: the thread only reads the config, which the store never
changes in place (a new config replaces the old object), and the cache is written back on
the loop.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from .._domain import EmulatorState, SimulationRecord, generate_analysis, generate_metrics
from .._guard import json_bytes
from ._views import results_head

JSON = dict[str, Any]


def encode_results(head: JSON, timelines: JSON, report: JSON) -> bytes:
    """Encode SimulationResults piece by piece.

    Why not one ``json.dumps``: the C encoder holds the GIL for the whole document, a few
    tens of milliseconds for the largest results, during which the event loop thread could
    not run. Encoding one timeline entry at a time lets it in between.
    """
    groups = []
    for group in timelines["by_group"]:
        entries = b",".join(json_bytes(entry) for entry in group["timeline"])
        groups.append(
            b'{"group_id":' + json_bytes(group["group_id"]) + b',"timeline":[' + entries + b"]}"
        )
    rest = {name: value for name, value in timelines.items() if name != "by_group"}
    metrics_bytes = b'{"by_group":[' + b",".join(groups) + b"]"
    if rest:
        metrics_bytes += b"," + json_bytes(rest)[1:-1]
    metrics_bytes += b"}"
    head_bytes = json_bytes(head)[:-1]
    return head_bytes + b',"metrics":' + metrics_bytes + b',"analysis":' + json_bytes(report) + b"}"


def _build(head: JSON, cached: tuple[JSON, JSON] | None) -> tuple[JSON, JSON, bytes]:
    """Compute (if not cached) metrics and analysis, and encode the whole body."""
    config = head["config"]
    if cached is None:
        timelines = generate_metrics(config)
        report = generate_analysis(config, timelines, str(head.get("prompt") or ""))
    else:
        timelines, report = cached
    return timelines, report, encode_results(head, timelines, report)


async def results_body(state: EmulatorState, simulation: SimulationRecord) -> bytes:
    """Return the JSON body of a finished simulation's results (the caller checked it is).

    Parameters
    ----------
    state
        The store.
    simulation
        A simulation in COMPLETED_ANALYSIS.

    Returns
    -------
    bytes
        The encoded SimulationResults.
    """
    head = results_head(state, simulation, state.clock())
    config = head["config"]
    cache = simulation.content_cache
    cached = (cache[1], cache[2]) if cache is not None and cache[0] is config else None
    timelines, report, body = await run_in_threadpool(_build, head, cached)
    if simulation.config is config:
        simulation.content_cache = (config, timelines, report)
    return body
