"""Case work on reports: the focal point's inbox, and moving a report's case through its states (domain/cases.py).

Officers and supervisors work the reports of their own jurisdiction only; a report of another jurisdiction gets the
same answer as one that does not exist. Every move is kept (`case_event`: who, when, from, to) and recorded in the
change log; the first move sets the time to first action, and acknowledging sets the acknowledgement time.

A referral is recorded in any open state (an urgent case may go to the police before it is verified) and moves the
case to "referred" when its state allows. Referred to another jurisdiction's focal point, the report becomes visible
to that jurisdiction's officers, who receive sealed copies of its key made by the referring officer (the server
cannot make them: it never holds the key); the case itself stays with the jurisdiction that received it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tnrwatch.crypto import envelope
from tnrwatch.domain import cases
from tnrwatch.errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import evidence, notifications
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed, require
from tnrwatch.services.reports import SealedKey, held_report, visible_report, visible_to, wrap_copy
from tnrwatch.store.models import (
    Account,
    Attachment,
    CaseEvent,
    Jurisdiction,
    RecipientKey,
    Referral,
    Report,
    ReportKey,
    ReportMessage,
)
from tnrwatch.store.types import utcnow

MAX_PAGE = 200


@dataclass(frozen=True)
class CaseEventOut:
    at: dt.datetime
    username: str | None  # None: the operator, or an account since deleted
    from_status: str
    to_status: str


@dataclass(frozen=True)
class ReferralOut:
    id: int
    at: dt.datetime
    username: str | None
    kind: str
    to_jurisdiction: str | None


@dataclass(frozen=True)
class InboxItem:
    id: uuid.UUID
    jurisdiction: str  # another one's when it was referred to this focal point
    received_at: dt.datetime
    acknowledge_by: dt.datetime
    status: str
    urgent: bool
    overdue: bool  # not acknowledged, and the deadline has passed
    assigned_to: int | None
    mode: str  # browser | plain (sealed by the server)
    size: int  # bytes of ciphertext, files included
    messages: int
    files: int


@dataclass(frozen=True)
class Inbox:
    items: tuple[InboxItem, ...]
    total: int  # matching the filters
    overdue: int  # of the whole jurisdiction, whatever the filters
    urgent_open: int


def move(node: Node, principal: Principal, report_id: uuid.UUID, target: str) -> str:
    """Move the case to `target`; its new state. An illegal move is refused (409) with the moves that are possible."""
    require(principal, "case:work")
    with node.store.writing() as session:
        report = held_report(session, principal, report_id)
        try:
            cases.check_transition(report.status, target)
        except cases.IllegalTransitionError as exc:
            raise ConflictError(str(exc)) from None
        except ValueError as exc:
            raise InvalidInputError(str(exc), [FieldError(("status",), str(exc))]) from None
        _move(session, principal, report, target)
    return target


def refer(
    node: Node,
    principal: Principal,
    report_id: uuid.UUID,
    kind: str,
    *,
    to_jurisdiction: str | None = None,
    sealed_keys: Sequence[SealedKey] = (),
) -> ReferralOut:
    """Record a referral of the case; to another focal point, with the report key sealed to each of its active keys."""
    require(principal, "case:work")
    if kind not in cases.REFERRAL_KINDS:
        raise InvalidInputError(
            f"unknown referral {kind!r}", [FieldError(("kind",), f"one of {', '.join(cases.REFERRAL_KINDS)}")]
        )
    if kind != "focal_point" and (to_jurisdiction is not None or sealed_keys):
        raise InvalidInputError(
            "only a referral to a focal point names a jurisdiction and carries sealed keys",
            [FieldError(("to_jurisdiction",), "leave it out for this kind of referral")],
        )
    with node.store.writing() as session:
        report = held_report(session, principal, report_id)
        if report.status == cases.CLOSED:
            raise ConflictError("the case is closed; reopen it (triaged) to refer it")
        if kind == "focal_point":
            _share(node, session, report, to_jurisdiction, sealed_keys)
            if to_jurisdiction is not None:  # always, once _share accepted it
                notifications.notify_referral(session, report.id, to_jurisdiction)
                evidence.record_shared(session, principal, report.id, to_jurisdiction)  # its officers can read it now
        referral = Referral(
            report_id=report.id,
            at=utcnow(),
            account_id=principal.account_id,
            kind=kind,
            to_jurisdiction=to_jurisdiction,
        )
        session.add(referral)
        session.flush()
        if cases.REFERRED in cases.TRANSITIONS[report.status]:
            _move(session, principal, report, cases.REFERRED)
        note = f"{kind} {to_jurisdiction}" if to_jurisdiction else kind
        record_change(session, principal, "create", "referral", report.id, ["kind", "to_jurisdiction"], note=note)
        return ReferralOut(referral.id, referral.at, principal.username, kind, to_jurisdiction)


def referrals(node: Node, principal: Principal, report_id: uuid.UUID) -> list[ReferralOut]:
    """The case's referrals, oldest first."""
    require(principal, "report:read")
    with node.store.reading() as session:
        report = visible_report(session, principal, report_id)
        rows = session.execute(
            select(Referral, Account.username)
            .outerjoin(Account, Account.id == Referral.account_id)
            .where(Referral.report_id == report.id)
            .order_by(Referral.id)
        ).all()
    return [ReferralOut(r.id, r.at, username, r.kind, r.to_jurisdiction) for r, username in rows]


def _move(session: Session, principal: Principal, report: Report, target: str) -> None:
    current, now = report.status, utcnow()
    session.add(
        CaseEvent(report_id=report.id, at=now, account_id=principal.account_id, from_status=current, to_status=target)
    )
    report.status = target
    if report.first_action_at is None:
        report.first_action_at = now
    if target == cases.ACKNOWLEDGED and report.acknowledged_at is None:
        report.acknowledged_at = now
    record_change(session, principal, "update", "report", report.id, ["status"], note=f"{current} -> {target}")


def _share(
    node: Node, session: Session, report: Report, to_jurisdiction: str | None, sealed_keys: Sequence[SealedKey]
) -> None:
    """Give another jurisdiction's active keys their sealed copies of the report key (checked for shape only)."""
    if to_jurisdiction is None or to_jurisdiction == report.jurisdiction_code:
        raise InvalidInputError(
            "name the focal point to refer to", [FieldError(("to_jurisdiction",), "another jurisdiction's code")]
        )
    target = session.get(Jurisdiction, to_jurisdiction)
    if target is None:
        raise NotFoundError(f"no jurisdiction {to_jurisdiction!r}")
    active = set(
        session.scalars(
            select(RecipientKey.id).where(
                RecipientKey.jurisdiction_code == to_jurisdiction, RecipientKey.status == "active"
            )
        )
    )
    if not active:
        raise ConflictError(f"{target.name} cannot receive reports yet: it has no active key")
    given = [key.recipient for key in sealed_keys]
    if set(given) != active or len(given) != len(active):
        raise ConflictError(f"seal the report key to each active key of {target.name}, and only to those")
    sealed_size = envelope.SEAL_BYTES + envelope.KEY_BYTES
    errors = [
        FieldError(("sealed_keys", index), "not a sealed report key")
        for index, key in enumerate(sealed_keys)
        if len(key.sealed) != sealed_size + len(envelope.report_key_context(report.id, str(key.recipient)))
    ]
    if errors:
        raise InvalidInputError("the sealed keys are malformed", errors)
    held = set(session.scalars(select(ReportKey.recipient_key_id).where(ReportKey.report_id == report.id)))
    session.add_all(
        ReportKey(
            report_id=report.id,
            recipient_key_id=key.recipient,
            sealed=wrap_copy(node, report, key.sealed, str(key.recipient)),
        )
        for key in sealed_keys
        if key.recipient not in held
    )


def history(node: Node, principal: Principal, report_id: uuid.UUID) -> list[CaseEventOut]:
    """The case's moves, oldest first."""
    require(principal, "report:read")
    with node.store.reading() as session:
        report = visible_report(session, principal, report_id)
        rows = session.execute(
            select(CaseEvent, Account.username)
            .outerjoin(Account, Account.id == CaseEvent.account_id)
            .where(CaseEvent.report_id == report.id)
            .order_by(CaseEvent.id)
        ).all()
    return [CaseEventOut(event.at, username, event.from_status, event.to_status) for event, username in rows]


def inbox(
    node: Node,
    principal: Principal,
    *,
    status: str | None = None,
    urgent: bool | None = None,
    overdue: bool = False,
    mine: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Inbox:
    """The reports of the principal's jurisdiction: urgent ones first, then by acknowledgement deadline."""
    require(principal, "report:read")
    jurisdiction = _jurisdiction(principal)
    if status is not None and status not in cases.STATES:
        raise InvalidInputError(
            f"unknown status {status!r}", [FieldError(("status",), f"one of {', '.join(cases.STATES)}")]
        )
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInputError("bad paging", [FieldError(("limit",), f"1 to {MAX_PAGE}, offset >= 0")])
    now = utcnow()
    filtered = select(Report).where(visible_to(jurisdiction))
    if status is not None:
        filtered = filtered.where(Report.status == status)
    if urgent is not None:
        filtered = filtered.where(Report.urgent.is_(urgent))
    if overdue:
        filtered = filtered.where(_overdue(now))
    if mine:
        filtered = filtered.where(Report.assigned_to == principal.account_id)
    with node.store.reading() as session:
        total = _count(session, filtered)
        reports = session.scalars(
            filtered.order_by(Report.urgent.desc(), Report.acknowledge_by, Report.id).limit(limit).offset(offset)
        ).all()
        owned = select(Report).where(Report.jurisdiction_code == jurisdiction)  # the deadlines are the owner's
        overdue_count = _count(session, owned.where(_overdue(now)))
        urgent_open = _count(session, owned.where(Report.urgent.is_(True), Report.status.in_(cases.OPEN)))
        ids = [report.id for report in reports]
        messages = _counts_by_report(session, ReportMessage.report_id, ids)
        files = _counts_by_report(session, Attachment.report_id, ids)
    items = tuple(
        InboxItem(
            report.id,
            report.jurisdiction_code,
            report.received_at,
            report.acknowledge_by,
            report.status,
            report.urgent,
            report.status in cases.UNACKNOWLEDGED and report.acknowledge_by < now,
            report.assigned_to,
            report.mode,
            report.size,
            messages.get(report.id, 0),
            files.get(report.id, 0),
        )
        for report in reports
    )
    return Inbox(items, total, overdue_count, urgent_open)


def _overdue(now: dt.datetime) -> ColumnElement[bool]:
    return and_(Report.status.in_(cases.UNACKNOWLEDGED), Report.acknowledge_by < now)


def _counts_by_report(
    session: Session, column: InstrumentedAttribute[uuid.UUID], ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many rows (messages, attachments) each of a page's reports has: one query for the page."""
    if not ids:
        return {}
    rows = session.execute(select(column, func.count()).where(column.in_(ids)).group_by(column)).all()
    counts: dict[uuid.UUID, int] = dict(rows)
    return counts


def _count(session: Session, query: Select[Report]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _jurisdiction(principal: Principal) -> str:
    if principal.jurisdiction is None:
        raise ForbiddenError("reports are worked by the officers of their jurisdiction")
    return principal.jurisdiction


# -- who is on a case, and the supervisor's view --------------------------------------------------------------------


@dataclass(frozen=True)
class OfficerLoad:
    username: str
    open_cases: int
    urgent_open: int


@dataclass(frozen=True)
class Dashboard:
    """A jurisdiction's load: open cases by state, deadlines missed, urgent cases and how fast they were acted on."""

    by_status: dict[str, int]
    overdue: int
    urgent_open: int
    urgent_waiting: tuple[uuid.UUID, ...]  # urgent, and nobody has acted on them yet
    urgent_first_action_hours: tuple[float, ...]  # for urgent reports acted on: hours from arrival (the hour) to it
    unassigned_open: int
    officers: tuple[OfficerLoad, ...]


def assign(node: Node, principal: Principal, report_id: uuid.UUID, username: str | None) -> None:
    """Put an officer of the report's jurisdiction on the case (None: nobody). Officers take cases themselves; a
    supervisor gives them to anyone of the jurisdiction."""
    require(principal, "case:work")
    with node.store.writing() as session:
        report = held_report(session, principal, report_id)
        account_id = None
        if username is not None:
            account = session.scalar(select(Account).where(Account.username == username))
            if (
                account is None
                or account.disabled
                or account.jurisdiction_code != report.jurisdiction_code
                or account.role not in ("officer", "supervisor")
            ):
                raise InvalidInputError(
                    "no such officer in this jurisdiction", [FieldError(("username",), "an officer of the focal point")]
                )
            account_id = account.id
        if account_id != principal.account_id and principal.role != "supervisor":
            raise ForbiddenError("officers take cases themselves; a supervisor gives them to others")
        report.assigned_to = account_id
        record_change(session, principal, "update", "report", report.id, ["assigned_to"])


def dashboard(node: Node, principal: Principal) -> Dashboard:
    require(principal, "case:supervise")
    jurisdiction = _jurisdiction(principal)
    now = utcnow()
    with node.store.reading() as session:
        own = Report.jurisdiction_code == jurisdiction
        counts = session.execute(select(Report.status, func.count()).where(own).group_by(Report.status)).all()
        by_status: dict[str, int] = dict(counts)
        overdue = session.scalar(select(func.count()).where(own, _overdue(now))) or 0
        urgent = session.execute(
            select(Report.id, Report.received_at, Report.first_action_at, Report.status).where(
                own, Report.urgent.is_(True)
            )
        ).all()
        unassigned = (
            session.scalar(select(func.count()).where(own, Report.status.in_(cases.OPEN), Report.assigned_to.is_(None)))
            or 0
        )
        loads = session.execute(
            select(
                Account.username,
                func.count(Report.id),
                func.count(Report.id).filter(Report.urgent.is_(True)),
            )
            .join(Report, and_(Report.assigned_to == Account.id, own, Report.status.in_(cases.OPEN)), isouter=True)
            .where(Account.jurisdiction_code == jurisdiction, Account.role.in_(("officer", "supervisor")))
            .group_by(Account.username)
            .order_by(Account.username)
        ).all()
    return Dashboard(
        by_status={state: by_status.get(state, 0) for state in cases.STATES},
        overdue=overdue,
        urgent_open=sum(1 for row in urgent if row.status in cases.OPEN),
        urgent_waiting=tuple(row.id for row in urgent if row.first_action_at is None and row.status in cases.OPEN),
        urgent_first_action_hours=tuple(
            round((row.first_action_at - row.received_at).total_seconds() / 3600, 1)
            for row in urgent
            if row.first_action_at is not None
        ),
        unassigned_open=unassigned,
        officers=tuple(OfficerLoad(name, count, urgent_count) for name, count, urgent_count in loads),
    )


@dataclass(frozen=True)
class CaseView:
    """What the report page shows of the case."""

    status: str
    owner: bool  # the principal's jurisdiction holds the case (else it was referred to them)
    assigned_to: str | None
    moves: tuple[str, ...]  # the states the principal may move it to now
    history: tuple[CaseEventOut, ...]
    referrals: tuple[ReferralOut, ...]
    colleagues: tuple[str, ...]  # the officers and supervisors who can be put on it


def view(node: Node, principal: Principal, report_id: uuid.UUID) -> CaseView:
    events = tuple(history(node, principal, report_id))
    referred = tuple(referrals(node, principal, report_id))
    jurisdiction = _jurisdiction(principal)
    with node.store.reading() as session:
        report = visible_report(session, principal, report_id)
        assigned = session.get(Account, report.assigned_to) if report.assigned_to is not None else None
        colleagues = session.scalars(
            select(Account.username)
            .where(
                Account.jurisdiction_code == jurisdiction,
                Account.role.in_(("officer", "supervisor")),
                Account.disabled.is_(False),
            )
            .order_by(Account.username)
        ).all()
    owner = report.jurisdiction_code == jurisdiction
    may_move = owner and allowed(principal, "case:work")
    return CaseView(
        status=report.status,
        owner=owner,
        assigned_to=assigned.username if assigned is not None else None,
        moves=tuple(sorted(cases.TRANSITIONS[report.status], key=cases.STATES.index)) if may_move else (),
        history=events,
        referrals=referred,
        colleagues=tuple(colleagues),
    )


def usernames(node: Node, principal: Principal) -> dict[int, str]:
    """The usernames of the principal's jurisdiction's accounts, by id (to show who a case is assigned to)."""
    jurisdiction = _jurisdiction(principal)
    with node.store.reading() as session:
        rows = session.execute(
            select(Account.id, Account.username).where(Account.jurisdiction_code == jurisdiction)
        ).all()
    names: dict[int, str] = dict(rows)
    return names
