"""Subscriptions as their owner sees them: made, listed, read and removed by their own account only; every bad field
named; e-mail refused while the node has no mail relay; the webhook secret shown once; audited by field name only;
the inbox marked read by its owner. Both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tnrwatch.errors import ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import accounts, incidents, subscriptions
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.worker import run_once
from tnrwatch.settings import Settings
from tnrwatch.store.models import AuditEntry, Subscription

from ..factories import incident_data

HOOK = "https://hooks.focal-point.example/tnrwatch?channel=7"


def member(node: Node, username: str, role: str, jurisdiction: str | None = None) -> Principal:
    """A staff account and the principal its API token stands for."""
    accounts.add_account(node, Principal.operator(), username, role, jurisdiction=jurisdiction)
    return accounts.authenticate(node, accounts.create_token(node, Principal.operator(), username).token)


@pytest.fixture
def mailing_node(settings: Settings) -> Iterator[Node]:
    """The node with a mail relay configured (nothing listens there: these tests send nothing)."""
    opened = Node.open(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": 2525}))
    yield opened
    opened.close()


def test_own_subscriptions_only(node: Node) -> None:
    ana = member(node, "ana", "analyst")
    olga = member(node, "olga", "officer", "DE")
    made = subscriptions.create_subscription(
        node,
        ana,
        {
            "name": "Abductions from Uzbekistan",
            "filter": {"origins": ["uz"], "tactics": ["abduction"], "topics": ["incident"]},
            "webhook_url": HOOK,
        },
    )
    assert made.filter.origins == ["UZ"]  # codes normalised by the taxonomy
    assert made.inbox is True
    assert made.webhook_secret is not None
    assert len(made.webhook_secret) >= 40
    listed = subscriptions.list_subscriptions(node, ana)
    assert [s.id for s in listed] == [made.id]
    assert listed[0].webhook_secret is None  # shown once, when made
    assert subscriptions.get_subscription(node, ana, made.id).webhook_secret is None
    with node.store.reading() as session:
        stored = session.scalar(select(Subscription.webhook_secret).where(Subscription.uuid == made.id))
    assert stored == made.webhook_secret  # kept to sign with

    assert subscriptions.list_subscriptions(node, olga) == []
    for call in (subscriptions.get_subscription, subscriptions.remove_subscription):
        with pytest.raises(NotFoundError):
            call(node, olga, made.id)
    with pytest.raises(NotFoundError):
        subscriptions.get_subscription(node, ana, uuid.uuid4())

    removed = subscriptions.remove_subscription(node, ana, made.id)
    assert removed.active is False
    assert subscriptions.list_subscriptions(node, ana) == []
    assert [s.id for s in subscriptions.list_subscriptions(node, ana, include_removed=True)] == [made.id]
    assert subscriptions.remove_subscription(node, ana, made.id).active is False  # again: no change

    with node.store.reading() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "subscription")).all()
    assert [(e.action, e.username) for e in entries] == [("create", "ana"), ("remove", "ana")]
    assert entries[0].fields == sorted(["name", "filter", "webhook_url"])
    for entry in entries:  # field names only: no address, no filter value
        assert "hooks.focal-point" not in f"{entry.note} {entry.fields}"
        assert "UZ" not in f"{entry.note} {entry.fields}"


def test_who_may_subscribe(node: Node, operator: Principal) -> None:
    for role in ("officer", "supervisor", "analyst", "liaison"):
        jurisdiction = "FR" if role in ("officer", "supervisor") else None
        principal = member(node, f"user-{role}", role, jurisdiction)
        subscriptions.create_subscription(node, principal, {"name": "everything"})
    for role in ("auditor", "admin"):
        with pytest.raises(ForbiddenError):
            subscriptions.create_subscription(node, member(node, f"user-{role}", role), {"name": "everything"})
    with pytest.raises(ForbiddenError, match="staff accounts"):
        subscriptions.create_subscription(node, operator, {"name": "everything"})


def test_every_bad_field_is_named(node: Node) -> None:
    ana = member(node, "ana", "analyst")
    with pytest.raises(InvalidInputError) as refused:
        subscriptions.create_subscription(
            node,
            ana,
            {
                "name": "",
                "filter": {"origins": ["ZZ"], "tactics": ["tea"], "levels": ["severe"], "topics": [], "colour": "x"},
                "email": "not an address",
                "webhook_url": "ftp://hooks.example/x",
            },
        )
    assert {error.loc for error in refused.value.errors} == {
        ("name",),
        ("filter", "origins", 0),
        ("filter", "tactics", 0),
        ("filter", "levels", 0),
        ("filter", "topics"),
        ("filter", "colour"),
        ("email",),
        ("webhook_url",),
    }
    for url, words in (
        ("https://user:pass@hooks.example/x", "user name or password"),
        ("https:///x", "names a host"),
        ("https://hooks.example/x#part", "fragment"),
        ("https://hooks.example:99999/x", "port"),
        ("https://hooks.example/a b", "no spaces"),
    ):
        with pytest.raises(InvalidInputError) as bad:
            subscriptions.create_subscription(node, ana, {"name": "hook", "webhook_url": url})
        assert [(e.loc, words in e.msg) for e in bad.value.errors] == [(("webhook_url",), True)], url
    with pytest.raises(InvalidInputError) as silent:
        subscriptions.create_subscription(node, ana, {"name": "nowhere", "inbox": False})
    assert "at least one channel" in silent.value.errors[0].msg
    for address in ("desk@example.org\nBcc: x@example.org", "Desk <desk@example.org>", "a@b@example.org"):
        with pytest.raises(InvalidInputError):
            subscriptions.create_subscription(node, ana, {"name": "mail", "email": address})
    assert subscriptions.list_subscriptions(node, ana) == []


def test_email_needs_a_mail_relay(node: Node, mailing_node: Node) -> None:
    ana = member(node, "ana", "analyst")
    with pytest.raises(InvalidInputError) as refused:
        subscriptions.create_subscription(node, ana, {"name": "mail", "email": "desk@example.org"})
    assert refused.value.errors[0].loc == ("email",)
    assert "TNRWATCH_SMTP_HOST" in refused.value.errors[0].msg
    made = subscriptions.create_subscription(mailing_node, ana, {"name": "mail", "email": "desk@example.org"})
    assert made.email == "desk@example.org"
    assert made.webhook_secret is None  # no webhook, no secret


def test_the_inbox_is_its_owners(node: Node) -> None:
    ana = member(node, "ana", "analyst")
    eve = member(node, "eve", "analyst")
    subscriptions.create_subscription(node, ana, {"name": "everything"})
    first = incidents.create_incident(node, Principal.operator(), incident_data())
    second = incidents.create_incident(node, Principal.operator(), incident_data(title="Second"))
    run_once(node)
    items = subscriptions.list_inbox(node, ana)
    assert [(i.topic, i.event, i.subject_id) for i in items] == [
        ("incident", "created", second.id),  # newest first
        ("incident", "created", first.id),
    ]
    assert items[0].subscription_name == "everything"
    assert subscriptions.unread_count(node, ana) == 2
    assert [i.id for i in subscriptions.list_inbox(node, ana, before=items[0].id)] == [items[1].id]
    with pytest.raises(NotFoundError):
        subscriptions.mark_read(node, eve, items[0].id)
    read = subscriptions.mark_read(node, ana, items[0].id)
    assert read.read_at is not None
    assert subscriptions.mark_read(node, ana, items[0].id).read_at == read.read_at  # again: unchanged
    assert [i.id for i in subscriptions.list_inbox(node, ana, unread_only=True)] == [items[1].id]
    assert subscriptions.mark_all_read(node, ana) == 1
    assert subscriptions.unread_count(node, ana) == 0
    assert subscriptions.list_inbox(node, eve) == []
