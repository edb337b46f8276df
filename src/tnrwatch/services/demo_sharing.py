"""The demo's alert sharing: two partner nodes (one that may receive AMBER and is named by the demo alert, one that
may receive GREEN only), the EU analyst's subscription to alerts, and one AMBER alert published by the German
officer about a synthetic incident, addressed to the EU level and the AMBER partner. On `make demo` the EU analyst
finds it in the inbox (the server's embedded worker delivers it), the AMBER partner reads it over TAXII with its
token, and the GREEN-only partner's collections hold nothing of it. Idempotent: a second run adds nothing but new
partner tokens (each shown once)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from tnrwatch.errors import NotFoundError
from tnrwatch.services import alerts, partners, subscriptions
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.models import Account, Alert, Incident

DEMO_PARTNERS: tuple[tuple[str, str], ...] = (("fr-node", "amber"), ("ngo-green", "green"))
DEMO_ALERT_TITLE = "Forced returns to Uzbekistan rising in Türkiye (synthetic demo)"


@dataclass(frozen=True)
class DemoSharing:
    tokens: dict[str, str]  # partner -> a new TAXII token, shown once
    alert_id: uuid.UUID | None  # None until the demo holds incidents (`tnrwatch demo seed`)


def demo_sharing(node: Node, operator: Principal) -> DemoSharing:
    """Set up the demo's partners, the EU analyst's subscription and the published AMBER alert (see the module
    docstring). Needs the demo staff (services/demo.py `demo_staff`); the alert needs seeded incidents."""
    require(operator, "partner:manage")
    known = {partner.name for partner in partners.list_partners(node)}
    for name, clearance in DEMO_PARTNERS:
        if name not in known:
            partners.add_partner(node, operator, name, clearance)
    tokens = {name: partners.create_token(node, operator, name).token for name, _ in DEMO_PARTNERS}

    analyst = _staff(node, "analyst.eu")
    if not subscriptions.list_subscriptions(node, analyst):
        subscriptions.create_subscription(
            node, analyst, {"name": "Alerts to the EU level", "filter": {"topics": ["alert"]}}
        )
    return DemoSharing(tokens, _demo_alert(node, _staff(node, "officer.de")))


def _demo_alert(node: Node, officer: Principal) -> uuid.UUID | None:
    with node.store.reading() as session:
        existing = session.scalar(select(Alert.uuid).where(Alert.title == DEMO_ALERT_TITLE))
        incident = session.scalar(
            select(Incident.uuid)
            .where(Incident.tlp == "amber", Incident.jurisdiction_code.is_(None))
            .order_by(Incident.date_start.desc(), Incident.id)
            .limit(1)
        )
    if existing is not None:
        return existing
    if incident is None:
        return None
    draft = alerts.create_alert(
        node,
        officer,
        {
            "title": DEMO_ALERT_TITLE,
            "summary": "Synthetic demo data: returns of Uzbek dissidents from Türkiye rose from August to October "
            "2026 (see the monitoring page). Check Interpol and extradition requests from Uzbekistan with care.",
            "level": "warning",
            "tlp": "amber",
            "audience": [{"kind": "eu"}, {"kind": "partner", "value": "fr-node"}],
            "incident_ids": [str(incident)],
        },
    )
    return alerts.publish_alert(node, officer, draft.id).id


def _staff(node: Node, username: str) -> Principal:
    with node.store.reading() as session:
        account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFoundError(f"no demo account {username!r}: run `tnrwatch demo credentials`")
    return Principal(account.id, account.username, account.role, account.jurisdiction_code)
