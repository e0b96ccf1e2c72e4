"""The live views' ES module stays inert and self-contained: read from its source, no browser.

Server strings reach the page only as text (``textContent``), so no HTML sink may appear in
the module; nothing is evaluated from a string; nothing is imported (no CDN, no second file:
the module must work offline, in Voila and in a saved notebook's output frame).
"""

from __future__ import annotations

import re

import pytest

from twyn_widgets.widgets._views import ESM

FORBIDDEN = {
    "innerHTML": r"\binnerHTML\b",
    "outerHTML": r"\bouterHTML\b",
    "insertAdjacentHTML": r"\binsertAdjacentHTML\b",
    "document.write": r"\bdocument\s*\.\s*write(ln)?\b",
    "createContextualFragment": r"\bcreateContextualFragment\b",
    "DOMParser": r"\bDOMParser\b",
    "srcdoc": r"\bsrcdoc\b",
    "eval": r"\beval\s*\(",
    "new Function": r"\bnew\s+Function\b",
    "Function(...)": r"(?<![\w.])Function\s*\(",
    "string timer": r"\bset(Timeout|Interval)\s*\(\s*[\"'`]",
    "import()": r"\bimport\s*\(",
    "import statement": r"(^|[;{}])\s*import\b(?!\s*\()",
    "export ... from": r"\bexport\b[^;]*\bfrom\s*[\"'`]",
    "URL": r"https?://|//[\w-]+\.[\w.-]+/",
}


def strip_comments(source: str) -> str:
    """``source`` with its ``//`` and ``/* */`` comments blanked (strings and templates kept,
    so a forbidden word inside one still counts)."""
    out: list[str] = []
    i, n = 0, len(source)
    quote: str | None = None
    while i < n:
        ch = source[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(source[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = None
            i += 1
        elif ch in "\"'`":
            quote = ch
            out.append(ch)
            i += 1
        elif source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@pytest.fixture(scope="module")
def code() -> str:
    return strip_comments(ESM.read_text(encoding="utf-8"))


def test_comment_stripping_keeps_code_and_strings() -> None:
    stripped = strip_comments('a = "//x"; // innerHTML\n/* eval( */ b = `y`;')
    assert stripped == 'a = "//x"; \n  b = `y`;'


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_the_module_never_uses(code: str, name: str) -> None:
    hits = [
        f"line {code.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}"
        for m in re.finditer(FORBIDDEN[name], code, flags=re.MULTILINE)
    ]
    assert not hits, f"{ESM.name} uses {name}: {hits}"


def test_the_whole_file_names_no_url() -> None:
    # Comments included: a URL in a comment is a hint to fetch something.
    text = ESM.read_text(encoding="utf-8")
    assert not re.findall(r"https?://\S+", text)


def test_the_patterns_catch_what_they_forbid() -> None:
    samples = {
        "innerHTML": "el.innerHTML = s;",
        "outerHTML": "el.outerHTML = s;",
        "insertAdjacentHTML": "el.insertAdjacentHTML('beforeend', s);",
        "document.write": "document.write(s);",
        "createContextualFragment": "range.createContextualFragment(s);",
        "DOMParser": "new DOMParser();",
        "srcdoc": "frame.srcdoc = s;",
        "eval": "eval(s);",
        "new Function": "new Function(s)();",
        "Function(...)": "Function(s)();",
        "string timer": "setTimeout('go()', 5);",
        "import()": "await import('./x.js');",
        "import statement": '  import x from "./x.js";',
        "export ... from": 'export { y } from "./y.js";',
        "URL": "const u = 'https://cdn.example/x.js';",
    }
    assert samples.keys() == FORBIDDEN.keys()
    for name, sample in samples.items():
        assert re.search(FORBIDDEN[name], strip_comments(sample), flags=re.MULTILINE), name
    assert not re.search(FORBIDDEN["Function(...)"], "function f() {}; async function g() {}")
    assert not re.search(FORBIDDEN["import statement"], "const important = 1; // import x")
