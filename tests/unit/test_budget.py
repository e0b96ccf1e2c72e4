"""The rate budget spaces sends so what is left lasts to the reset; a 429 holds everyone."""

from __future__ import annotations

from twyn_widgets.models import RateLimit
from twyn_widgets.polling._budget import RateBudget


def observe(budget: RateBudget, seen: RateLimit | None, now: float) -> None:
    """Feed ``X-RateLimit-*`` values as the poller does (its clock is the epoch here)."""
    if seen is None:
        budget.observe(None, None, now)
    else:
        budget.observe(seen.remaining, seen.seconds_to_reset(now), now)


def test_no_headers_means_no_pacing() -> None:
    budget = RateBudget()
    assert budget.take(100.0)
    assert budget.take(100.0)


def test_sends_are_spaced_by_time_to_reset_over_remaining() -> None:
    budget = RateBudget()
    observe(budget, RateLimit(limit=1000, remaining=100, reset=1200.0), now=1000.0)
    assert budget.gap == 2.0
    assert budget.take(1000.0)
    assert not budget.take(1001.0)
    assert budget.earliest(1001.0) == 1002.0
    assert budget.take(1002.0)


def test_spent_budget_pauses_until_the_reset() -> None:
    budget = RateBudget()
    observe(budget, RateLimit(limit=10, remaining=0, reset=1060.0), now=1000.0)
    assert not budget.take(1059.0)
    assert budget.earliest(1000.0) == 1060.0
    assert budget.take(1060.0)


def test_a_429_pauses_every_send_for_its_retry_after() -> None:
    budget = RateBudget()
    budget.pause(45.0, now=1000.0)
    assert budget.paused_until == 1045.0
    assert not budget.take(1044.9)
    assert budget.take(1045.0)


def test_pacing_never_exceeds_the_budget_over_a_window() -> None:
    """Greedy sends against a fake clock: never more than the remaining count before reset."""
    budget = RateBudget()
    remaining, reset, now, sent = 50, 3600.0, 0.0, 0
    while now < reset:
        observe(budget, RateLimit(1000, remaining, reset), now)
        if budget.take(now):
            sent += 1
            remaining -= 1
        now = budget.earliest(now) if budget.earliest(now) > now else now + 0.5
    assert sent <= 50
    assert sent >= 49


def test_an_urgent_send_skips_the_spacing_but_not_a_429_pause() -> None:
    budget = RateBudget()
    observe(budget, RateLimit(limit=1000, remaining=100, reset=1200.0), now=1000.0)
    assert budget.take(1000.0)
    assert not budget.take(1000.5)
    assert budget.take(1000.5, urgent=True)
    budget.pause(30.0, now=1001.0)
    assert not budget.take(1002.0, urgent=True)


def test_extra_sweep_pages_go_now_and_push_the_next_poll() -> None:
    budget = RateBudget()
    observe(budget, RateLimit(limit=1000, remaining=100, reset=1200.0), now=1000.0)
    assert budget.take(1000.0)
    assert budget.extra(1000.0)  # page two of the same sweep
    assert budget.earliest(1000.0) == 1004.0


def test_no_rate_limit_seen_changes_nothing() -> None:
    budget = RateBudget()
    observe(budget, None, now=1000.0)
    observe(budget, RateLimit(limit=10, remaining=None, reset=1060.0), now=1000.0)
    assert budget.gap == 0.0
    assert budget.earliest(1000.0) == 1000.0


def test_no_reset_time_means_no_spacing() -> None:
    budget = RateBudget()
    observe(budget, RateLimit(limit=10, remaining=5, reset=1010.0), now=1000.0)
    assert budget.gap == 2.0
    observe(budget, RateLimit(limit=10, remaining=5, reset=None), now=1000.0)
    assert budget.gap == 0.0


def test_the_last_request_left_is_spaced_not_paused() -> None:
    budget = RateBudget()
    observe(budget, RateLimit(limit=10, remaining=1, reset=1030.0), now=1000.0)
    assert budget.gap == 30.0
    assert budget.paused_until == 0.0
    observe(budget, RateLimit(limit=10, remaining=0, reset=1030.0), now=1000.0)
    assert budget.gap == 0.0
    assert budget.paused_until == 1030.0


def test_a_pause_without_a_wait_lasts_the_default_and_ends_on_time() -> None:
    budget = RateBudget()
    budget.pause(None, now=1000.0)
    assert budget.paused_until == 1001.0
    budget.pause(None, now=1000.0, default=3.0)
    assert budget.paused_until == 1003.0
    assert not budget.extra(1002.9)
    assert budget.extra(1003.0)  # a sweep's next page too goes as the pause ends
    assert budget.take(1003.0, urgent=True)
    assert budget.take(1003.0)


def test_urgent_sends_skip_the_spacing_but_never_go_back_in_time() -> None:
    budget = RateBudget()
    observe(budget, RateLimit(limit=100, remaining=10, reset=1100.0), now=1000.0)
    assert budget.take(1000.0)
    assert budget.earliest(1001.0) == 1010.0
    assert budget.earliest(1001.0, urgent=True) == 1001.0
    assert budget.take(1001.0, urgent=True)
    assert budget.earliest(1001.0) == 1010.0  # an urgent send took no slot


def test_an_extra_page_pushes_the_next_poll_back_one_gap() -> None:
    budget = RateBudget()
    observe(budget, RateLimit(limit=100, remaining=10, reset=1100.0), now=1000.0)
    assert budget.take(1000.0)
    assert budget.extra(1001.0)
    assert budget.earliest(1001.0) == 1020.0
