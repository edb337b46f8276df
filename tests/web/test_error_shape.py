"""Every failure answers with one shape: {"ok": false, "status", "error", "errors": [{"loc", "msg"}]}."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tnrwatch.services.node import Node
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app

from ..factories import incident_data
from .conftest import token_for


def assert_error_shape(body: dict[str, Any], status: int) -> None:
    assert set(body) == {"ok", "status", "error", "errors"}
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str)
    assert body["error"]
    for item in body["errors"]:
        assert set(item) == {"loc", "msg"}
        assert isinstance(item["loc"], list)
        assert isinstance(item["msg"], str)


@pytest.mark.parametrize(
    ("method", "path", "body", "who", "status"),
    [
        ("GET", "/api/v1/incidents", None, None, 401),
        ("GET", "/api/v1/incidents", None, "auditor", 403),
        ("GET", "/api/v1/incidents/00000000-0000-4000-8000-000000000000", None, "analyst", 404),
        ("DELETE", "/api/v1/incidents", None, "analyst", 405),
        ("GET", "/no/such/page", None, None, 404),
        ("POST", "/api/v1/incidents", {"title": ""}, "analyst", 422),
        ("POST", "/api/v1/incidents", "not json", "analyst", 422),
        ("GET", "/api/v1/incidents?date_from=yesterday", None, "analyst", 422),
        ("GET", "/api/v1/incidents?tactic=nope", None, "analyst", 422),
        ("PATCH", "/api/v1/incidents/00000000-0000-4000-8000-000000000000", {"x": 1}, "analyst", 422),
    ],
)
def test_error_shape(
    client: TestClient, node: Node, method: str, path: str, body: Any, who: str | None, status: int
) -> None:
    headers = token_for(node, who, who) if who else {}
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, str) else {"json": body}
    answer = client.request(method, path, headers={**headers, "Content-Type": "application/json"}, **kwargs)
    assert answer.status_code == status, answer.text
    assert_error_shape(answer.json(), status)
    if status == 401:
        assert answer.headers["www-authenticate"] == "Bearer"


def test_conflict_and_precondition_share_the_shape(client: TestClient, node: Node) -> None:
    headers = token_for(node, "ana", "analyst")
    created = client.post("/api/v1/incidents", json=incident_data(), headers=headers).json()
    again = client.post("/api/v1/incidents", json=incident_data(id=created["id"]), headers=headers)
    assert_error_shape(again.json(), 409)
    stale = client.patch(
        f"/api/v1/incidents/{created['id']}", json={"tlp": "red"}, headers={**headers, "If-Match": "7"}
    )
    assert_error_shape(stale.json(), 412)


def test_unexpected_errors_answer_500_without_details(
    settings: Settings, node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, node)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("Name Surname leaked into an exception")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
    assert_error_shape(answer.json(), 500)
    assert "Surname" not in answer.text
    assert "Surname" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_every_api_route_requires_a_principal(client: TestClient) -> None:
    """Generated from the route table (the OpenAPI document lists every API route): a new route without
    authentication fails here."""
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert len(paths) >= 8
    for template, operations in paths.items():
        path = re.sub(r"\{[a-z_]+\}", "00000000-0000-4000-8000-000000000000", template)
        for method in operations:
            answer = client.request(method.upper(), path, json={})
            assert answer.status_code == 401, f"{method} {template} answered {answer.status_code} without a token"
            assert_error_shape(answer.json(), 401)
