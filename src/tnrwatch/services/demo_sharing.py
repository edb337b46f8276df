"""The demo's alert sharing: two partner nodes (one that may receive AMBER and is named by the demo alert, one that
may receive GREEN only), the EU analyst's subscription to alerts, one AMBER alert published by the German officer
about a synthetic incident, addressed to the EU level and the AMBER partner, and the seeded CLEAR and GREEN incidents,
masked, in the partners' community collection. On `make demo` the EU analyst finds the alert in the inbox (the
server's embedded worker delivers it), the AMBER partner reads it over TAXII with its token, and the GREEN-only
partner's collections hold nothing of it. Idempotent: a second run adds nothing but new partner tokens (each shown
once)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from tnrwatch.errors import NotFoundError
from tnrwatch.services import alerts, incident_sharing, partners, subscriptions, taxii
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.models import Account, Alert, Incident, IncidentLocation, IncidentOrigin, StixObject

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
    _share_community(node)
    return DemoSharing(tokens, _demo_alert(node, _staff(node, "officer.de")))


def _share_community(node: Node, batch: int = 500) -> None:
    """The seeded incidents raise no outbox events (a seed is not news), so put the CLEAR and GREEN ones in the
    partners' community here, once: a partner token then pages through a few thousand masked incidents."""
    with node.store.reading() as session:
        if session.scalar(select(StixObject.id).where(StixObject.collection == taxii.COMMUNITY).limit(1)):
            return
        wanted = list(
            session.scalars(
                select(Incident.uuid)
                .where(Incident.tlp.in_(incident_sharing.COMMUNITY_TLPS), Incident.jurisdiction_code.is_(None))
                .order_by(Incident.id)
            )
        )
    for start in range(0, len(wanted), batch):
        with node.store.writing() as session:
            incident_sharing.share_changed(session, node, wanted[start : start + batch])


def _demo_alert(node: Node, officer: Principal) -> uuid.UUID | None:
    with node.store.reading() as session:
        existing = session.scalar(select(Alert.uuid).where(Alert.title == DEMO_ALERT_TITLE))
        amber = select(Incident.uuid).where(Incident.tlp == "amber", Incident.jurisdiction_code.is_(None))
        latest = (Incident.date_start.desc(), Incident.id)
        surge = (  # an incident of the demo's escalation, Uzbekistan -> Türkiye, that the alert is about
            amber.join(IncidentOrigin, IncidentOrigin.incident_id == Incident.id)
            .join(IncidentLocation, IncidentLocation.incident_id == Incident.id)
            .where(IncidentOrigin.country == "UZ", IncidentLocation.country == "TR")
        )
        incident = session.scalar(surge.order_by(*latest).limit(1)) or session.scalar(amber.order_by(*latest).limit(1))
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
