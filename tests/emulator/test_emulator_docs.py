"""The API documents and /docs: only /v1 in /openapi.json, the control API apart, no CDN."""

from __future__ import annotations

import re

import requests

from twyn_widgets.emulator import Emulator

from .conftest import control

API_PATHS = {
    "/v1/simulations",
    "/v1/simulations/with-config",
    "/v1/simulations/{id}",
    "/v1/simulations/{id}/results",
    "/v1/simulations/{id}/config",
    "/v1/simulations/{id}/architect",
    "/v1/scenarios",
    "/v1/scenarios/{id}",
    "/v1/keys",
    "/v1/keys/{key_id}",
}
RATE_HEADERS = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}


def _operations(spec: dict) -> list[tuple[str, str, dict]]:  # type: ignore[type-arg]
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def test_openapi_describes_only_the_v1_api(server: Emulator) -> None:
    spec = requests.get(f"{server.root_url}/openapi.json", timeout=10).json()
    assert spec["info"]["title"] == "Twyn API (local emulator)"
    assert set(spec["paths"]) == API_PATHS
    assert {tag["name"] for tag in spec["tags"]} == {"simulations", "scenarios", "keys"}


def test_every_operation_declares_401_429_and_the_rate_limit_headers(server: Emulator) -> None:
    spec = requests.get(f"{server.root_url}/openapi.json", timeout=10).json()
    operations = _operations(spec)
    assert len(operations) == 18
    for path, method, operation in operations:
        responses = operation["responses"]
        assert {"401", "429"} <= set(responses), (path, method)
        assert responses["429"]["content"]["application/json"]["schema"]["required"] == [
            "error",
            "message",
            "retry_after",
        ]
        for code, response in responses.items():
            headers = set(response.get("headers", {}))
            if code == "401":
                assert not headers & RATE_HEADERS, (path, method)
            else:
                assert headers == RATE_HEADERS, (path, method, code)
        has_input = "requestBody" in operation or bool(operation.get("parameters"))
        assert ("422" in responses) == has_input, (path, method)
        assert ("413" in responses) == ("requestBody" in operation), (path, method)


def test_the_conflicts_are_documented_where_they_happen(server: Emulator) -> None:
    paths = requests.get(f"{server.root_url}/openapi.json", timeout=10).json()["paths"]
    for path, method in (
        ("/v1/simulations/{id}/results", "get"),
        ("/v1/simulations/{id}/config", "get"),
        ("/v1/simulations/{id}/config", "put"),
        ("/v1/simulations/{id}/architect", "post"),
    ):
        assert "409" in paths[path][method]["responses"], (path, method)


def test_repeated_tag_is_documented_as_refused(server: Emulator) -> None:
    paths = requests.get(f"{server.root_url}/openapi.json", timeout=10).json()["paths"]
    tag = next(p for p in paths["/v1/simulations"]["get"]["parameters"] if p["name"] == "tag")
    assert "at most once" in tag["description"]


def test_the_control_api_has_its_own_document(server: Emulator) -> None:
    assert requests.get(f"{server.root_url}/_emulator/openapi.json", timeout=10).status_code == 403
    spec = control(server, "GET", "openapi.json").json()
    assert spec["paths"]
    assert all(path.startswith("/_emulator/") for path in spec["paths"])
    assert "/_emulator/faults" in spec["paths"]
    assert "/_emulator/keys/enable" in spec["paths"]
    scheme = spec["components"]["securitySchemes"]["controlToken"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "X-Emulator-Token"}
    assert spec["security"] == [{"controlToken": []}]


def test_docs_page_loads_its_assets_from_the_emulator_only(server: Emulator) -> None:
    page = requests.get(f"{server.root_url}/docs", timeout=10)
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert urls
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "http://" not in page.text
    assert "https://" not in page.text
    for url in urls:
        asset = requests.get(f"{server.root_url}{url}", timeout=10)
        assert asset.status_code == 200, url
        assert len(asset.content) > 500, url
    assert requests.get(f"{server.root_url}/docs/assets/../../openapi.json", timeout=10).ok
    assert requests.get(f"{server.root_url}/docs/assets/secrets.txt", timeout=10).status_code == 404
    assert requests.get(f"{server.root_url}/redoc", timeout=10).status_code == 404
