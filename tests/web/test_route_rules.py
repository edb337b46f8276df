"""Every route of the application has a rule here, read from the application's own route table: a new route without
one fails. The rules are then driven: API routes refuse requests without a token and refuse each role the policy does
not allow; staff pages refuse roles without the permission and answer a Member State's officer about another's
report as if it did not exist. Both databases."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tnrwatch.services import accounts, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import PERMISSIONS, ROLES, Principal
from tnrwatch.services.reports import Intake

from .test_staff_pages import (
    PASSWORD,
    TOTP_SECRETS,
    client,
    csrf_of,
    intake,
    make_officer,
    settings,
    submit_report,
)
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
    ("GET", "/api/v1/map"): "api:incident:read",
    ("GET", "/api/v1/alerts"): "api:alert:read",
    ("POST", "/api/v1/alerts"): "api:alert:write",
    ("GET", "/api/v1/alerts/{alert_id}"): "api:alert:read",
    ("POST", "/api/v1/alerts/{alert_id}/publish"): "api:alert:write",
    ("POST", "/api/v1/alerts/{alert_id}/withdraw"): "api:alert:write",
    ("POST", "/api/v1/alerts/{alert_id}/comments"): "api:alert:read",
    ("GET", "/api/v1/subscriptions"): "api:subscription:manage",
    ("POST", "/api/v1/subscriptions"): "api:subscription:manage",
    ("GET", "/api/v1/subscriptions/{subscription_id}"): "api:subscription:manage",
    ("DELETE", "/api/v1/subscriptions/{subscription_id}"): "api:subscription:manage",
    ("GET", "/api/v1/inbox"): "api:subscription:manage",
    ("POST", "/api/v1/inbox/{item_id}/read"): "api:subscription:manage",
    ("GET", "/api/v1/deliveries"): "api:subscription:manage",
    ("POST", "/api/v1/incidents"): "api:incident:write",
    ("GET", "/api/v1/incidents/{incident_id}"): "api:incident:read",
    ("PATCH", "/api/v1/incidents/{incident_id}"): "api:incident:write",
    ("GET", "/api/v1/incidents/{incident_id}/sharing"): "api:incident:read",
    ("GET", "/api/v1/indicators"): "api:incident:read",
    ("GET", "/api/v1/notices"): "api:notice:read",
    ("POST", "/api/v1/notices"): "api:notice:write",
    ("GET", "/api/v1/notices/{notice_id}"): "api:notice:read",
    ("POST", "/api/v1/notices/{notice_id}/decision"): "api:notice:write",
    ("GET", "/api/v1/notices/{notice_id}/screening"): "api:notice:read",
    ("PUT", "/api/v1/incidents/{incident_id}/sharing"): "api:incident:write",
    ("GET", "/api/v1/persons"): "api:person:read",
    ("POST", "/api/v1/persons"): "api:person:write",
    ("GET", "/api/v1/persons/{person_id}"): "api:person:read",
    ("GET", "/api/v1/persons/{person_id}/identity-shares"): "api:person:identity",
    ("POST", "/api/v1/persons/{person_id}/identity-shares"): "api:person:identity",
    ("POST", "/api/v1/identity-shares/{share_id}/revoke"): "api:person:identity",
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
    ("GET", "/app/audit"): "staff:audit:read",
    ("GET", "/app/map"): "staff:incident:read",
    ("GET", "/app/api/map"): "staff:incident:read",
    ("GET", "/app/map/incidents.csv"): "staff:incident:read",
    ("GET", "/app/map/incidents.geojson"): "staff:incident:read",
    ("GET", "/app/monitoring"): "staff:incident:read",
    ("GET", "/app/states"): "staff:incident:read",
    ("GET", "/app/states/{code}"): "staff:incident:read",
    ("GET", "/app/reports/{report_id}"): "staff:report:read",
    ("GET", "/app/api/reports/{report_id}"): "staff:report:read",
    ("GET", "/app/api/reports/{report_id}/attachments/{attachment_id}"): "staff:report:read",
    ("POST", "/app/reports/{report_id}/status"): "staff:case:work",
    ("POST", "/app/reports/{report_id}/assign"): "staff:case:work",
    ("POST", "/app/reports/{report_id}/referrals"): "staff:case:work",
    ("POST", "/app/api/reports/{report_id}/referrals"): "staff:case:work",
    ("POST", "/app/api/reports/{report_id}/messages"): "staff:report:reply",
    ("POST", "/app/api/keys"): "staff:key:manage_own",
    ("GET", "/app/api/reports/{report_id}/evidence"): "staff:report:read",
    ("POST", "/app/api/reports/{report_id}/evidence"): "staff:case:work",
    ("POST", "/app/api/reports/{report_id}/evidence/attachments"): "staff:case:work",
    ("GET", "/app/api/reports/{report_id}/evidence/{item_id}/file"): "staff:report:read",
    ("POST", "/app/api/reports/{report_id}/evidence/{item_id}/viewed"): "staff:report:read",
    ("POST", "/app/api/reports/{report_id}/evidence/{item_id}/transfers"): "staff:case:work",
    ("GET", "/app/reports/{report_id}/incidents/new"): "staff:case:work",
    ("POST", "/app/reports/{report_id}/incidents"): "staff:case:work",
    ("POST", "/app/reports/{report_id}/incidents/link"): "staff:case:work",
    ("GET", "/app/incidents/{incident_id}"): "staff:incident:read",
    ("GET", "/app/notices"): "staff:notice:read",
    ("GET", "/app/notices/new"): "staff:notice:write",
    ("POST", "/app/notices"): "staff:notice:write",
    ("GET", "/app/notices/{notice_id}"): "staff:notice:read",
    ("GET", "/app/notices/{notice_id}/sheet.pdf"): "staff:notice:read",
    ("POST", "/app/notices/{notice_id}/decision"): "staff:notice:write",
    ("POST", "/app/incidents/{incident_id}/sharing"): "staff:incident:write",
    ("GET", "/app/api/reports/{report_id}/notes"): "staff:report:read",
    ("POST", "/app/api/reports/{report_id}/notes"): "staff:case:work",
    ("POST", "/app/api/reports/{report_id}/tasks"): "staff:case:work",
    ("POST", "/app/api/reports/{report_id}/tasks/{task_id}"): "staff:case:work",
    ("POST", "/app/api/reports/{report_id}/tasks/{task_id}/assignee"): "staff:case:work",
    ("GET", "/app/notifications"): "staff",
    ("POST", "/app/notifications/read"): "staff",
    ("GET", "/app/alerts"): "staff:alert:read",
    ("GET", "/app/alerts/new"): "staff:alert:write",
    ("POST", "/app/alerts"): "staff:alert:write",
    ("POST", "/app/alerts/proposals"): "staff:alert:write",
    ("GET", "/app/alerts/{alert_id}"): "staff:alert:read",
    ("GET", "/app/alerts/{alert_id}/publish"): "staff:alert:write",
    ("POST", "/app/alerts/{alert_id}/publish"): "staff:alert:write",
    ("POST", "/app/alerts/{alert_id}/withdraw"): "staff:alert:write",
    ("POST", "/app/alerts/{alert_id}/comments"): "staff:alert:read",
    ("GET", "/app/inbox"): "staff:subscription:manage",
    ("POST", "/app/inbox/read"): "staff:subscription:manage",
    ("POST", "/app/inbox/{item_id}/read"): "staff:subscription:manage",
    ("GET", "/app/subscriptions"): "staff:subscription:manage",
    ("POST", "/app/subscriptions"): "staff:subscription:manage",
    ("POST", "/app/subscriptions/{subscription_id}/remove"): "staff:subscription:manage",
    ("GET", "/app/deliveries"): "staff:subscription:manage",
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
    for name in (
        "report_id",
        "attachment_id",
        "incident_id",
        "person_id",
        "actor_id",
        "task_id",
        "item_id",
        "alert_id",
        "share_id",
        "subscription_id",
        "notice_id",
    ):
        path = path.replace("{" + name + "}", values.get(name, str(uuid.uuid4())))
    return path.replace("{code}", "DE")


def test_every_route_has_a_rule(client: TestClient) -> None:
    found = set(routes(client.app))  # type: ignore[arg-type]  # TestClient.app is the FastAPI application
    assert found - set(RULES) == set(), "routes without a rule: add them to RULES"
    assert set(RULES) - found == set(), "rules for routes that no longer exist"
    for rule in RULES.values():
        if rule.startswith(("api:", "staff:")):
            assert rule.split(":", 1)[1] in PERMISSIONS, rule


# The query a GET route needs to answer at all (without it: 422 for every role).
REQUIRED_QUERIES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/indicators"): "?value=example.com",
}


def test_api_routes_refuse_a_missing_token_and_every_role_the_policy_refuses(client: TestClient, node: Node) -> None:
    tokens = {}
    for role in ROLES:
        accounts.add_account(node, Principal.operator(), f"user-{role}", role)
        token = accounts.create_token(node, Principal.operator(), f"user-{role}").token
        tokens[role] = {"Authorization": f"Bearer {token}"}
    for (method, path), rule in RULES.items():
        if not rule.startswith("api"):
            continue
        url = filled(path) + REQUIRED_QUERIES.get((method, path), "")
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
            elif "{incident_id}" in path:
                assert status == 404, (path, role)  # no incident has the made-up id
            elif "{alert_id}" in path:
                assert status == 404, (path, role)  # no alert has the made-up id
            elif "{notice_id}" in path:
                assert status == 404, (path, role)  # no notice has the made-up id
            else:
                assert status == 200, (path, role)


def route_objects(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    """(method, path, route) of every route with a dependant (the static files mount has none)."""

    def walk(items: list[Any]) -> Iterator[tuple[str, str, APIRoute]]:
        for item in items:
            if hasattr(item, "original_router"):
                yield from walk(item.original_router.routes)
            elif isinstance(item, APIRoute):
                for method in sorted(set(item.methods or ()) - {"HEAD"}):
                    yield method, item.path, item

    yield from walk(app.router.routes)


def declared_permissions(route: APIRoute) -> set[str]:
    """The permissions a route's dependencies check (`permits` / `staff_permits`), however deep."""
    found: set[str] = set()

    def walk(dependant: Any) -> None:
        for sub in dependant.dependencies:
            permission = getattr(sub.call, "permission", None)
            if permission is not None:
                found.add(permission)
            walk(sub)

    walk(route.dependant)
    return found


def test_every_route_checks_the_permission_its_rule_names(client: TestClient) -> None:
    """The rule table is not only read by this test: each route declares the same permission as a dependency, so
    the policy refuses a role before the route reads a byte of the body."""
    for method, path, route in route_objects(client.app):  # type: ignore[arg-type]  # the FastAPI application
        rule = RULES[(method, path)]
        expected = {rule.split(":", 1)[1]} if rule.startswith(("api:", "staff:")) else set()
        assert declared_permissions(route) == expected, (method, path)


def signed_in_with_token(
    client: TestClient, node: Node, username: str, role: str, jurisdiction: str | None
) -> tuple[str, str]:
    """A new account signed in on `client` (its cookie replaces any other), with a write-scope API token: the token
    and the pages' CSRF token."""
    accounts.add_account(node, Principal.operator(), username, role, jurisdiction=jurisdiction)
    token = accounts.create_token(node, Principal.operator(), username, scope="write").token
    enrolment = staff_auth.set_password(node, Principal.operator(), username, PASSWORD)
    assert enrolment is not None
    TOTP_SECRETS[username] = enrolment.secret
    client.cookies.clear()
    assert staff_sign_in(client, username).status_code == 303
    return token, csrf_of(client.get("/app/keys"))


def test_writes_refuse_every_role_the_policy_refuses(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    german = submit_report(intake, "DE")
    writes = [(key, rule) for key, rule in RULES.items() if key[0] != "GET" and rule.startswith(("api:", "staff:"))]
    for role in ROLES:
        jurisdiction = "FR" if role in ("officer", "supervisor") else None
        username = f"writer-{role}"
        token, csrf = signed_in_with_token(client, node, username, role, jurisdiction)
        for (method, path), rule in writes:
            permission = rule.split(":", 1)[1]
            url = filled(path, report_id=str(german.id))
            if rule.startswith("api:"):
                response = client.request(method, url, json={}, headers={"Authorization": f"Bearer {token}"})
            elif path.startswith("/app/api/"):
                response = client.request(method, url, json={}, headers={"X-CSRF-Token": csrf})
            else:
                response = client.request(method, url, data={"csrf_token": csrf}, follow_redirects=False)
            if role not in PERMISSIONS[permission]:
                assert response.status_code == 403, (method, path, role)
            else:
                # The policy lets the role through to the route (what it may then do to which record is the next
                # test's and the services' tests' concern).
                assert response.status_code != 403, (method, path, role, response.text[:200])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


SHA = "0" * 64
# A well-formed request for every write route that names another jurisdiction's record: the body passes validation,
# so only the jurisdiction check stands between a foreign focal point and the record. A new such route without an
# entry here fails the test below.
FOREIGN_WRITES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/app/reports/{report_id}/status"): {"data": {"status": "acknowledged"}},
    ("POST", "/app/reports/{report_id}/assign"): {"data": {"username": ""}},
    ("POST", "/app/reports/{report_id}/referrals"): {"data": {"kind": "police"}},
    ("POST", "/app/api/reports/{report_id}/referrals"): {"json": {"to_jurisdiction": "FR", "sealed_keys": []}},
    ("POST", "/app/api/reports/{report_id}/messages"): {
        "json": {"message_id": str(uuid.uuid4()), "ciphertext": _b64(bytes(1064))}
    },
    ("POST", "/app/api/reports/{report_id}/notes"): {
        "json": {"id": str(uuid.uuid4()), "ciphertext": _b64(bytes(1064))}
    },
    ("POST", "/app/api/reports/{report_id}/tasks"): {"json": {"id": str(uuid.uuid4()), "title": _b64(bytes(1064))}},
    ("POST", "/app/api/reports/{report_id}/tasks/{task_id}"): {"json": {"done": True}},
    ("POST", "/app/api/reports/{report_id}/tasks/{task_id}/assignee"): {"json": {"assignee": None}},
    ("POST", "/app/api/reports/{report_id}/evidence/attachments"): {
        "json": {
            "item_id": str(uuid.uuid4()),
            "attachment_id": str(uuid.uuid4()),
            "sha256": SHA,
            "size": 10,
            "meta": _b64(bytes(1064)),
        }
    },
    ("POST", "/app/api/reports/{report_id}/evidence"): {
        "params": {"item_id": str(uuid.uuid4()), "kind": "document", "sha256": SHA, "size": 10, "meta": _b64(b"m")},
        "content": b"ciphertext",
    },
    ("POST", "/app/api/reports/{report_id}/evidence/{item_id}/viewed"): {"json": {"sha256": SHA}},
    ("POST", "/app/api/reports/{report_id}/evidence/{item_id}/transfers"): {"json": {"recipient": "a court"}},
    ("POST", "/app/reports/{report_id}/incidents"): {"data": {"title": "Copied", "confirm": "yes"}},
    ("POST", "/app/reports/{report_id}/incidents/link"): {"data": {"incident_id": "{incident_id}"}},
    ("POST", "/app/incidents/{incident_id}/sharing"): {"data": {"shared_with_eu": "yes"}},
    ("PATCH", "/api/v1/incidents/{incident_id}"): {"json": {"title": "Changed by another focal point"}},
    ("PUT", "/api/v1/incidents/{incident_id}/sharing"): {"json": {"shared_with_eu": True}},
}


def test_a_foreign_focal_point_writes_nothing_by_any_route(client: TestClient, node: Node, intake: Intake) -> None:
    """France's officers and supervisors, with well-formed requests, against Germany's report and incident: 404 on
    every write route, and the audit log, which records every change, gains no change."""
    from tnrwatch.services import incidents
    from tnrwatch.store.models import AuditEntry

    from ..factories import incident_data

    make_officer(node, "olga", "DE")
    german = submit_report(intake, "DE")
    german_officer = Principal(None, "olga", "officer", "DE")
    incident = incidents.create_incident(node, german_officer, incident_data(tlp="amber")).id
    targeted = {
        key
        for key, rule in RULES.items()
        if key[0] != "GET"
        and rule.startswith(("api:", "staff:"))
        and ("{report_id}" in key[1] or "{incident_id}" in key[1])
    }
    assert targeted - set(FOREIGN_WRITES) == set(), "add a well-formed request for these routes to FOREIGN_WRITES"
    for role in ("officer", "supervisor"):
        username = f"foreign-{role}"
        token, csrf = signed_in_with_token(client, node, username, role, "FR")
        with node.store.reading() as session:
            changes_before = session.scalar(select(func.count()).where(AuditEntry.action != "read"))
        for (method, path), sample in FOREIGN_WRITES.items():
            url = filled(path, report_id=str(german.id), incident_id=str(incident))
            request = dict(sample)
            if "data" in request:
                form = {**request["data"], "csrf_token": csrf}
                request["data"] = {name: value.replace("{incident_id}", str(incident)) for name, value in form.items()}
            api = path.startswith("/api/")
            headers = {"Authorization": f"Bearer {token}"} if api else {"X-CSRF-Token": csrf}
            response = client.request(method, url, headers=headers, follow_redirects=False, **request)
            assert response.status_code == 404, (method, path, role, response.status_code, response.text[:300])
        with node.store.reading() as session:
            assert session.scalar(select(func.count()).where(AuditEntry.action != "read")) == changes_before
