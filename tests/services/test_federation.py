"""Two nodes end to end, each with its own database, node A served by uvicorn on loopback: an AMBER alert published
on A for partner B is pulled by B with the OASIS client, imported once, and reaches B's subscriber through B's
worker; a GREEN-only partner reading A's collections never sees it; a second sync takes nothing twice; the cursor
survives. Both databases (B on the same backend as A)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from taxii2client.v21 import Server, as_pages

from tnrwatch.errors import ConflictError, NotFoundError
from tnrwatch.services import accounts, alerts, federation, incidents, partners, subscriptions, worker
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store.models import Alert, PartnerCursor
from tnrwatch.taxonomy import default_taxonomy
from tnrwatch.web.app import create_app

from ..factories import incident_data
from ..web.conftest import serving

OPERATOR = Principal.operator()


@pytest.fixture
def node_b(tmp_path: Path, second_database_url: str) -> Iterator[Node]:
    settings = Settings(
        home=tmp_path / "node-b",
        database_url=second_database_url,
        sqlite_synchronous="NORMAL",
        node_name="node-b",
        worker="off",
        scheduled_minutes=0,
    )
    opened = Node.open(settings, default_taxonomy())
    yield opened
    opened.close()


def _staff(node: Node, username: str, role: str, jurisdiction: str | None = None) -> Principal:
    accounts.add_account(node, OPERATOR, username, role, jurisdiction=jurisdiction)
    return accounts.authenticate(node, accounts.create_token(node, OPERATOR, username).token)


def _published_alert(node: Node, tlp: str, audience: list[dict[str, str]]) -> uuid.UUID:
    officer = _staff(node, f"officer-{tlp}", "officer", "DE")
    incident = incidents.create_incident(node, officer, incident_data(tlp=tlp))
    draft = alerts.create_alert(
        node,
        officer,
        {
            "title": "Forced returns from Germany",
            "summary": "Three deportations in a week.",
            "level": "urgent",
            "tlp": tlp,
            "audience": audience,
            "incident_ids": [str(incident.id)],
        },
    )
    return alerts.publish_alert(node, officer, draft.id).id


def _objects_seen_by(url: str, partner: str, token: str) -> set[str]:
    root = Server(f"{url}/taxii2/", user=partner, password=token).api_roots[0]
    seen: set[str] = set()
    for collection in root.collections:
        if collection.can_read:
            for envelope in as_pages(collection.get_objects, per_request=100):
                seen.update(obj["id"] for obj in envelope.get("objects", []))
    return seen


def test_an_alert_published_on_one_node_reaches_a_subscriber_on_another(
    settings: Settings, node: Node, node_b: Node
) -> None:
    node_a = node
    analyst_b = _staff(node_b, "bea", "analyst")
    subscriptions.create_subscription(node_b, analyst_b, {"name": "Urgent alerts", "filter": {"levels": ["urgent"]}})

    with serving(create_app(settings, node_a)) as url_a, serving(create_app(node_b.settings, node_b)) as url_b:
        # Each operator registers the other once: its address to pull from, and a token for it to pull with.
        partners.add_partner(node_a, OPERATOR, "node-b", "amber", taxii_url=f"{url_b}/taxii2/api/")
        partners.add_partner(node_a, OPERATOR, "ngo-green", "green")
        partners.add_partner(node_b, OPERATOR, "node-a", "amber", taxii_url=f"{url_a}/taxii2/api/")
        token_b = partners.create_token(node_a, OPERATOR, "node-b").token
        token_green = partners.create_token(node_a, OPERATOR, "ngo-green").token
        federation.set_pull_token(node_b, "node-a", token_b)
        federation.set_pull_token(node_a, "node-b", partners.create_token(node_b, OPERATOR, "node-a").token)

        alert_uuid = _published_alert(node_a, "amber", [{"kind": "eu"}, {"kind": "partner", "value": "node-b"}])

        first = federation.sync_partner(node_b, "node-a")
        assert first.failed == 0, [c.failed for c in first.collections]
        assert first.added > 0
        again = federation.sync_partner(node_b, "node-a")
        assert again.added == 0  # the cursor: nothing new since

        green_sees = _objects_seen_by(url_a, "ngo-green", token_green)
        b_sees = _objects_seen_by(url_a, "node-b", token_b)
        report_ids = {i for i in b_sees if i.startswith(("report--", "grouping--"))}
        assert len(report_ids) == 1
        assert not report_ids & green_sees  # AMBER: the GREEN-only partner never gets it
        assert not any(i.startswith(("report--", "grouping--", "incident--")) for i in green_sees)

        with node_b.store.reading() as session:
            received = session.scalars(select(Alert).where(Alert.source_partner == "node-a")).all()
            cursors = session.scalar(select(func.count()).select_from(PartnerCursor))
        assert [(a.status, a.tlp, a.level) for a in received] == [("published", "amber", "urgent")]
        assert received[0].stix_id == next(iter(report_ids))
        assert cursors

        worker.run_once(node_b)
        inbox = subscriptions.list_inbox(node_b, analyst_b)
        assert [(item.topic, item.event, item.subject_id) for item in inbox] == [
            ("alert", "published", received[0].uuid)
        ]

        # B's analyst corroborates; A pulls B's collections and reads the corroboration on its own alert.
        alerts.add_comment(
            node_b, analyst_b, received[0].uuid, {"kind": "corroboration", "text": "Two more returns seen here."}
        )
        back = federation.sync_partner(node_a, "node-b")
        assert back.failed == 0, [c.failed for c in back.collections]
    comments = alerts.get_alert(node_a, OPERATOR, alert_uuid).comments
    assert [(c.kind, c.text, c.author) for c in comments] == [
        ("corroboration", "Two more returns seen here.", "partner:node-b")
    ]


def test_a_sync_needs_an_address_a_token_and_a_known_partner(node_b: Node) -> None:
    with pytest.raises(NotFoundError):
        federation.sync_partner(node_b, "nobody")
    partners.add_partner(node_b, OPERATOR, "node-a", "amber")
    with pytest.raises(ConflictError, match="no TAXII address"):
        federation.sync_partner(node_b, "node-a")
    with pytest.raises(ConflictError, match="one word"):
        federation.set_pull_token(node_b, "node-a", "two words")
