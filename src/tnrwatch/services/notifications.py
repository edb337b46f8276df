"""In-app notifications: a row per account saying that something needs them on a report, and nothing more.

A notification holds its account, its kind, the report's id and two times; never any content, so that the list and
the nav bar's count need no key and reveal nothing the report's metadata does not. Kinds:

- `urgent`: an urgent report arrived (every supervisor of its jurisdiction; written in the intake's own transaction,
  with the report's own hour as its time, since an exact time would date the reporter's submission);
- `referral`: a report was referred to the focal point (every supervisor of the receiving jurisdiction);
- `task`: a task on a case was given to the account;
- `overdue`: a report's acknowledgement deadline passed unacknowledged (every supervisor of its jurisdiction, once
  per report: `notify_overdue`, called by a scheduled job).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tnrwatch.domain import cases
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Account, Notification, Report
from tnrwatch.store.types import utcnow

KINDS: dict[str, str] = {
    "urgent": "Urgent report received",
    "referral": "Report referred to your focal point",
    "task": "Task given to you",
    "overdue": "Acknowledgement overdue",
}
MAX_PAGE = 200

_INSERT = insert(Notification.__table__)  # type: ignore[arg-type]  # a Table: one executemany, no unit of work
_SUPERVISORS_OF = select(Account.id, Account.jurisdiction_code).where(
    Account.role == "supervisor",
    Account.disabled.is_(False),
    Account.jurisdiction_code.in_(bindparam("codes", expanding=True)),
)


@dataclass(frozen=True)
class NotificationOut:
    id: int
    kind: str
    report_id: uuid.UUID
    created_at: dt.datetime
    read_at: dt.datetime | None

    @property
    def label(self) -> str:
        return KINDS.get(self.kind, self.kind)


def _supervisors(connection: Connection | Session, codes: Iterable[str]) -> dict[str, list[int]]:
    """The active supervisors' account ids of each jurisdiction."""
    found: dict[str, list[int]] = {}
    wanted = sorted(set(codes))
    if wanted:
        for account_id, code in connection.execute(_SUPERVISORS_OF, {"codes": wanted}):
            if code is not None:  # always: the query asked for these codes
                found.setdefault(code, []).append(account_id)
    return found


def notify_urgent(connection: Connection, reports: Sequence[tuple[uuid.UUID, str]], at: dt.datetime) -> None:
    """Tell every supervisor of each urgent report's jurisdiction, inside the intake's transaction: one query for
    the supervisors and one insert for the whole group. `reports` are (report id, jurisdiction) of urgent reports
    only; `at` is the reports' hour."""
    if not reports:
        return
    supervisors = _supervisors(connection, (code for _, code in reports))
    rows = [
        {"account_id": account_id, "kind": "urgent", "report_id": report_id, "created_at": at}
        for report_id, code in reports
        for account_id in supervisors.get(code, ())
    ]
    if rows:
        connection.execute(_INSERT, rows)


def notify_referral(session: Session, report_id: uuid.UUID, to_jurisdiction: str) -> None:
    """Tell the receiving focal point's supervisors that a report was referred to them (the caller's transaction)."""
    _add(session, _supervisors(session, [to_jurisdiction]).get(to_jurisdiction, []), "referral", report_id)


def notify_task(session: Session, account_id: int, report_id: uuid.UUID) -> None:
    """Tell an account that a task on the report was given to them (the caller's transaction)."""
    _add(session, [account_id], "task", report_id)


def _add(session: Session, account_ids: Sequence[int], kind: str, report_id: uuid.UUID) -> None:
    now = utcnow()
    session.add_all(
        Notification(account_id=account_id, kind=kind, report_id=report_id, created_at=now)
        for account_id in account_ids
    )


def notify_overdue(node: Node, now: dt.datetime | None = None) -> int:
    """Tell the supervisors of each report whose acknowledgement deadline passed while it was still unacknowledged;
    how many notifications were made. Idempotent: a report is announced once per supervisor (a unique index holds
    it when two runs overlap); a supervisor who joins later hears of reports still overdue then."""
    moment = now or utcnow()
    already = select(Notification.id).where(
        Notification.kind == "overdue",
        Notification.report_id == Report.id,
        Notification.account_id == Account.id,
    )
    query = (
        select(Report.id, Account.id)
        .join(
            Account,
            and_(
                Account.jurisdiction_code == Report.jurisdiction_code,
                Account.role == "supervisor",
                Account.disabled.is_(False),
            ),
        )
        .where(
            Report.status.in_(cases.UNACKNOWLEDGED),
            Report.acknowledge_by < moment,
            ~already.exists(),
        )
    )
    try:
        with node.store.writing() as session:
            rows = [
                {"account_id": account_id, "kind": "overdue", "report_id": report_id, "created_at": moment}
                for report_id, account_id in session.execute(query)
            ]
            if rows:
                session.execute(_INSERT, rows)
    except IntegrityError:
        return 0  # another run made them between our read and our write (PostgreSQL)
    return len(rows)


# -- the account's own list --------------------------------------------------------------------------------------------


def unread_count(node: Node, principal: Principal) -> int:
    """The nav bar's badge: one count over the unread rows' partial index."""
    if principal.account_id is None:
        return 0
    with node.store.reading() as session:
        query = select(func.count()).where(
            Notification.account_id == principal.account_id, Notification.read_at.is_(None)
        )
        return session.scalar(query) or 0


def list_notifications(node: Node, principal: Principal, *, limit: int = 100) -> list[NotificationOut]:
    """The account's notifications, newest first."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError("bad paging", [FieldError(("limit",), f"1 to {MAX_PAGE}")])
    if principal.account_id is None:
        return []
    with node.store.reading() as session:
        rows = session.scalars(
            select(Notification)
            .where(Notification.account_id == principal.account_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        ).all()
        return [NotificationOut(n.id, n.kind, n.report_id, n.created_at, n.read_at) for n in rows]


def mark_all_read(node: Node, principal: Principal) -> int:
    """Mark every unread notification of the account read; how many were."""
    if principal.account_id is None:
        return 0
    with node.store.writing() as session:
        result = session.execute(
            update(Notification)
            .where(Notification.account_id == principal.account_id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
