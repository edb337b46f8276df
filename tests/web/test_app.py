"""The app as a whole: the home page, API docs without third parties, security headers, logs without addresses."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from tnrwatch.services.node import Node

from ..factories import incident_data
from .conftest import token_for

THIRD_PARTY = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.IGNORECASE)


def test_home_page_says_what_runs(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "tnrwatch" in page.text
    assert "/api/v1/docs" in page.text
    assert "/api/v1/openapi.json" in page.text
    assert "Synthetic data" not in page.text
    assert not THIRD_PARTY.search(page.text)
    assert "set-cookie" not in page.headers


def test_home_page_marks_synthetic_data(client: TestClient, node: Node) -> None:
    client.post("/api/v1/incidents", json=incident_data(synthetic=True), headers=token_for(node, "ana", "analyst"))
    assert "Synthetic data" in client.get("/").text


def test_api_docs_load_only_from_this_node(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in page.text
    assert not THIRD_PARTY.search(page.text)
    assert "<script>" not in page.text  # no inline script: the CSP forbids it
    assert client.get("/static/vendor/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200


def test_openapi_document_is_valid(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    validate(spec)
    assert "/api/v1/incidents" in spec["paths"]
    assert "/api/v1/incidents.geojson" in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "422"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, f"{method} {path} {status}"


@pytest.mark.parametrize("path", ["/", "/api/v1/incidents", "/api/v1/docs", "/static/tnrwatch.css"])
def test_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    if path.startswith("/api/"):
        assert headers["cache-control"] == "no-store"


def test_request_log_has_no_address_path_ids_or_query(
    client: TestClient, node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    headers = token_for(node, "ana", "analyst")
    created = client.post("/api/v1/incidents", json=incident_data(), headers=headers).json()
    with caplog.at_level(logging.INFO, logger="tnrwatch"):
        client.get(f"/api/v1/incidents/{created['id']}", headers=headers)
        client.get("/api/v1/incidents?q=Surname", headers=headers)
    assert "GET /api/v1/incidents/{incident_id} 200" in caplog.text
    assert created["id"] not in caplog.text
    assert "Surname" not in caplog.text
    assert "testclient" not in caplog.text
    assert "127.0.0.1" not in caplog.text
