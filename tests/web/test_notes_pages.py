"""Notes and tasks through the case page's JSON, and the notifications page: ciphertext in and out, CSRF on every
write, 404 for another Member State on every route, the task list's clear fields, the nav bar's unread badge and
"mark all read". Both databases."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tnrwatch.crypto import envelope
from tnrwatch.services import case_notes
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake
from tnrwatch.store.models import Account

from .test_case_pages import form_token, make_supervisor, sign_in, words
from .test_staff_pages import client, csrf_of, intake, make_officer, settings, submit_report

__all__ = ["client", "intake", "settings"]  # fixtures, used by name

NOTE = "NOTE-CANARY-91c2 the brother was seen at the consulate"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sealed(kind: str, report_id: uuid.UUID, item: uuid.UUID, text: str, key: bytes) -> str:
    document = {"v": 1, "kind": kind, "text": text}
    return b64(envelope.encrypt_document(document, key, envelope.context(kind, report_id, str(item))))


def opened(kind: str, report_id: uuid.UUID, item: str, ciphertext: str, key: bytes) -> Any:
    context = envelope.context(kind, report_id, item)
    return envelope.decrypt_document(base64.b64decode(ciphertext), key, context)["text"]


def principal_of(node: Node, username: str) -> Principal:
    with node.store.reading() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        assert account is not None
        return Principal(account.id, account.username, account.role, account.jurisdiction_code)


def test_notes_and_tasks_go_in_and_out_as_ciphertext(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "petra", "DE")
    report = submit_report(intake, "DE")
    sign_in(client, "olga")
    page = client.get(f"/app/reports/{report.id}")
    assert 'id="case-notes"' in page.text
    assert '<script src="/static/staff-notes.js" defer></script>' in page.text
    assert '<option value="petra">petra</option>' in page.text  # who a task may be given to
    headers = {"X-CSRF-Token": csrf_of(page)}
    api = f"/app/api/reports/{report.id}"

    note_id = uuid.uuid4()
    body = {"id": str(note_id), "ciphertext": sealed("note", report.id, note_id, NOTE, report.key)}
    assert client.post(f"{api}/notes", json=body).status_code == 403  # no CSRF token
    added = client.post(f"{api}/notes", json=body, headers=headers)
    assert added.status_code == 201, added.text
    assert client.post(f"{api}/notes", json=body, headers=headers).status_code == 409  # append-only
    bad = client.post(f"{api}/notes", json={"id": str(uuid.uuid4()), "ciphertext": b64(NOTE.encode())}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"][-1] == "ciphertext"

    task_id = uuid.uuid4()
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    task = {
        "id": str(task_id),
        "title": sealed("task", report.id, task_id, "call the liaison", report.key),
        "assignee": "petra",
        "due_on": yesterday,
    }
    assert client.post(f"{api}/tasks", json=task, headers=headers).status_code == 201
    assert (
        client.post(
            f"{api}/tasks", json={**task, "id": str(uuid.uuid4()), "assignee": "zed"}, headers=headers
        ).status_code
        == 422
    )

    listed = client.get(f"{api}/notes").json()
    (note,) = listed["notes"]
    assert (note["author"], opened("note", report.id, note["id"], note["ciphertext"], report.key)) == ("olga", NOTE)
    (item,) = listed["tasks"]
    assert (item["assignee"], item["due_on"], item["overdue"], item["done"]) == ("petra", yesterday, True, False)
    assert opened("task", report.id, item["id"], item["title"], report.key) == "call the liaison"
    assert listed["writable"] is True
    assert NOTE not in str(listed)

    marked = client.post(f"{api}/tasks/{task_id}", json={"done": True}, headers=headers)
    assert marked.status_code == 200
    assert (marked.json()["done"], marked.json()["marked_by"], marked.json()["overdue"]) == (True, "olga", False)
    assert client.post(f"{api}/tasks/{uuid.uuid4()}", json={"done": True}, headers=headers).status_code == 404


def test_another_member_state_gets_not_found_on_every_notes_route(
    client: TestClient, node: Node, intake: Intake
) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    report = submit_report(intake, "DE")
    sign_in(client, "olga")
    headers = {"X-CSRF-Token": csrf_of(client.get(f"/app/reports/{report.id}"))}
    task_id = uuid.uuid4()
    title = sealed("task", report.id, task_id, "x", report.key)
    api = f"/app/api/reports/{report.id}"
    assert client.post(f"{api}/tasks", json={"id": str(task_id), "title": title}, headers=headers).status_code == 201

    client.cookies.clear()
    sign_in(client, "fabien")
    headers = {"X-CSRF-Token": csrf_of(client.get("/app/keys"))}
    note_id = uuid.uuid4()
    attempts = [
        ("GET", f"{api}/notes", None),
        (
            "POST",
            f"{api}/notes",
            {"id": str(note_id), "ciphertext": sealed("note", report.id, note_id, "x", report.key)},
        ),
        ("POST", f"{api}/tasks", {"id": str(uuid.uuid4()), "title": title}),
        ("POST", f"{api}/tasks/{task_id}", {"done": True}),
    ]
    for method, path, body in attempts:
        answer = client.request(method, path, json=body, headers=headers)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["error"] == "no such report in your jurisdiction"


def test_the_nav_badge_counts_unread_and_the_page_lists_and_marks_them_read(
    client: TestClient, node: Node, intake: Intake
) -> None:
    make_officer(node, "olga", "DE")
    make_supervisor(node, "sabine", "DE")
    first = submit_report(intake, "DE")
    # Olga gives Sabine a task (through the service: a TOTP code is good once, so each test signs in one account).
    task_id = uuid.uuid4()
    title = base64.b64decode(sealed("task", first.id, task_id, "x", first.key))
    case_notes.add_task(node, principal_of(node, "olga"), first.id, task_id, title, assignee="sabine")
    sign_in(client, "sabine")
    for path in ("/app/reports", "/app/keys", "/app/dashboard", f"/app/reports/{first.id}"):
        text = client.get(path).text
        badge = re.search(r'<span class="staff-badge">(\d+)<span class="visually-hidden"> unread</span>', text)
        assert badge is not None, path
        assert badge.group(1) == "1"
    page = words(client, "/app/notifications")
    assert "Task given to you" in page
    assert f'href="/app/reports/{first.id}"' in page
    assert "1 unread" in page

    token = form_token(client, "/app/notifications")
    assert client.post("/app/notifications/read", data={}).status_code == 403  # no CSRF token
    done = client.post("/app/notifications/read", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    after = client.get("/app/notifications").text
    assert "staff-badge" not in after
    assert "Mark all read" not in after
    assert "Task given to you" in after  # still listed, as read
    assert "<strong>New</strong>" not in after


def test_an_account_without_notifications_sees_an_empty_page_and_no_badge(
    client: TestClient, node: Node, intake: Intake
) -> None:
    make_officer(node, "olga", "DE")
    submit_report(intake, "DE")  # not urgent: nobody is told
    sign_in(client, "olga")
    assert "staff-badge" not in client.get("/app/reports").text
    assert "No notifications." in words(client, "/app/notifications")
