"""The inbox, subscriptions and delivery log pages (/app/inbox, /app/subscriptions, /app/deliveries): subscribing by
form (every refused field named beside it), an alert published to the subscriber reaching its inbox through the real
delivery worker, read marks and the nav bar's count, an incident no longer readable no longer named, the webhook
secret shown once, a failing webhook receiver (a real HTTP server on loopback) in the delivery log without content,
and each account's pages its own. Both databases."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tnrwatch.domain.alert import AlertOut
from tnrwatch.services import alerts, incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.worker import run_once
from tnrwatch.settings import Settings
from tnrwatch.store.models import InboxItem, Subscription

from ..factories import incident_data
from .test_alert_pages import signed_in
from .test_case_pages import form_token, sign_in, words
from .test_coding_pages import field_error
from .test_incident_sharing_pages import make_analyst
from .test_staff_pages import client, make_officer

__all__ = ["client"]  # a fixture, used by name

GERMAN = Principal(None, "olga", "officer", "DE")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # The worker is run by the tests (run_once), so that what it has delivered is known when a page is read.
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        sqlite_synchronous="NORMAL",
        report_pow_bits=0,
        key_wrap_strength="interactive",
        worker="off",
    )


def published_alert(node: Node, title: str = "Forced returns to Uzbekistan", level: str = "urgent") -> AlertOut:
    alert = alerts.create_alert(
        node,
        GERMAN,
        {
            "title": title,
            "summary": "Three dissidents deported within a week.",
            "level": level,
            "tlp": "amber",
            "audience": [{"kind": "jurisdiction", "value": "FR"}],
        },
    )
    return alerts.publish_alert(node, GERMAN, alert.id)


def subscribe(client: TestClient, **fields: str | list[str]) -> str:
    token = form_token(client, "/app/subscriptions")
    form: dict[str, str | list[str]] = {"csrf_token": token, "name": "Alerts to France", "topics": ["alert"]}
    form.update(fields)
    response = client.post("/app/subscriptions", data=form, follow_redirects=False)
    assert response.status_code in (201, 303), response.text[:500]
    return response.text


def test_a_published_alert_reaches_the_subscribers_inbox(client: TestClient, node: Node) -> None:
    make_officer(node, "fabien", "FR")
    make_officer(node, "olga", "DE")
    as_ = signed_in(client, "fabien", "olga")
    as_("fabien")
    subscribe(client, levels=["urgent", "warning"], inbox="on")
    listed = words(client, "/app/subscriptions")
    assert "<h3>Alerts to France</h3>" in listed
    assert "<dt>What</dt><dd>Alerts</dd>" in listed
    assert "<dt>Alert levels</dt><dd>Urgent, Warning</dd>" in listed
    assert "<dt>Told by</dt> <dd>the inbox</dd>" in listed
    assert "Nothing yet." in words(client, "/app/inbox")

    first = published_alert(node)
    published_alert(node, "A calm note", level="information")  # a level the search leaves out
    run_once(node)
    inbox = words(client, "/app/inbox")
    assert f'<a href="/app/alerts/{first.id}">Forced returns to Uzbekistan</a>' in inbox
    assert "A calm note" not in inbox
    assert "Alert published" in inbox
    assert "1 unread" in inbox
    assert 'Inbox <span class="staff-badge">1<span class="visually-hidden"> unread</span></span>' in words(
        client, "/app/alerts"
    )  # the nav bar's count, on every page
    with node.store.reading() as session:
        [item_id] = session.scalars(select(InboxItem.id)).all()
    token = form_token(client, "/app/inbox")
    assert client.post(f"/app/inbox/{item_id}/read", data={}).status_code == 403  # no CSRF token

    as_("olga")  # another account's inbox item is not there for her
    assert "Nothing yet." in words(client, "/app/inbox")
    olga_token = form_token(client, "/app/inbox")
    assert client.post(f"/app/inbox/{item_id}/read", data={"csrf_token": olga_token}).status_code == 404

    as_("fabien")
    read = client.post(f"/app/inbox/{item_id}/read", data={"csrf_token": token}, follow_redirects=False)
    assert read.status_code == 303
    after = words(client, "/app/inbox")
    assert "staff-badge" not in after
    assert "Nothing unread." in words(client, "/app/inbox?unread=true")

    alerts.withdraw_alert(node, GERMAN, first.id)
    run_once(node)
    assert "Alert withdrawn" in words(client, "/app/inbox")
    marked = client.post("/app/inbox/read", data={"csrf_token": token}, follow_redirects=False)
    assert marked.status_code == 303
    assert "staff-badge" not in client.get("/app/inbox").text


def test_an_incident_no_longer_readable_is_no_longer_named(client: TestClient, node: Node) -> None:
    make_analyst(node, "ana")
    sign_in(client, "ana")
    subscribe(client, name="Abductions", topics=["incident"], tactics=["abduction"], inbox="on")
    incident = incidents.create_incident(
        node, GERMAN, incident_data(title="Abduction in Berlin", tactics=["abduction"])
    )
    incidents.share_with_eu(node, GERMAN, incident.id, True)
    run_once(node)
    assert f'<a href="/app/incidents/{incident.id}">Abduction in Berlin</a>' in client.get("/app/inbox").text
    incidents.share_with_eu(node, GERMAN, incident.id, False)  # Germany takes it back
    page = words(client, "/app/inbox")
    assert "Abduction in Berlin" not in page
    assert "an incident you may no longer read" in page


def test_every_refused_field_is_named_and_nothing_is_saved(client: TestClient, node: Node) -> None:
    make_officer(node, "fabien", "FR")
    sign_in(client, "fabien")
    page = client.get("/app/subscriptions").text
    assert "This node sends no e-mail" in page
    token = form_token(client, "/app/subscriptions")
    refused = client.post(
        "/app/subscriptions",
        data={"csrf_token": token, "name": "", "topics": ["alert"], "webhook_url": "ftp://hooks.example/x"},
    )
    assert refused.status_code == 422
    assert "The subscription was not saved" in refused.text
    assert field_error(refused.text, "name")
    assert field_error(refused.text, "webhook_url") == "a webhook address starts with https:// (or http://)"
    no_channel = client.post("/app/subscriptions", data={"csrf_token": token, "name": "Nowhere", "topics": ["alert"]})
    assert field_error(no_channel.text, "channels") == (
        "choose at least one channel: the inbox, an e-mail address or a webhook"
    )
    nothing = client.post("/app/subscriptions", data={"csrf_token": token, "name": "Nothing", "inbox": "on"})
    assert field_error(nothing.text, "topics")
    bad_code = client.post(
        "/app/subscriptions",
        data={"csrf_token": token, "name": "x", "inbox": "on", "topics": ["alert"], "origins": ["XX"]},
    )
    assert field_error(bad_code.text, "origins")
    mail = client.post(
        "/app/subscriptions",
        data={"csrf_token": token, "name": "x", "inbox": "on", "topics": ["alert"], "email": "desk@fp.example"},
    )
    assert "TNRWATCH_SMTP_HOST is not set" in field_error(mail.text, "email")
    assert client.post("/app/subscriptions", data={"name": "x", "inbox": "on"}).status_code == 403
    with node.store.reading() as session:
        assert session.scalars(select(Subscription)).all() == []


def test_the_webhook_secret_is_shown_once_and_a_subscription_is_removed_by_its_owner_only(
    client: TestClient, node: Node
) -> None:
    make_officer(node, "fabien", "FR")
    make_officer(node, "olga", "DE")
    as_ = signed_in(client, "fabien", "olga")
    as_("fabien")
    made = subscribe(client, name="To our desk", webhook_url="https://hooks.focal-point.example/tnr")
    with node.store.reading() as session:
        stored = session.scalars(select(Subscription)).one()
    assert stored.webhook_secret is not None
    assert f'<code class="staff-id" id="secret-value">{stored.webhook_secret}</code>' in made
    assert "shown <strong>only this once</strong>" in made
    again = client.get("/app/subscriptions").text
    assert stored.webhook_secret not in again
    assert "webhook to https://hooks.focal-point.example/tnr" in again

    as_("olga")
    assert "To our desk" not in client.get("/app/subscriptions").text
    olga_token = form_token(client, "/app/subscriptions")
    path = f"/app/subscriptions/{stored.uuid}/remove"
    assert client.post(path, data={"csrf_token": olga_token}).status_code == 404
    as_("fabien")
    token = form_token(client, "/app/subscriptions")
    assert client.post(path, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert "No subscription yet." in client.get("/app/subscriptions").text


class _Refusing(BaseHTTPRequestHandler):
    """A webhook receiver that is down for maintenance: 503 to every POST."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:  # no request lines in the test output
        pass


@pytest.fixture
def refusing_receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_the_delivery_log_shows_attempts_and_errors_never_content(
    client: TestClient, node: Node, refusing_receiver: str
) -> None:
    make_officer(node, "fabien", "FR")
    make_officer(node, "olga", "DE")
    as_ = signed_in(client, "fabien", "olga")
    as_("fabien")
    subscribe(client, name="Desk hook", webhook_url=refusing_receiver, inbox="on")
    published_alert(node)
    result = run_once(node)
    assert result.failed == 1
    log = words(client, "/app/deliveries")
    rows = re.findall(r'<tr(?: class="staff-overdue")?> <th scope="row">(.*?)</tr>', log)
    assert len(rows) == 2  # the inbox's, and the webhook's
    webhook = next(row for row in rows if "<td>Webhook</td>" in row)
    assert "Alert published</th> <td>Desk hook</td> <td>Webhook</td> <td>Waiting</td>" in webhook
    assert '<td class="staff-number">1</td>' in webhook  # one attempt so far
    assert "<code>HTTP 503</code>" in webhook
    assert re.search(r'<time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</time>', webhook)  # the next attempt
    inbox = next(row for row in rows if "<td>Inbox</td>" in row)
    assert "<td>Sent</td>" in inbox
    for content in ("Forced returns to Uzbekistan", "Three dissidents", refusing_receiver):
        assert content not in log  # what was said, and where to, stay out of the log
    assert "No delivery matches these filters." in words(client, "/app/deliveries?status=dead")
    assert "<td>Webhook</td>" in client.get("/app/deliveries?status=pending").text
    assert client.get("/app/deliveries?subscription=nonsense").status_code == 422

    as_("olga")
    assert "No delivery yet." in words(client, "/app/deliveries")
