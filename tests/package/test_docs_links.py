"""The README stays a first-time visitor's page, and no relative link of the docs is broken."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

README_MAX_LINES = 150
"""What a newcomer reads before the first command and the example; the rest lives in docs/."""

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)


def relative_links(markdown: str) -> list[str]:
    """The relative link targets of ``markdown`` (pictures too), anchors dropped.

    Code blocks are left out: what they hold is code, not links.
    """
    prose = FENCE.sub("", markdown)
    targets = INLINE.findall(prose) + REFERENCE.findall(prose)
    return [t.split("#", 1)[0] for t in targets if not EXTERNAL.match(t)]


def broken_links(page: Path) -> list[str]:
    """The relative links of ``page`` whose file does not exist, resolved from its folder."""
    return [
        target
        for target in relative_links(page.read_text(encoding="utf-8"))
        if not (page.parent / target).exists()
    ]


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_relative_links_are_found_and_external_ones_and_code_are_skipped() -> None:
    text = (
        "![a picture](docs/img/a.png) see [the guide](docs/guide.md#the-magic) and\n"
        "[Twyn](https://docs.twyn.it), [top](#top), [mail](mailto:x@example.com)\n"
        "```python\nx = d[k](v)  # [not](a-link.md)\n```\n"
        "[ref]: docs/ref.md\n"
    )
    assert relative_links(text) == ["docs/img/a.png", "docs/guide.md", "docs/ref.md"]


def test_a_missing_target_is_reported(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[ok](there.md) [gone](missing.md) [up](../nowhere/x.md)", encoding="utf-8")
    assert broken_links(page) == ["missing.md", "../nowhere/x.md"]


def test_every_relative_link_of_the_readme_and_docs_points_at_a_file() -> None:
    pages = _pages()
    assert len(pages) > 3  # docs/ was read at all
    links = {page.relative_to(ROOT): relative_links(page.read_text("utf-8")) for page in pages}
    assert sum(map(len, links.values())) > 20, links  # links were found at all
    broken = {str(page.relative_to(ROOT)): found for page in pages if (found := broken_links(page))}
    assert broken == {}


def test_readme_is_short_enough_for_a_first_visit() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
