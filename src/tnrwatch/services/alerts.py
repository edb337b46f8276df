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

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from tnrwatch.domain.sharing import TLP_ORDER, tlp_rank
from tnrwatch.domain.validation import validate
from tnrwatch.errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import outbox, taxii
from tnrwatch.services.changes import record_change
from tnrwatch.services.incidents import hidden_incidents, visible_row
from tnrwatch.services.node import Node
from tnrwatch.services.policy import (
    OPERATOR_ROLE,
    Principal,
    allowed,
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
    Jurisdiction,
    Partner,
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
    strictest: tuple[int, str] | None = None  # the position and marking of the first incident marked most strictly
    for position, incident_uuid in enumerate(alert.incident_ids):
        try:
            row = visible_row(session, principal, incident_uuid)
        except NotFoundError:
            errors.append(FieldError(("incident_ids", position), f"no incident with id {incident_uuid}"))
            continue
        incident_ids.append(row.id)
        if strictest is None or tlp_rank(row.tlp) > tlp_rank(strictest[1]):
            strictest = (position, row.tlp)
    # TLP 2.0 lets no one loosen a marking: an alert about incidents is marked at least as strictly as each of them.
    if strictest is not None and tlp_rank(alert.tlp) < tlp_rank(strictest[1]):
        position, marking = strictest
        message = f"incident {position + 1} is marked TLP:{marking.upper()}: mark the alert at least as strictly"
        errors.append(FieldError(("tlp",), message))
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
        if row.published_at is not None:  # subscribers hear of a publication and its withdrawal, not a dropped draft
            outbox.enqueue(session, "alert", status, row.uuid)
        out = _out(session, row)
        if row.published_at is not None:  # partner nodes read it over TAXII, as its marking allows (services/taxii.py)
            taxii.share_alert(session, node, out)
        return out


def get_alert(node: Node, principal: Principal, alert_uuid: uuid.UUID) -> AlertOut:
    require(principal, "alert:read")
    with node.store.reading() as session:
        return _out(session, _readable_row(session, principal, alert_uuid))


def list_alerts(
    node: Node, principal: Principal, status: str | None = None, limit: int = 100, *, level: str | None = None
) -> list[AlertOut]:
    """The alerts `principal` may read, newest first."""
    require(principal, "alert:read")
    with node.store.reading() as session:
        statement = select(Alert).where(_readable(principal)).order_by(Alert.created_at.desc(), Alert.id.desc())
        if status is not None:
            statement = statement.where(Alert.status == status)
        if level is not None:
            statement = statement.where(Alert.level == level)
        return _outs(session, session.scalars(statement.limit(limit)).all())


def add_comment(
    node: Node, principal: Principal, alert_uuid: uuid.UUID, raw: Mapping[str, Any] | CommentIn
) -> CommentOut:
    """A corroboration note or an opinion from someone who reads the alert; drafts take none (they are not out).
    A corroboration that names a sighted actor must name one of the alert's own actors."""
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
            sighted_actor_id=_sighted_actor(session, row, comment.sighted_actor_id),
            sighted_country=comment.sighted_country,
        )
        session.add(stored)
        session.flush()
        sighting = [name for name in ("sighted_actor_id", "sighted_country") if getattr(comment, name) is not None]
        record_change(session, principal, "comment", "alert", row.uuid, [comment.kind, *sighting])
        if row.status == "published":  # partners that read the alert read what its recipients say of it
            taxii.share_alert(session, node, _out(session, row))
        return _comment_out(stored, comment.sighted_actor_id)


def _sighted_actor(session: Session, alert: Alert, actor_uuid: uuid.UUID | None) -> int | None:
    """The row id of the sighted actor, which must be one of the alert's linked actors (a sighting corroborates
    what the alert says; an actor it does not name belongs in an alert of its own)."""
    if actor_uuid is None:
        return None
    found = session.scalar(
        select(Actor.id)
        .join(AlertActor, AlertActor.actor_id == Actor.id)
        .where(AlertActor.alert_id == alert.id, Actor.uuid == actor_uuid)
    )
    if found is None:
        raise InvalidInputError(
            "the comment is invalid",
            [FieldError(("sighted_actor_id",), f"actor {actor_uuid} is not one of the actors this alert names")],
        )
    return found


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


# -- what the staff pages show ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedIncident:
    """An incident an alert is about, as far as its reader may read it."""

    id: uuid.UUID
    title: str
    date_start: dt.date
    tlp: str


@dataclass(frozen=True)
class AlertView:
    """One alert for its page: the incidents the reader may open (and how many others it links), the actors by
    name, and whether the reader is of the owner's staff (publishes, withdraws) or a recipient (comments)."""

    alert: AlertOut
    incidents: tuple[LinkedIncident, ...]
    unreadable_incidents: int
    actors: tuple[tuple[uuid.UUID, str], ...]
    owned: bool


@dataclass(frozen=True)
class AudienceChoice:
    """A recipient the alert form offers: the EU level, a jurisdiction's focal point, a partner node."""

    kind: str
    value: str
    label: str
    clearance: str | None = None  # a partner's: the most sensitive marking it may receive


def alert_view(node: Node, principal: Principal, alert_uuid: uuid.UUID) -> AlertView:
    alert = get_alert(node, principal, alert_uuid)
    readable = linked_incidents(node, principal, alert.incident_ids)
    with node.store.reading() as session:
        names = dict(session.execute(select(Actor.uuid, Actor.name).where(Actor.uuid.in_(alert.actor_ids))).all())
    owned = allowed(principal, "alert:write") and may_write_record(principal, alert.jurisdiction)
    return AlertView(
        alert,
        readable,
        len(alert.incident_ids) - len(readable),
        tuple((actor, names.get(actor, str(actor))) for actor in alert.actor_ids),
        owned,
    )


def linked_incidents(
    node: Node, principal: Principal, incident_uuids: Sequence[uuid.UUID]
) -> tuple[LinkedIncident, ...]:
    """The incidents among `incident_uuids` that `principal` may read, in the order given; the others are left out
    (an alert's recipient may not read every incident its owner linked)."""
    require(principal, "incident:read")
    wanted = list(dict.fromkeys(incident_uuids))
    hidden = hidden_incidents(principal)
    statement = select(Incident.uuid, Incident.title, Incident.date_start, Incident.tlp).where(
        Incident.uuid.in_(wanted)
    )
    if hidden is not None:
        statement = statement.where(Incident.id.not_in(select(Incident.id).where(hidden, Incident.uuid.in_(wanted))))
    with node.store.reading() as session:
        rows = session.execute(statement).all()
    found = {row.uuid: LinkedIncident(row.uuid, row.title, row.date_start, row.tlp) for row in rows}
    return tuple(found[i] for i in wanted if i in found)


def alert_titles(node: Node, principal: Principal, alert_uuids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The titles of the alerts among `alert_uuids` that `principal` may read (for lists that name them)."""
    if not allowed(principal, "alert:read") or not alert_uuids:
        return {}
    with node.store.reading() as session:
        rows = session.execute(
            select(Alert.uuid, Alert.title).where(Alert.uuid.in_(set(alert_uuids)), _readable(principal))
        ).all()
    return dict(rows)


def usable_markings(incidents: Sequence[LinkedIncident]) -> tuple[str, ...]:
    """The TLP markings an alert about `incidents` may carry: none looser than the strictest of them."""
    floor = max((tlp_rank(incident.tlp) for incident in incidents), default=0)
    return tuple(tlp for tlp in TLP_ORDER if tlp_rank(tlp) >= floor)


def audience_choices(node: Node, principal: Principal) -> list[AudienceChoice]:
    """Whom an alert may be addressed to: the EU level, every jurisdiction's focal point but the writer's own (its
    staff read the alert as its owner), and the partner nodes this node shares with (not the disabled ones)."""
    require(principal, "alert:write")
    own = record_jurisdiction(principal)
    with node.store.reading() as session:
        jurisdictions = session.execute(
            select(Jurisdiction.code, Jurisdiction.name).order_by(Jurisdiction.kind, Jurisdiction.name)
        ).all()
        partners = session.execute(
            select(Partner.name, Partner.clearance).where(Partner.disabled.is_(False)).order_by(Partner.name)
        ).all()
    choices = [AudienceChoice("eu", "", "The EU level (its analysts)")] if own is not None else []
    choices += [AudienceChoice("jurisdiction", code, f"{name} ({code})") for code, name in jurisdictions if code != own]
    choices += [AudienceChoice("partner", name, name, clearance) for name, clearance in partners]
    return choices


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


def readable_by(session: Session, principal: Principal, alert_id: int) -> bool:
    """Whether `principal` may read the alert (its permission and the owner and audience rule); for the delivery
    worker, which tells a subscriber only of what it may read."""
    if not allowed(principal, "alert:read"):
        return False
    return session.scalar(select(Alert.id).where(Alert.id == alert_id, _readable(principal))) is not None


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
    for comment, sighted_actor in session.execute(
        select(AlertComment, Actor.uuid)
        .outerjoin(Actor, AlertComment.sighted_actor_id == Actor.id)
        .where(AlertComment.alert_id.in_(ids))
        .order_by(AlertComment.id)
    ):
        comments[comment.alert_id].append(_comment_out(comment, sighted_actor))
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


def _comment_out(row: AlertComment, sighted_actor: uuid.UUID | None) -> CommentOut:
    return CommentOut.model_construct(
        kind=cast(CommentKind, row.kind),
        opinion=cast(Opinion | None, row.opinion),
        text=row.text,
        sighted_actor_id=sighted_actor,
        sighted_country=row.sighted_country,
        author=row.author,
        jurisdiction=row.jurisdiction_code,
        created_at=(row.created_at),
    )
