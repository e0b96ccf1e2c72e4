"""The Analyst's report as HTML: markdown rendered, its markup shown as text, folded by default."""

from __future__ import annotations

import pytest

from twyn_widgets import _render

HOSTILE = (
    "# Findings\n\n"
    "| segment | churn |\n|---|---|\n| SMB | 4% |\n\n"
    '<script>window.__twynXss = true</script>\n\n<img src=x onerror="alert(1)">\n\n'
    "[click](javascript:alert(1)) ![pixel](https://tracker.example/p.png)\n"
)


def test_markdown_is_rendered_folded_under_full_report() -> None:
    out = _render.report_html(HOSTILE)
    assert out.startswith('<details class="twyn-report"')
    assert "<details open" not in out  # folded until the reader opens it
    assert "<summary><b>Full report</b></summary>" in out
    assert "<h1>Findings</h1>" in out
    assert "<td>SMB</td>" in out  # tables are on


def test_raw_html_in_a_report_shows_as_text_and_nothing_can_run_or_fetch() -> None:
    out = _render.report_html(HOSTILE)
    assert "<script" not in out
    assert "&lt;script&gt;window.__twynXss = true&lt;/script&gt;" in out
    assert "<img" not in out  # neither the raw tag nor the markdown image
    assert 'href="javascript:' not in out


def test_without_markdown_it_the_report_is_escaped_preformatted_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_render, "_markdown_renderer", lambda: None)
    out = _render.report_html(HOSTILE)
    assert "<pre" in out
    assert "<script" not in out
    assert "&lt;script&gt;" in out
    assert "<h1>" not in out


def test_an_empty_report_shows_nothing() -> None:
    assert _render.report_html("  \n") == ""
