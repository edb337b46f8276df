"""Every route of the application has a rule here, read from the application's own route table: a new route without
one fails. The rules are then driven: API routes refuse requests without a token and refuse each role the policy does
not allow; staff pages refuse roles without the permission and answer a Member State's officer about another's
report as if it did not exist. Both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tnrwatch.services import accounts, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import PERMISSIONS, ROLES, Principal
from tnrwatch.services.reports import Intake

from .test_staff_pages import PASSWORD, TOTP_SECRETS, client, intake, make_officer, settings, submit_report
from .test_staff_pages import sign_in as staff_sign_in

__all__ = ["client", "intake", "settings"]  # fixtures (an https client: the staff cookie is Secure), used by name

PUBLIC = "public"  # the reporter's zone and the node's own pages: no account
SESSIONLESS = "sign-in"  # the staff sign-in and sign-out forms

# (method, path) -> who may call it: PUBLIC, SESSIONLESS, "api" (any token), "api:<permission>",
# "staff" (any signed-in account) or "staff:<permission>".
RULES: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/report"): PUBLIC,
    ("GET", "/report/plain"): PUBLIC,
    ("POST", "/report/plain"): PUBLIC,
    ("POST", "/follow-up/plain"): PUBLIC,
    ("POST", "/follow-up/plain/message"): PUBLIC,
    ("POST", "/report/api/reports"): PUBLIC,
    ("GET", "/report/api/challenge"): PUBLIC,
    ("GET", "/report/api/jurisdictions/{code}"): PUBLIC,
    ("POST", "/report/api/uploads"): PUBLIC,
    ("GET", "/report/api/uploads/{attachment_id}"): PUBLIC,
    ("PUT", "/report/api/uploads/{attachment_id}"): PUBLIC,
    ("GET", "/follow-up"): PUBLIC,
    ("POST", "/follow-up/api/thread"): PUBLIC,
    ("POST", "/follow-up/api/messages"): PUBLIC,
    ("POST", "/follow-up/api/attachment"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/api/v1/docs"): PUBLIC,
    ("GET", "/api/v1/status"): "api",
    ("GET", "/api/v1/taxonomy"): "api:taxonomy:read",
    ("GET", "/api/v1/incidents"): "api:incident:read",
    ("GET", "/api/v1/incidents.geojson"): "api:incident:read",
    ("POST", "/api/v1/incidents"): "api:incident:write",
    ("GET", "/api/v1/incidents/{incident_id}"): "api:incident:read",
    ("PATCH", "/api/v1/incidents/{incident_id}"): "api:incident:write",
    ("GET", "/api/v1/persons"): "api:person:read",
    ("POST", "/api/v1/persons"): "api:person:write",
    ("GET", "/api/v1/persons/{person_id}"): "api:person:read",
    ("GET", "/api/v1/actors"): "api:actor:read",
    ("POST", "/api/v1/actors"): "api:actor:write",
    ("GET", "/api/v1/actors/{actor_id}"): "api:actor:read",
    ("PATCH", "/api/v1/actors/{actor_id}"): "api:actor:write",
    ("GET", "/api/v1/audit"): "api:audit:read",
    ("GET", "/app/sign-in"): SESSIONLESS,
    ("POST", "/app/sign-in"): SESSIONLESS,
    ("POST", "/app/sign-out"): SESSIONLESS,
    ("POST", "/app/sign-out-everywhere"): "staff",
    ("GET", "/app"): "staff",
    ("GET", "/app/reports"): "staff",
    ("GET", "/app/keys"): "staff",
    ("GET", "/app/dashboard"): "staff:case:supervise",
    ("GET", "/app/reports/{report_id}"): "staff:report:read",
    ("GET", "/app/api/reports/{report_id}"): "staff:report:read",
    ("GET", "/app/api/reports/{report_id}/attachments/{attachment_id}"): "staff:report:read",
    ("POST", "/app/reports/{report_id}/status"): "staff:case:work",
    ("POST", "/app/reports/{report_id}/assign"): "staff:case:work",
    ("POST", "/app/reports/{report_id}/referrals"): "staff:case:work",
    ("POST", "/app/api/reports/{report_id}/referrals"): "staff:case:work",
    ("POST", "/app/api/reports/{report_id}/messages"): "staff:report:reply",
    ("POST", "/app/api/keys"): "staff:key:manage_own",
}


def routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, walking included routers as the application holds them."""

    def walk(items: list[Any]) -> Iterator[tuple[str, str]]:
        for item in items:
            if hasattr(item, "original_router"):
                yield from walk(item.original_router.routes)
            elif isinstance(item, APIRoute) or hasattr(item, "methods"):
                for method in sorted(set(item.methods or ()) - {"HEAD"}):
                    yield method, item.path

    yield from walk(app.router.routes)


def filled(path: str, **values: str) -> str:
    for name in ("report_id", "attachment_id", "incident_id", "person_id", "actor_id"):
        path = path.replace("{" + name + "}", values.get(name, str(uuid.uuid4())))
    return path.replace("{code}", "DE")


def test_every_route_has_a_rule(client: TestClient) -> None:
    found = set(routes(client.app))  # type: ignore[arg-type]  # TestClient.app is the FastAPI application
    assert found - set(RULES) == set(), "routes without a rule: add them to RULES"
    assert set(RULES) - found == set(), "rules for routes that no longer exist"
    for rule in RULES.values():
        if rule.startswith(("api:", "staff:")):
            assert rule.split(":", 1)[1] in PERMISSIONS, rule


def test_api_routes_refuse_a_missing_token_and_every_role_the_policy_refuses(client: TestClient, node: Node) -> None:
    tokens = {}
    for role in ROLES:
        accounts.add_account(node, Principal.operator(), f"user-{role}", role)
        token = accounts.create_token(node, Principal.operator(), f"user-{role}").token
        tokens[role] = {"Authorization": f"Bearer {token}"}
    for (method, path), rule in RULES.items():
        if not rule.startswith("api"):
            continue
        url = filled(path)
        assert client.request(method, url, json={}).status_code == 401, (method, path)
        if method != "GET":
            continue  # a write's body is read before the handler's permission check: the services' tests cover them
        permission = rule.partition(":")[2]
        for role, headers in tokens.items():
            status = client.request(method, url, headers=headers).status_code
            if permission and role not in PERMISSIONS[permission]:
                assert status == 403, (method, path, role)
            else:
                assert status in (200, 404), (method, path, role)


def test_staff_routes_by_role_and_across_member_states(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    german = submit_report(intake, "DE")
    for role in ROLES:
        jurisdiction = "FR" if role in ("officer", "supervisor") else None
        accounts.add_account(node, Principal.operator(), f"staff-{role}", role, jurisdiction=jurisdiction)
        enrolment = staff_auth.set_password(node, Principal.operator(), f"staff-{role}", PASSWORD)
        assert enrolment is not None
        TOTP_SECRETS[f"staff-{role}"] = enrolment.secret
    for role in ROLES:
        client.cookies.clear()
        assert staff_sign_in(client, f"staff-{role}").status_code == 303
        for (method, path), rule in RULES.items():
            if not rule.startswith("staff") or method != "GET" or path == "/app":
                continue  # "/app" is /app/reports under a shorter name
            url = filled(path, report_id=str(german.id))
            status = client.get(url, follow_redirects=False).status_code
            permission = rule.partition(":")[2]
            if permission and role not in PERMISSIONS[permission]:
                assert status == 403, (path, role)
            elif "{report_id}" in path:
                assert status == 404, (path, role)  # France's officers: Germany's report does not exist for them
            else:
                assert status == 200, (path, role)
