"""Coding: an officer turns a report they have read into incidents, or links it to incidents already coded.

The officer reads the report in their browser; what they code is their own account of it (pseudonymous: persons are
linked by pseudonym, and the identity of a new person goes to the vault). Before a new incident is stored, duplicate
detection (domain/duplicates.py) looks for stored incidents with the same person, near dates, the same place or
origin; when it finds any, nothing is stored until the officer links the report to one of them or confirms that the
incident is new.

Who may: a principal who sees the report (its jurisdiction, or one it was referred to; any other gets NotFound) and
holds `case:work` and `incident:write`. The new persons, the incident and the link are written in one transaction,
and each is recorded in the audit log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from tnrwatch.domain import duplicates
from tnrwatch.domain.countries import country_name
from tnrwatch.domain.incident import IncidentIn, IncidentOut
from tnrwatch.domain.person import PersonIn
from tnrwatch.domain.validation import try_validate
from tnrwatch.errors import ConflictError, FieldError, InvalidInputError
from tnrwatch.services.changes import record_change
from tnrwatch.services.incidents import add_incident, visible_incidents, visible_row
from tnrwatch.services.node import Node
from tnrwatch.services.persons import add_person, visible_persons
from tnrwatch.services.policy import Principal, allowed, require
from tnrwatch.services.reports import visible_report, visible_to
from tnrwatch.store.incidents import load_incidents
from tnrwatch.store.models import (
    Account,
    Actor,
    Incident,
    IncidentActor,
    IncidentLocation,
    IncidentOrigin,
    IncidentPerson,
    Jurisdiction,
    Person,
    Report,
    ReportIncident,
)
from tnrwatch.store.types import utcnow
from tnrwatch.taxonomy import Taxonomy

MAX_CANDIDATE_ROWS = 500  # stored incidents scored per check, nearest in time first
MAX_DUPLICATES = 5


@dataclass(frozen=True)
class PersonPick:
    """An existing person linked to the incident, by pseudonym."""

    pseudonym: str
    role: str = "target"


@dataclass(frozen=True)
class NewPerson:
    """A person to create with the incident: `person` holds PersonIn's fields (identity included, sealed on arrival)."""

    person: Mapping[str, Any]
    role: str = "target"


@dataclass(frozen=True)
class Duplicate:
    incident: IncidentOut
    score: float
    reasons: tuple[str, ...]  # in words, strongest kind first
    linked: bool  # already linked to this report


@dataclass(frozen=True)
class CodingResult:
    """A new incident, or (`incident` None) the stored ones it may duplicate, for the officer to choose."""

    incident: IncidentOut | None
    duplicates: tuple[Duplicate, ...] = ()


@dataclass(frozen=True)
class CodedIncident:
    """An incident of a report, as its case page lists it."""

    id: uuid.UUID
    title: str
    date_start: dt.date
    date_end: dt.date
    date_precision: str
    verification: str
    tlp: str
    linked_at: dt.datetime
    username: str | None  # who coded or linked it; None: the operator, or an account since deleted
    created: bool  # coded from this report, rather than linked to it


@dataclass(frozen=True)
class CodingSection:
    incidents: tuple[CodedIncident, ...]
    may_code: bool


def code_incident(
    node: Node,
    principal: Principal,
    report_id: uuid.UUID,
    incident: Mapping[str, Any],
    *,
    persons: Sequence[PersonPick] = (),
    new_persons: Sequence[NewPerson] = (),
    confirm: bool = False,
) -> CodingResult:
    """Code an incident from the report: validate everything (every problem at once, with its field path: existing
    persons under ("persons", i), new ones under ("new_persons", i)), look for duplicates unless `confirm`, then
    store the new persons, the incident and its link to the report."""
    _require_coder(principal)
    if new_persons:
        require(principal, "person:write")
        if any(new.person.get("identity") for new in new_persons):
            require(principal, "person:identity")
    if "persons" in incident:
        raise InvalidInputError(
            "the incident's persons are given as picks or new persons",
            [FieldError(("persons",), "give existing persons by pseudonym, new ones with their fields")],
        )
    with node.store.reading() as session:
        visible_report(session, principal, report_id)
        found = dict(
            session.execute(
                select(Person.pseudonym, Person.uuid).where(
                    Person.pseudonym.in_({p.pseudonym for p in persons}), *visible_persons(principal)
                )
            ).all()
        )
    errors: list[FieldError] = []
    links: list[dict[str, Any]] = []
    for index, pick in enumerate(persons):
        if pick.pseudonym not in found:
            errors.append(
                FieldError(("persons", index, "pseudonym"), f"no person with the pseudonym {pick.pseudonym!r}")
            )
        links.append({"id": found.get(pick.pseudonym, uuid.uuid4()), "role": pick.role})
    people: list[PersonIn] = []
    for index, new in enumerate(new_persons):
        person_uuid = uuid.uuid4()
        links.append({"id": person_uuid, "role": new.role})
        parsed = try_validate(PersonIn, {**new.person, "id": person_uuid}, node.taxonomy, ("new_persons", index))
        if isinstance(parsed, list):
            errors += parsed
        else:
            people.append(parsed)
    parsed_incident = try_validate(IncidentIn, {**incident, "persons": links}, node.taxonomy)
    if isinstance(parsed_incident, list):
        errors += [_person_loc(error, len(persons)) for error in parsed_incident]
    if errors:
        raise InvalidInputError(f"the incident is invalid ({len(errors)} problems)", errors)
    assert isinstance(parsed_incident, IncidentIn)
    if not confirm:
        found_duplicates = find_duplicates(node, principal, parsed_incident, report_id=report_id)
        if found_duplicates:
            return CodingResult(None, tuple(found_duplicates))
    with node.store.writing() as session:
        report = visible_report(session, principal, report_id)
        for person in people:
            add_person(session, node, principal, person)
        incident_uuid = add_incident(session, node, principal, parsed_incident)
        incident_id = session.scalar(select(Incident.id).where(Incident.uuid == incident_uuid))
        assert incident_id is not None
        _link(session, principal, report, incident_id, incident_uuid, created=True)
        [stored] = load_incidents(session, [incident_id], node.taxonomy)
    return CodingResult(stored)


def link_incident(node: Node, principal: Principal, report_id: uuid.UUID, incident_uuid: uuid.UUID) -> IncidentOut:
    """Link the report to an incident already coded (from another report, an import, a partner)."""
    _require_coder(principal)
    with node.store.writing() as session:
        report = visible_report(session, principal, report_id)
        incident_id = visible_row(session, principal, incident_uuid).id
        if session.get(ReportIncident, (report.id, incident_id)) is not None:
            raise ConflictError("the incident is already linked to this report")
        _link(session, principal, report, incident_id, incident_uuid, created=False)
        [stored] = load_incidents(session, [incident_id], node.taxonomy)
    return stored


def report_incidents(node: Node, principal: Principal, report_id: uuid.UUID) -> tuple[CodedIncident, ...]:
    """The incidents coded from the report or linked to it, oldest link first."""
    require(principal, "report:read")
    require(principal, "incident:read")
    with node.store.reading() as session:
        visible_report(session, principal, report_id)
        rows = session.execute(
            select(ReportIncident, Incident, Account.username)
            .join(Incident, Incident.id == ReportIncident.incident_id)
            .outerjoin(Account, Account.id == ReportIncident.account_id)
            .where(ReportIncident.report_id == report_id)
            .order_by(ReportIncident.linked_at, Incident.id)
        ).all()
    return tuple(
        CodedIncident(
            incident.uuid,
            incident.title,
            incident.date_start,
            incident.date_end,
            incident.date_precision,
            incident.verification,
            incident.tlp,
            link.linked_at,
            username,
            link.created,
        )
        for link, incident, username in rows
    )


def case_section(node: Node, principal: Principal, report_id: uuid.UUID) -> CodingSection | None:
    """What the case page shows of the coding: None for a principal who may not read incidents."""
    if not (allowed(principal, "report:read") and allowed(principal, "incident:read")):
        return None
    may_code = allowed(principal, "case:work") and allowed(principal, "incident:write")
    return CodingSection(report_incidents(node, principal, report_id), may_code)


def incident_reports(node: Node, principal: Principal, incident_uuid: uuid.UUID) -> tuple[uuid.UUID, ...]:
    """The reports an incident rests on that the principal may see (none for a principal without a jurisdiction)."""
    require(principal, "incident:read")
    if principal.jurisdiction is None or not allowed(principal, "report:read"):
        return ()
    with node.store.reading() as session:
        rows = session.scalars(
            select(ReportIncident.report_id)
            .join(Incident, Incident.id == ReportIncident.incident_id)
            .join(Report, Report.id == ReportIncident.report_id)
            .where(Incident.uuid == incident_uuid, visible_to(principal.jurisdiction))
            .order_by(ReportIncident.linked_at)
        ).all()
    return tuple(rows)


@dataclass(frozen=True)
class CodingStart:
    """What the coding form starts from: the report's host country (its focal point's), persons and actors to pick."""

    report_id: uuid.UUID
    host_country: str | None
    pseudonyms: tuple[str, ...]
    actors: tuple[tuple[uuid.UUID, str, str, str | None], ...]  # id, name, actor type, country


def start_coding(node: Node, principal: Principal, report_id: uuid.UUID, *, limit: int = 1000) -> CodingStart:
    """Check that the principal may code from the report (NotFound, Forbidden otherwise) and gather the choices."""
    _require_coder(principal)
    with node.store.reading() as session:
        report = visible_report(session, principal, report_id)
        host = session.scalar(select(Jurisdiction.country).where(Jurisdiction.code == report.jurisdiction_code))
        pseudonyms = session.scalars(
            select(Person.pseudonym).where(*visible_persons(principal)).order_by(Person.pseudonym).limit(limit)
        ).all()
        actors = session.execute(
            select(Actor.uuid, Actor.name, Actor.actor_type, Actor.country).order_by(Actor.name, Actor.id).limit(limit)
        ).all()
    return CodingStart(report_id, host, tuple(pseudonyms), tuple((a[0], a[1], a[2], a[3]) for a in actors))


@dataclass(frozen=True)
class IncidentView:
    """One incident for the staff page: persons by pseudonym, actors by name, and the reports the reader may see."""

    incident: IncidentOut
    persons: tuple[tuple[str, str, bool], ...]  # pseudonym, role, at risk
    actors: tuple[tuple[str, str, str], ...]  # name, actor type, role
    reports: tuple[uuid.UUID, ...]


def incident_view(node: Node, principal: Principal, incident_uuid: uuid.UUID) -> IncidentView:
    require(principal, "incident:read")
    with node.store.reading() as session:
        incident_id = visible_row(session, principal, incident_uuid).id
        [incident] = load_incidents(session, [incident_id], node.taxonomy)
        persons: list[tuple[str, str, bool]] = []
        if allowed(principal, "person:read"):
            persons = [
                (row.pseudonym, row.role, row.at_risk)
                for row in session.execute(
                    select(Person.pseudonym, IncidentPerson.role, Person.at_risk)
                    .join(IncidentPerson, IncidentPerson.person_id == Person.id)
                    .where(IncidentPerson.incident_id == incident_id, *visible_persons(principal))
                    .order_by(Person.pseudonym)
                )
            ]
        actors = [
            (row.name, row.actor_type, row.role)
            for row in session.execute(
                select(Actor.name, Actor.actor_type, IncidentActor.role)
                .join(IncidentActor, IncidentActor.actor_id == Actor.id)
                .where(IncidentActor.incident_id == incident_id)
                .order_by(Actor.name)
            )
        ]
    return IncidentView(incident, tuple(persons), tuple(actors), incident_reports(node, principal, incident_uuid))


# -- duplicate detection -----------------------------------------------------------------------------------------------


def find_duplicates(
    node: Node, principal: Principal, incident: IncidentIn, *, report_id: uuid.UUID | None = None
) -> list[Duplicate]:
    """Stored incidents that may be `incident` again, best first, each with its score and reasons in words.

    Only incidents that could reach the threshold are scored: those with a person in common, and those with dates
    within the widest slack and a host or origin country in common (without either, dates and tactics alone stay
    below it; see domain/duplicates.py)."""
    require(principal, "incident:read")
    new = duplicates.profile_of(incident)
    with node.store.reading() as session:
        ids = _candidate_ids(session, new, principal)
        stored = load_incidents(session, ids, node.taxonomy)
        by_id = {out.id: out for out in stored}
        found = duplicates.candidates(new, [duplicates.profile_of(out) for out in stored], limit=MAX_DUPLICATES)
        shared_persons = {uuid.UUID(p) for c in found for r in c.reasons if r.kind == "person" for p in r.shared}
        pseudonyms = dict(
            session.execute(
                select(Person.uuid, Person.pseudonym).where(
                    Person.uuid.in_(shared_persons), *visible_persons(principal)
                )
            ).all()
        )
        linked: set[uuid.UUID] = set()
        if report_id is not None and found:
            linked = set(
                session.scalars(
                    select(Incident.uuid)
                    .join(ReportIncident, ReportIncident.incident_id == Incident.id)
                    .where(ReportIncident.report_id == report_id)
                )
            )
    return [
        Duplicate(
            by_id[c.incident_id],
            c.score,
            tuple(describe(reason, node.taxonomy, pseudonyms) for reason in c.reasons),
            c.incident_id in linked,
        )
        for c in found
    ]


def describe(reason: duplicates.Reason, taxonomy: Taxonomy, pseudonyms: Mapping[uuid.UUID, str]) -> str:
    """A reason in words, for the officer (pseudonyms, country names and tactic labels; never an identity)."""
    if reason.kind == "person":
        names = [pseudonyms.get(uuid.UUID(p), "a person") for p in reason.shared]
        return f"the same person: {', '.join(names)}"
    if reason.kind == "dates":
        if reason.days_apart == 0:
            return "dates that overlap"
        return f"dates {reason.days_apart} day{'s' if reason.days_apart != 1 else ''} apart"
    if reason.kind == "place":
        places = [f"{p.split('/', 1)[1].title()}, {country_name(p.split('/', 1)[0])}" for p in reason.shared]
        return f"the same place: {'; '.join(places)}"
    if reason.kind == "host":
        return f"the same host country: {', '.join(country_name(c) for c in reason.shared)}"
    if reason.kind == "origin":
        return f"the same origin state: {', '.join(country_name(c) for c in reason.shared)}"
    if reason.kind == "tactic":
        return f"the same tactics: {', '.join(taxonomy.tactics.label(t) for t in reason.shared)}"
    return reason.kind


def _candidate_ids(session: Session, new: duplicates.Profile, principal: Principal) -> list[int]:
    slack = dt.timedelta(days=duplicates.MAX_SLACK_DAYS)
    near = (Incident.date_start <= new.date_end + slack) & (Incident.date_end >= new.date_start - slack)
    where_or_whence = or_(
        Incident.id.in_(select(IncidentLocation.incident_id).where(IncidentLocation.country.in_(new.hosts))),
        Incident.id.in_(select(IncidentOrigin.incident_id).where(IncidentOrigin.country.in_(new.origins))),
    )
    conditions: list[ColumnElement[bool]] = [near & where_or_whence]
    if new.persons:
        conditions.append(
            Incident.id.in_(
                select(IncidentPerson.incident_id)
                .join(Person, Person.id == IncidentPerson.person_id)
                .where(Person.uuid.in_(new.persons))
            )
        )
    # Only incidents the officer may read: a suggestion must not show another focal point's coding.
    statement = select(Incident.id, Incident.date_start).where(or_(*conditions), *visible_incidents(session, principal))
    rows = session.execute(statement.order_by(Incident.date_start.desc(), Incident.id).limit(MAX_CANDIDATE_ROWS * 4))
    # Nearest in time first: a person in common with an incident years ago still makes the cut when few match.
    ordered = sorted(rows, key=lambda row: (abs((row.date_start - new.date_start).days), row.id))
    return [row.id for row in ordered[:MAX_CANDIDATE_ROWS]]


# -- helpers -----------------------------------------------------------------------------------------------------------


def _require_coder(principal: Principal) -> None:
    require(principal, "case:work")
    require(principal, "incident:write")


def _link(
    session: Session, principal: Principal, report: Report, incident_id: int, incident_uuid: uuid.UUID, *, created: bool
) -> None:
    session.add(
        ReportIncident(
            report_id=report.id,
            incident_id=incident_id,
            linked_at=utcnow(),
            account_id=principal.account_id,
            created=created,
        )
    )
    session.flush()
    record_change(session, principal, "link", "report", report.id, ["incidents"], note=f"incident {incident_uuid}")


def _person_loc(error: FieldError, picked: int) -> FieldError:
    """The incident's persons list holds the picks, then the new persons: point an error at the one it is about."""
    if len(error.loc) >= 2 and error.loc[0] == "persons" and isinstance(error.loc[1], int):
        index = error.loc[1]
        rest = error.loc[2:]
        if index < picked:
            return FieldError(("persons", index, *rest), error.msg)
        return FieldError(("new_persons", index - picked, *rest), error.msg)
    return error
