"""/api/v1/subscriptions, /api/v1/inbox and /api/v1/deliveries over HTTP: an account subscribes, is told through its
inbox, reads its delivery log, and never sees another account's; errors in the one shape, named by field. And the
server's embedded worker delivers while the app runs and stops with it. Both databases."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from tnrwatch.services import incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.worker import run_once
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app

from ..factories import incident_data
from .test_api_alerts import token_for


def test_subscribe_hear_and_read_the_log(client: TestClient, node: Node) -> None:
    ana = token_for(node, "ana", "analyst")
    eve = token_for(node, "eve", "analyst")
    created = client.post(
        "/api/v1/subscriptions",
        json={
            "name": "Abductions",
            "filter": {"tactics": ["abduction"]},
            "webhook_url": "https://127.0.0.1:9/never-reached",
        },
        headers=ana,
    )
    assert created.status_code == 201, created.text
    made = created.json()
    assert len(made["webhook_secret"]) >= 40
    assert made["filter"]["tactics"] == ["abduction"]
    listed = client.get("/api/v1/subscriptions", headers=ana).json()
    assert [s["id"] for s in listed] == [made["id"]]
    assert listed[0]["webhook_secret"] is None
    url = f"/api/v1/subscriptions/{made['id']}"
    assert client.get(url, headers=ana).json()["name"] == "Abductions"
    assert client.get(url, headers=eve).status_code == 404
    assert client.delete(url, headers=eve).status_code == 404
    assert client.get("/api/v1/subscriptions", headers=eve).json() == []

    incident = incidents.create_incident(node, Principal.operator(), incident_data())
    run_once(node)
    inbox = client.get("/api/v1/inbox", headers=ana).json()
    assert [(i["topic"], i["event"], i["subject_id"], i["read_at"]) for i in inbox] == [
        ("incident", "created", str(incident.id), None)
    ]
    assert client.get("/api/v1/inbox", headers=eve).json() == []
    item = f"/api/v1/inbox/{inbox[0]['id']}/read"
    assert client.post(item, headers=eve).status_code == 404
    assert client.post(item, headers=ana).json()["read_at"] is not None
    assert client.get("/api/v1/inbox?unread=true", headers=ana).json() == []

    log = client.get("/api/v1/deliveries", headers=ana).json()
    assert sorted((d["channel"], d["status"]) for d in log) == [("inbox", "sent"), ("webhook", "pending")]
    webhook = next(d for d in log if d["channel"] == "webhook")
    assert webhook["attempts"] == 1
    assert webhook["last_error"]  # an error class, nothing the receiver said
    assert webhook["next_attempt_at"] is not None
    assert set(webhook) == {
        "id",
        "subscription_id",
        "subscription_name",
        "channel",
        "topic",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    }
    assert [d["channel"] for d in client.get("/api/v1/deliveries?status=sent", headers=ana).json()] == ["inbox"]
    assert client.get("/api/v1/deliveries", headers=eve).json() == []

    removed = client.delete(url, headers=ana)
    assert removed.status_code == 200
    assert removed.json()["active"] is False
    assert client.get("/api/v1/deliveries?status=pending", headers=ana).json() == []  # dropped with it
    assert client.get("/api/v1/subscriptions?include_removed=true", headers=ana).json()[0]["active"] is False


def test_bad_subscriptions_are_refused_field_by_field(client: TestClient, node: Node) -> None:
    ana = token_for(node, "ana", "analyst")
    bad = client.post(
        "/api/v1/subscriptions",
        json={
            "name": "x",
            "filter": {"origins": ["ZZ"], "levels": ["severe"]},
            "email": "desk@example.org",
            "webhook_url": "javascript:alert(1)",
        },
        headers=ana,
    )
    assert bad.status_code == 422
    body = bad.json()
    assert body["ok"] is False
    assert {tuple(error["loc"][-3:]) for error in body["errors"]} >= {
        ("filter", "origins", 0),
        ("filter", "levels", 0),
    }
    assert {error["loc"][-1] for error in body["errors"]} >= {"webhook_url"}
    no_mail = client.post("/api/v1/subscriptions", json={"name": "x", "email": "desk@example.org"}, headers=ana)
    assert no_mail.status_code == 422
    assert no_mail.json()["errors"][0]["loc"] == ["email"]
    assert client.get("/api/v1/inbox?colour=red", headers=ana).status_code == 422  # unknown parameters
    auditor = token_for(node, "audrey", "auditor")
    assert client.get("/api/v1/subscriptions", headers=auditor).status_code == 403


def test_the_embedded_worker_delivers_while_the_server_runs(settings: Settings, node: Node) -> None:
    own = settings.model_copy(update={"scheduled_minutes": 0, "map_copy": False, "worker_poll_seconds": 0.2})
    ana = token_for(node, "ana", "analyst")
    with TestClient(create_app(own)) as served:  # the app opens its own node and starts its worker
        assert served.post("/api/v1/subscriptions", json={"name": "everything"}, headers=ana).status_code == 201
        incident = incidents.create_incident(node, Principal.operator(), incident_data())
        deadline = time.monotonic() + 10
        while not (inbox := served.get("/api/v1/inbox", headers=ana).json()):
            assert time.monotonic() < deadline, "the embedded worker delivered nothing"
            time.sleep(0.05)
        assert inbox[0]["subject_id"] == str(incident.id)
    assert not [t for t in threading.enumerate() if t.name == "tnrwatch delivery worker"]  # stopped with the app

    with TestClient(create_app(own.model_copy(update={"worker": "off"}))) as served:
        assert not [t for t in threading.enumerate() if t.name == "tnrwatch delivery worker"]
