"""The issue's "done when", on the demo: the German officer's AMBER alert reaches the EU analyst (inbox, e-mail,
signed webhook) and the subscribed partner node fr-node (over TAXII, then the subscriber on that node's own inbox),
and the GREEN-only partner's collections hold nothing of it. Node A is the demo node (seeded, credentials made),
served by uvicorn on loopback; node B, fr-node, has its own database. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from taxii2client.v21 import Server, as_pages

from tnrwatch.services import accounts, demo, demo_sharing, federation, partners, subscriptions, worker
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store.models import Account, Alert, Incident
from tnrwatch.taxonomy import default_taxonomy
from tnrwatch.web.app import create_app

from ..receivers import Mailbox, WebhookReceiver, smtp_server, webhook_receiver
from ..web.conftest import serving

OPERATOR = Principal.operator()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def demo_node(settings: Settings, mailbox: Mailbox) -> Iterator[Node]:
    opened = Node.open(
        settings.model_copy(
            update={"smtp_host": mailbox.host, "smtp_port": mailbox.port, "smtp_from": "alerts@demo.example"}
        ),
        default_taxonomy(),
    )
    yield opened
    opened.close()


@pytest.fixture
def fr_node(tmp_path: Path, second_database_url: str) -> Iterator[Node]:
    settings = Settings(home=tmp_path / "fr", database_url=second_database_url, node_name="fr-node", worker="off")
    opened = Node.open(settings, default_taxonomy())
    yield opened
    opened.close()


def _principal(node: Node, username: str) -> Principal:
    with node.store.reading() as session:
        account = session.scalar(select(Account).where(Account.username == username))
    assert account is not None
    return Principal(account.id, account.username, account.role, account.jurisdiction_code)


def _report_ids(url: str, partner: str, token: str) -> set[str]:
    root = Server(f"{url}/taxii2/", user=partner, password=token).api_roots[0]
    seen = set()
    for collection in root.collections:
        if collection.can_read:
            for envelope in as_pages(collection.get_objects, per_request=200):
                seen |= {o["id"] for o in envelope.get("objects", []) if o["type"] in ("report", "grouping")}
    return seen


def _incident_count(url: str, partner: str, token: str) -> int:
    root = Server(f"{url}/taxii2/", user=partner, password=token).api_roots[0]
    community = next(c for c in root.collections if c.title == "Community")
    return sum(
        sum(1 for o in envelope.get("objects", []) if o["type"] == "incident")
        for envelope in as_pages(community.get_objects, per_request=500)
    )


def test_the_demo_alert_reaches_the_eu_analyst_and_the_amber_partner_but_not_the_green_one(
    demo_node: Node, fr_node: Node, mailbox: Mailbox
) -> None:
    demo.seed_demo(demo_node, OPERATOR, 400, seed=1)
    demo.demo_staff(demo_node, OPERATOR)
    receiver: WebhookReceiver
    with webhook_receiver() as receiver:
        analyst = _principal(demo_node, "analyst.eu")
        created = subscriptions.create_subscription(
            demo_node,
            analyst,
            {
                "name": "Alerts, every channel",
                "filter": {"topics": ["alert"]},
                "email": "eu-desk@demo.example",
                "webhook_url": receiver.endpoint("eu"),
            },
        )
        receiver.endpoints["/eu"].secret = created.webhook_secret or ""
        sharing = demo_sharing.demo_sharing(demo_node, OPERATOR)
        assert sharing.alert_id is not None
        again = demo_sharing.demo_sharing(demo_node, OPERATOR)  # a second `make demo`: the same alert
        assert again.alert_id == sharing.alert_id
        worker.run_once(demo_node)
        hooked = [a for a in receiver.arrivals if a.path == "/eu"]

    inbox = subscriptions.list_inbox(demo_node, analyst)
    assert [(i.topic, i.subject_id) for i in inbox] == [("alert", sharing.alert_id)]
    assert [(a.body["subject_id"], a.body["tlp"], a.signed) for a in hooked] == [(str(sharing.alert_id), "amber", True)]
    assert [rcpt for rcpt, _ in mailbox.messages] == [["eu-desk@demo.example"]]
    assert "Uzbek" not in mailbox.messages[0][1].as_string()  # AMBER: no title or summary by e-mail

    fr_subscriber = _fr_subscriber(fr_node)
    with serving(create_app(demo_node.settings, demo_node)) as url:
        partners.add_partner(fr_node, OPERATOR, "demo-node", "amber", taxii_url=f"{url}/taxii2/api/")
        federation.set_pull_token(fr_node, "demo-node", sharing.tokens["fr-node"])
        pulled = federation.sync_partner(fr_node, "demo-node")
        assert pulled.failed == 0, [c.failed for c in pulled.collections]
        green = _report_ids(url, "ngo-green", sharing.tokens["ngo-green"])
        community = _incident_count(url, "ngo-green", sharing.tokens["ngo-green"])
        amber = _report_ids(url, "fr-node", sharing.tokens["fr-node"])
    with demo_node.store.reading() as session:
        demo_alert = session.scalar(select(Alert).where(Alert.uuid == sharing.alert_id))
    assert demo_alert is not None
    assert (demo_alert.tlp, demo_alert.status) == ("amber", "published")
    assert len(amber) == 1
    assert not green & amber
    with demo_node.store.reading() as session:  # the seeded GREEN and CLEAR incidents of the node, masked
        expected = session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(Incident.tlp.in_(["clear", "green"]), Incident.jurisdiction_code.is_(None))
        )
    assert community == expected
    assert community > 0

    worker.run_once(fr_node)
    received = subscriptions.list_inbox(fr_node, fr_subscriber)
    assert [i.topic for i in received] == ["alert"]


def _fr_subscriber(node: Node) -> Principal:
    accounts.add_account(node, OPERATOR, "fr-analyst", "analyst")
    principal = accounts.authenticate(node, accounts.create_token(node, OPERATOR, "fr-analyst").token)
    subscriptions.create_subscription(node, principal, {"name": "Alerts", "filter": {"topics": ["alert"]}})
    return principal
