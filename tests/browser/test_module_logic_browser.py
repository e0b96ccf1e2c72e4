"""The ES module's pure functions, run in Chromium and held against Python.

``duration`` must word a time exactly as the kernel's text face does
(:func:`twyn_widgets._humanize.duration`); ``interpolate`` must draw straight lines between the
kernel's anchors (and agree with :func:`twyn_widgets.widgets._viewstate.shown_at`, the kernel's
reading of what the browser shows); ``readout`` puts them together for one simulation.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from twyn_widgets._humanize import duration
from twyn_widgets.widgets._views import ESM
from twyn_widgets.widgets._viewstate import shown_at

pytestmark = pytest.mark.browser

Anchor = list[Any]


@pytest.fixture
def module_page(browser: Browser) -> Iterator[Page]:
    """A blank page with the module loaded and its pure functions on ``window.__twyn``."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><title>twyn module</title><body></body>")
    source = ESM.read_text(encoding="utf-8")
    page.add_script_tag(
        type="module", content=source + "\nwindow.__twyn = {duration, interpolate, readout};\n"
    )
    page.wait_for_function("() => window.__twyn !== undefined", timeout=5_000)
    yield page
    context.close()


def _js_number(value: float | None) -> Any:
    # Why strings: JSON carries no NaN or infinities; the page turns them back with Number().
    if value is None:
        return None
    return repr(value) if math.isnan(value) or math.isinf(value) else value


def test_duration_words_every_time_as_the_kernel_does(module_page: Page) -> None:
    rng = random.Random(17)
    values: list[float | None] = [
        *range(0, 4000),  # every second of the first hour, and past it
        *(60 * m + s for m in range(0, 130) for s in (0, 1, 59)),
        *(3600 * h + 60 * m for h in range(0, 50) for m in (0, 1, 59)),
        *(rng.uniform(0, 10 * 86400) for _ in range(2000)),
        *(rng.uniform(0, 120) for _ in range(500)),  # fractions of a second
        59.999, 60.0, 599.5, 600.0, 3599.9, 3600.0, 86399.9, 86400.0, 90061.0,
        -0.5, -30.0, None, math.nan, math.inf, -math.inf,
    ]  # fmt: skip
    got = module_page.evaluate(
        """(xs) => xs.map((x) =>
             window.__twyn.duration(typeof x === 'string' ? Number(x) : x))""",
        [_js_number(v) for v in values],
    )
    expected = [duration(v) for v in values]
    wrong = [(v, g, e) for v, g, e in zip(values, got, expected, strict=True) if g != e]
    assert not wrong, wrong[:20]
    assert len(got) > 6000


def _line(anchors: list[Anchor], t: float) -> dict[str, float | None]:
    """Straight lines between the anchors, held before the first and after the last."""
    if len(anchors) == 1 or t <= anchors[0][0]:
        return {"progress": anchors[0][1], "eta": anchors[0][2]}
    for (t0, p0, e0), (t1, p1, e1) in itertools.pairwise(anchors):
        if t <= t1:
            f = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
            eta = e1 if e0 is None or e1 is None else e0 + (e1 - e0) * f
            return {"progress": p0 + (p1 - p0) * f, "eta": eta}
    return {"progress": anchors[-1][1], "eta": anchors[-1][2]}


def _random_anchors(rng: random.Random) -> list[Anchor]:
    start = rng.uniform(1.7e9, 1.8e9)
    times = sorted(start + rng.uniform(0, 600) for _ in range(rng.randint(1, 7)))
    progress = sorted(round(rng.random(), 4) for _ in times)
    etas = [None if rng.random() < 0.15 else rng.uniform(0, 400) for _ in times]
    return [[t, p, e] for t, p, e in zip(times, progress, etas, strict=True)]


def test_interpolate_draws_straight_lines_between_the_anchors(module_page: Page) -> None:
    rng = random.Random(42)
    cases = []
    for _ in range(400):
        anchors = _random_anchors(rng)
        first, last = anchors[0][0], anchors[-1][0]
        times = [first - 5, first, last, last + 50, *(a[0] for a in anchors)]
        times += [rng.uniform(first - 10, last + 10) for _ in range(10)]
        cases += [(anchors, t) for t in times]
    got = module_page.evaluate(
        "(cases) => cases.map(([a, t]) => window.__twyn.interpolate(a, t))", cases
    )
    for (anchors, t), value in zip(cases, got, strict=True):
        want = _line(anchors, t)
        assert value["progress"] == pytest.approx(want["progress"], abs=1e-9), (anchors, t)
        if want["eta"] is None:
            assert value["eta"] is None, (anchors, t, value)
        else:
            assert value["eta"] == pytest.approx(want["eta"], abs=1e-6), (anchors, t)
        # The kernel reads the browser's bar the same way.
        assert shown_at(anchors, t) == pytest.approx(value["progress"], abs=1e-9), (anchors, t)
    assert module_page.evaluate("() => window.__twyn.interpolate([], 5)") == {
        "progress": 0,
        "eta": None,
    }


def test_readout_counts_elapsed_to_now_or_to_the_end_and_keeps_the_bar_in_range(
    module_page: Page,
) -> None:
    t0 = 1_750_000_000.0
    anchors = [[t0, 0.2, 100.0], [t0 + 100, 0.7, 0.0], [t0 + 200, 1.3, 0.0]]
    running = {"started": t0 - 30, "finished": None, "ended": False, "anchors": anchors}
    ended = {**running, "finished": t0 + 40, "ended": True}
    unstarted = {**running, "started": None}
    got = module_page.evaluate(
        """([sims, times]) => sims.map((sim, i) => window.__twyn.readout(sim, times[i]))""",
        [[running, running, ended, unstarted], [t0 + 50, t0 + 500, t0 + 90, t0 + 50]],
    )
    assert got[0] == {"progress": pytest.approx(0.45), "eta": pytest.approx(50.0), "elapsed": 80}
    assert got[1]["progress"] == 1  # held at the last anchor, and never past full
    assert got[2] == {"progress": pytest.approx(0.65), "eta": None, "elapsed": 70}
    assert got[3]["elapsed"] is None
