"""Alerts (domain/alert.py): written as drafts, published by a person, withdrawn; read by their owner and their
audience; commented by their recipients. Delivery (inbox, e-mail, webhooks, TAXII, partner nodes) comes with the rest
of the alert-sharing work; this module decides what an alert is and who may see and change it.

Who reads an alert: its owner's staff (drafts included: the owner is the jurisdiction that wrote it, or the node's EU
level for the analysts' and the operator's), and, once it is published, the recipients it names: a jurisdiction's
focal point (officers and supervisors of that jurisdiction), the EU level (the analysts), a partner node (through
federation, later). Anyone else gets "no alert with this id", as if it did not exist. Only the owner publishes,
withdraws, or changes a draft's status; a published alert is never edited (withdraw it and write another).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session

from tnrwatch.domain.alert import (
    ALERT_TRANSITIONS,
    AlertIn,
    AlertLevel,
    AlertOut,
    Audience,
    AudienceKind,
    CommentIn,
    CommentKind,
    CommentOut,
    Opinion,
)
from tnrwatch.domain.escalation import Signal
from tnrwatch.domain.validation import validate
from tnrwatch.errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services.changes import record_change
from tnrwatch.services.incidents import visible_row
from tnrwatch.services.node import Node
from tnrwatch.services.policy import (
    OPERATOR_ROLE,
    Principal,
    may_write_record,
    record_jurisdiction,
    require,
)
from tnrwatch.store.models import (
    Account,
    Actor,
    Alert,
    AlertActor,
    AlertAudience,
    AlertComment,
    AlertIncident,
    Incident,
)
from tnrwatch.store.types import utcnow

ACTIONS = {"published": "publish", "withdrawn": "withdraw"}  # the audit log's verbs


def create_alert(node: Node, principal: Principal, raw: Mapping[str, Any] | AlertIn) -> AlertOut:
    """A new draft owned by the principal's jurisdiction (or the node). Every linked incident must be one the
    principal may read, every actor must exist: errors name each by its position."""
    require(principal, "alert:write")
    alert = raw if isinstance(raw, AlertIn) else validate(AlertIn, raw, node.taxonomy, what="alert")
    now = utcnow()
    if alert.expires_at is not None and alert.expires_at <= now:
        raise InvalidInputError("the alert is invalid", [FieldError(("expires_at",), "the expiry has passed")])
    with node.store.writing() as session:
        incident_ids, actor_ids = _linked(session, principal, alert)
        row = Alert(
            uuid=uuid.uuid4(),
            title=alert.title,
            summary=alert.summary,
            level=alert.level,
            tlp=alert.tlp,
            status="draft",
            expires_at=alert.expires_at,
            source_signal=alert.source_signal,
            jurisdiction_code=record_jurisdiction(principal),
            created_by_id=principal.account_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        session.add(row)
        session.flush()
        session.add_all(AlertAudience(alert_id=row.id, kind=item.kind, value=item.value) for item in alert.audience)
        session.add_all(AlertIncident(alert_id=row.id, incident_id=i, position=n) for n, i in enumerate(incident_ids))
        session.add_all(AlertActor(alert_id=row.id, actor_id=a, position=n) for n, a in enumerate(actor_ids))
        session.flush()
        record_change(session, principal, "create", "alert", row.uuid, alert.model_fields_set)
        return _out(session, row)


def _linked(session: Session, principal: Principal, alert: AlertIn) -> tuple[list[int], list[int]]:
    errors: list[FieldError] = []
    incident_ids: list[int] = []
    for position, incident_uuid in enumerate(alert.incident_ids):
        try:
            incident_ids.append(visible_row(session, principal, incident_uuid).id)
        except NotFoundError:
            errors.append(FieldError(("incident_ids", position), f"no incident with id {incident_uuid}"))
    rows = session.execute(select(Actor.uuid, Actor.id).where(Actor.uuid.in_(alert.actor_ids))).all()
    found: dict[uuid.UUID, int] = dict(rows)
    for position, actor_uuid in enumerate(alert.actor_ids):
        if actor_uuid not in found:
            errors.append(FieldError(("actor_ids", position), f"no actor with id {actor_uuid}"))
    if errors:
        raise InvalidInputError("the alert is invalid", errors)
    return incident_ids, [found[actor_uuid] for actor_uuid in alert.actor_ids]


def publish_alert(node: Node, principal: Principal, alert_uuid: uuid.UUID) -> AlertOut:
    """A person approves a draft: from now on its audience reads it."""
    return _move(node, principal, alert_uuid, "published")


def withdraw_alert(node: Node, principal: Principal, alert_uuid: uuid.UUID) -> AlertOut:
    """Withdraw a published alert (its recipients keep seeing it, marked withdrawn) or drop a draft."""
    return _move(node, principal, alert_uuid, "withdrawn")


def _move(node: Node, principal: Principal, alert_uuid: uuid.UUID, status: str) -> AlertOut:
    require(principal, "alert:write")
    with node.store.writing() as session:
        row = _readable_row(session, principal, alert_uuid)
        if not may_write_record(principal, row.jurisdiction_code):
            owner = row.jurisdiction_code or "the EU level"
            raise ForbiddenError(f"this alert belongs to {owner}: only its own staff publish or withdraw it")
        if status not in ALERT_TRANSITIONS[row.status]:
            raise ConflictError(f"a {row.status} alert cannot become {status}")
        now = utcnow()
        if status == "published":
            if row.expires_at is not None and row.expires_at <= now:
                raise ConflictError("the alert has expired: change its expiry in a new draft")
            row.published_at = now
        else:
            row.withdrawn_at = now
        row.status = status
        row.updated_at = now
        row.version += 1
        record_change(session, principal, ACTIONS[status], "alert", row.uuid, ["status"])
        return _out(session, row)


def get_alert(node: Node, principal: Principal, alert_uuid: uuid.UUID) -> AlertOut:
    require(principal, "alert:read")
    with node.store.reading() as session:
        return _out(session, _readable_row(session, principal, alert_uuid))


def list_alerts(node: Node, principal: Principal, status: str | None = None, limit: int = 100) -> list[AlertOut]:
    """The alerts `principal` may read, newest first."""
    require(principal, "alert:read")
    with node.store.reading() as session:
        statement = select(Alert).where(_readable(principal)).order_by(Alert.created_at.desc(), Alert.id.desc())
        if status is not None:
            statement = statement.where(Alert.status == status)
        return _outs(session, session.scalars(statement.limit(limit)).all())


def add_comment(
    node: Node, principal: Principal, alert_uuid: uuid.UUID, raw: Mapping[str, Any] | CommentIn
) -> CommentOut:
    """A corroboration note or an opinion from someone who reads the alert; drafts take none (they are not out)."""
    require(principal, "alert:read")
    comment = raw if isinstance(raw, CommentIn) else validate(CommentIn, raw, node.taxonomy, what="comment")
    with node.store.writing() as session:
        row = _readable_row(session, principal, alert_uuid)
        if row.status == "draft":
            raise ConflictError("a draft takes no comments: publish it first")
        stored = AlertComment(
            alert_id=row.id,
            kind=comment.kind,
            opinion=comment.opinion,
            text=comment.text,
            author_id=principal.account_id,
            author=principal.username,
            jurisdiction_code=principal.jurisdiction,
            created_at=utcnow(),
        )
        session.add(stored)
        session.flush()
        record_change(session, principal, "comment", "alert", row.uuid, [comment.kind])
        return _comment_out(stored)


def propose_from_signal(
    node: Node, principal: Principal, signal: Signal, label: str, audience: Sequence[Audience] | None = None
) -> AlertOut:
    """A draft alert from an escalation signal (services/monitoring.py), with its evidence in the summary: a person
    reads it, edits nothing or writes a new one, and publishes it. `label` names the series for people."""
    evidence = (
        f"{signal.observed} incidents in the {signal.span} month(s) to {signal.month:%B %Y} where "
        f"{signal.expected:.1f} were expected from the series' own baseline ({signal.model.replace('_', ' ')} "
        f"model, z = {signal.statistic:.2f}, p = {signal.p_value:.2g}, Benjamini-Hochberg adjusted "
        f"p = {signal.adjusted_p_value:.2g})."
    )
    draft = AlertIn(
        title=f"Escalation: {label}"[:300],
        summary=f"Proposed from an escalation signal, to be checked before it is published. {evidence}",
        level="warning",
        tlp="amber",
        audience=list(audience) if audience else [Audience(kind="eu")],
        source_signal=f"{signal.key.kind}:{signal.key.value}@{signal.month:%Y-%m}",
    )
    return create_alert(node, principal, draft)


# -- reading ----------------------------------------------------------------------------------------------------------


def _readable(principal: Principal) -> Any:
    """The alerts `principal` reads, as a condition: its owner's (drafts too), and those published to an audience
    naming it."""
    if principal.role == OPERATOR_ROLE:
        return true()
    if principal.role in ("officer", "supervisor"):
        own = Alert.jurisdiction_code == principal.jurisdiction
        recipient = and_(AlertAudience.kind == "jurisdiction", AlertAudience.value == principal.jurisdiction)
    elif principal.role == "analyst":  # the EU level
        own = Alert.jurisdiction_code.is_(None)
        recipient = AlertAudience.kind == "eu"
    else:
        return false()
    addressed = select(AlertAudience.alert_id).where(recipient)
    # Recipients read what was published (also once withdrawn), never a draft, nor a draft dropped unpublished.
    return or_(own, and_(Alert.published_at.is_not(None), Alert.id.in_(addressed)))


def _readable_row(session: Session, principal: Principal, alert_uuid: uuid.UUID) -> Alert:
    row = session.scalar(select(Alert).where(Alert.uuid == alert_uuid, _readable(principal)))
    if row is None:
        raise NotFoundError(f"no alert with id {alert_uuid}")
    return row


def _out(session: Session, row: Alert) -> AlertOut:
    return _outs(session, [row])[0]


def _outs(session: Session, rows: Sequence[Alert]) -> list[AlertOut]:
    """The alerts with their audience, links, comments and author: one statement per kind for all of them."""
    ids = [row.id for row in rows]
    audience: dict[int, list[Audience]] = defaultdict(list)
    for alert_id, kind, value in session.execute(
        select(AlertAudience.alert_id, AlertAudience.kind, AlertAudience.value)
        .where(AlertAudience.alert_id.in_(ids))
        .order_by(AlertAudience.kind, AlertAudience.value)
    ):
        audience[alert_id].append(Audience.model_construct(kind=cast(AudienceKind, kind), value=value))
    incidents: dict[int, list[uuid.UUID]] = defaultdict(list)
    for alert_id, incident_uuid in session.execute(
        select(AlertIncident.alert_id, Incident.uuid)
        .join(Incident, AlertIncident.incident_id == Incident.id)
        .where(AlertIncident.alert_id.in_(ids))
        .order_by(AlertIncident.position)
    ):
        incidents[alert_id].append(incident_uuid)
    actors: dict[int, list[uuid.UUID]] = defaultdict(list)
    for alert_id, actor_uuid in session.execute(
        select(AlertActor.alert_id, Actor.uuid)
        .join(Actor, AlertActor.actor_id == Actor.id)
        .where(AlertActor.alert_id.in_(ids))
        .order_by(AlertActor.position)
    ):
        actors[alert_id].append(actor_uuid)
    comments: dict[int, list[CommentOut]] = defaultdict(list)
    for comment in session.scalars(
        select(AlertComment).where(AlertComment.alert_id.in_(ids)).order_by(AlertComment.id)
    ):
        comments[comment.alert_id].append(_comment_out(comment))
    authors = {row.created_by_id for row in rows if row.created_by_id is not None}
    names: dict[int, str] = dict(
        session.execute(select(Account.id, Account.username).where(Account.id.in_(authors))).all()
    )
    return [
        AlertOut.model_construct(
            id=row.uuid,
            title=row.title,
            summary=row.summary,
            level=cast(AlertLevel, row.level),
            tlp=row.tlp,
            audience=audience[row.id],
            incident_ids=incidents[row.id],
            actor_ids=actors[row.id],
            expires_at=row.expires_at,
            source_signal=row.source_signal,
            status=row.status,
            jurisdiction=row.jurisdiction_code,
            created_by=names.get(row.created_by_id) if row.created_by_id is not None else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
            published_at=row.published_at,
            withdrawn_at=row.withdrawn_at,
            comments=comments[row.id],
        )
        for row in rows
    ]


def _comment_out(row: AlertComment) -> CommentOut:
    return CommentOut.model_construct(
        kind=cast(CommentKind, row.kind),
        opinion=cast(Opinion | None, row.opinion),
        text=row.text,
        author=row.author,
        jurisdiction=row.jurisdiction_code,
        created_at=(row.created_at),
    )
