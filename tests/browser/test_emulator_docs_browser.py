"""The emulator's /docs page in a real browser with no network: Swagger UI renders the API.

Every request that does not go to the emulator on loopback is aborted and recorded, so the
page can only work if the emulator serves all it needs, and the test shows it asked for
nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Route

from twyn_widgets.emulator import Emulator, start

pytestmark = pytest.mark.browser


@pytest.fixture
def docs_emulator() -> Iterator[Emulator]:
    with start(speed=60.0) as emulator:
        yield emulator


def test_docs_page_works_offline(browser: Browser, docs_emulator: Emulator) -> None:
    local = urlsplit(docs_emulator.root_url).netloc
    blocked: list[str] = []
    served: list[str] = []

    def only_local(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == local:
            served.append(url)
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context = browser.new_context()
    try:
        context.route("**/*", only_local)
        page = context.new_page()
        page.goto(f"{docs_emulator.root_url}/docs")
        page.locator(".swagger-ui .info .title").wait_for(timeout=20_000)
        title = page.locator(".swagger-ui .info .title").inner_text()
        assert "Twyn API (local emulator)" in title
        results = page.locator(".opblock-summary-path", has_text="/v1/simulations/{id}/results")
        results.first.wait_for(timeout=20_000)
        operations = page.locator(".opblock").count()
        assert operations == 18
        assert page.locator(".opblock-summary-path", has_text="/_emulator").count() == 0
        assert any(url.endswith("/openapi.json") for url in served)
        assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url in served)
        assert blocked == []
    finally:
        context.close()
