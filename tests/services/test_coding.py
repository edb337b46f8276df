"""Coding incidents from reports: created with new persons (identity in the vault) and linked to the report, linked
to existing incidents, duplicates found with their reasons before anything is stored, the jurisdiction boundary and
the permissions, and the audit log. Both databases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from tnrwatch.crypto import envelope
from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import accounts, cases, coding, persons
from tnrwatch.services.actors import create_actor
from tnrwatch.services.coding import NewPerson, PersonPick
from tnrwatch.services.incidents import create_incident
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake, SealedKey
from tnrwatch.store.models import AuditEntry, Incident, PersonIdentity, ReportIncident

from ..factories import incident_data
from .test_reports import accounts_id, make_officer, send_report

NAME = "Leyla Canary-Name"


@pytest.fixture
def intake(node: Node) -> Intake:
    return Intake(node)


def coded(**overrides: Any) -> dict[str, Any]:
    """An incident as an officer codes it from a German report."""
    fields: dict[str, Any] = {
        "title": "Activist followed home by two men",
        "date_start": "2026-10-03",
        "locations": [{"country": "DE", "geo_precision": "place", "place": "Berlin"}],
        "origin_countries": ["IR"],
        "tactics": ["stalking", "threats"],
        "sources": [{"title": "Report to the focal point", "reliability": "C", "credibility": "3"}],
    }
    return incident_data(**{**fields, **overrides})


def audit_entries(node: Node) -> list[tuple[str, str, str]]:
    with node.store.reading() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.entity, AuditEntry.note).order_by(AuditEntry.id))
        return [(action, entity, note) for action, entity, note in rows]


def test_an_officer_codes_an_incident_with_a_new_person_from_a_report(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    report_id = send_report(intake, "DE").report_id
    actor = create_actor(
        node, Principal.operator(), {"name": "Ministry of Intelligence", "actor_type": "intelligence_service"}
    )
    result = coding.code_incident(
        node,
        olga.principal,
        report_id,
        coded(actors=[{"id": str(actor.id), "role": "suspected"}]),
        new_persons=[NewPerson({"at_risk": True, "identity": {"full_name": NAME}}, "target")],
    )
    incident = result.incident
    assert incident is not None
    assert result.duplicates == ()
    assert incident.coded_by == "olga"
    assert [s.reliability + s.credibility for s in incident.sources] == ["C3"]
    assert [(a.id, a.role) for a in incident.actors] == [(actor.id, "suspected")]
    [link] = incident.persons
    person = persons.get_person(node, olga.principal, link.id, with_identity=True)
    assert person.at_risk
    assert person.identity is not None
    assert person.identity.full_name == NAME
    with node.store.reading() as session:  # the name is in the vault only, as ciphertext
        sealed = session.scalars(select(PersonIdentity.ciphertext)).all()
        assert sealed
        assert all(NAME.encode() not in ciphertext for ciphertext in sealed)

    [listed] = coding.report_incidents(node, olga.principal, report_id)
    assert (listed.id, listed.title, listed.username, listed.created) == (incident.id, incident.title, "olga", True)
    assert coding.incident_reports(node, olga.principal, incident.id) == (report_id,)
    entries = audit_entries(node)
    assert ("create", "person", "") in entries
    assert ("create", "incident", "") in entries
    assert ("link", "report", f"incident {incident.id}") in entries
    assert all(NAME not in note for _, _, note in entries)


def test_every_problem_is_reported_with_its_field_path_and_nothing_is_stored(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    report_id = send_report(intake, "DE").report_id
    with pytest.raises(InvalidInputError) as refused:
        coding.code_incident(
            node,
            olga.principal,
            report_id,
            coded(title="", tactics=[], sources=[{"title": "A", "reliability": "Z"}]),
            persons=[PersonPick("P-NOBODY00")],
            new_persons=[NewPerson({"identity": {"date_of_birth": "1990-01-01"}}, "suspect")],
        )
    where = {error.where() for error in refused.value.errors}
    assert where >= {
        "title",
        "tactics",
        "sources.0.reliability",
        "persons.0.pseudonym",
        "new_persons.0.identity.full_name",
        "new_persons.0.role",
    }
    with node.store.reading() as session:
        assert session.scalar(select(Incident.id)) is None
        assert session.scalar(select(ReportIncident.incident_id)) is None


def test_duplicates_are_found_with_their_reasons_before_anything_is_stored(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    report_id = send_report(intake, "DE").report_id
    target = persons.create_person(node, olga.principal, {"pseudonym": "P-TARGET01"})
    first = coding.code_incident(
        node, olga.principal, report_id, coded(), persons=[PersonPick("P-TARGET01", "target")]
    ).incident
    assert first is not None
    unrelated = create_incident(
        node, Principal.operator(), incident_data(date_start="2019-05-01", origin_countries=["CN"])
    )

    second_report = send_report(intake, "DE").report_id
    again = coding.code_incident(
        node,
        olga.principal,
        second_report,
        coded(title="Same man, same street", date_start="2026-10-04"),
        persons=[PersonPick("P-TARGET01")],
    )
    assert again.incident is None
    [duplicate] = again.duplicates
    assert duplicate.incident.id == first.id
    assert duplicate.incident.id != unrelated.id
    assert not duplicate.linked
    assert duplicate.score > 0.9
    assert duplicate.reasons[0] == "the same person: P-TARGET01"
    assert "dates 1 day apart" in duplicate.reasons
    assert "the same place: Berlin, Germany" in duplicate.reasons
    assert "the same origin state: Iran" in duplicate.reasons
    with node.store.reading() as session:
        assert len(session.scalars(select(Incident.id)).all()) == 2  # nothing new yet

    # Linking the report to the one found instead; coding the same again from the first report shows it as linked.
    coding.link_incident(node, olga.principal, second_report, first.id)
    assert [(i.id, i.created) for i in coding.report_incidents(node, olga.principal, second_report)] == [
        (first.id, False)
    ]
    assert set(coding.incident_reports(node, olga.principal, first.id)) == {report_id, second_report}
    with pytest.raises(ConflictError, match="already linked"):
        coding.link_incident(node, olga.principal, second_report, first.id)
    shown = coding.code_incident(node, olga.principal, report_id, coded(), persons=[PersonPick("P-TARGET01")])
    assert [d.linked for d in shown.duplicates] == [True]

    # Confirmed as new: stored, duplicates or not.
    confirmed = coding.code_incident(
        node, olga.principal, second_report, coded(), persons=[PersonPick("P-TARGET01")], confirm=True
    )
    assert confirmed.incident is not None
    assert len(coding.report_incidents(node, olga.principal, second_report)) == 2
    assert target.id in {p.id for p in confirmed.incident.persons}
    links = [e for e in audit_entries(node) if e[0] == "link"]
    assert len(links) == 3  # created, linked, created again


def test_near_dates_and_the_same_country_without_a_person_are_a_duplicate_far_ones_are_not(
    node: Node, intake: Intake
) -> None:
    olga = make_officer(node, "olga", "DE")
    report_id = send_report(intake, "DE").report_id
    stored = create_incident(node, Principal.operator(), coded(date_start="2026-10-01", date_precision="month"))
    near = coding.find_duplicates(node, olga.principal, _parsed(node, coded(date_start="2026-10-20")))
    assert [d.incident.id for d in near] == [stored.id]
    assert "dates that overlap" in near[0].reasons
    far = coding.find_duplicates(node, olga.principal, _parsed(node, coded(date_start="2027-06-20")))
    assert far == []
    assert coding.code_incident(node, olga.principal, report_id, coded(date_start="2027-06-20")).incident is not None


def _parsed(node: Node, raw: dict[str, Any]) -> Any:
    from tnrwatch.domain.incident import IncidentIn
    from tnrwatch.domain.validation import validate

    return validate(IncidentIn, raw, node.taxonomy)


def test_another_jurisdiction_gets_not_found_and_a_referred_one_may_code(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    fabien = make_officer(node, "fabien", "FR")
    sent = send_report(intake, "DE")
    other = create_incident(node, Principal.operator(), incident_data())
    for attempt in (
        lambda: coding.code_incident(node, fabien.principal, sent.report_id, coded()),
        lambda: coding.link_incident(node, fabien.principal, sent.report_id, other.id),
        lambda: coding.report_incidents(node, fabien.principal, sent.report_id),
        lambda: coding.start_coding(node, fabien.principal, sent.report_id),
        lambda: coding.code_incident(node, olga.principal, uuid.uuid4(), coded()),
    ):
        with pytest.raises(NotFoundError, match="no such report in your jurisdiction"):
            attempt()
    with node.store.reading() as session:
        assert session.scalar(select(ReportIncident.incident_id)) is None
    assert coding.incident_reports(node, fabien.principal, other.id) == ()

    # Referred to France's focal point: its officer sees the report, and may code from it.
    thread, key = intake.officer_thread(olga.principal, sent.report_id)
    assert key is not None
    report_key = envelope.open_report_key(thread.sealed_key, olga.private_key, sent.report_id, str(key.id))
    sealed = [
        SealedKey(k.id, envelope.seal_report_key(report_key, k.public_key, sent.report_id, str(k.id)))
        for k in intake.recipients("FR")
    ]
    cases.refer(node, olga.principal, sent.report_id, "focal_point", to_jurisdiction="FR", sealed_keys=sealed)
    linked = coding.link_incident(node, fabien.principal, sent.report_id, other.id)
    assert linked.id == other.id
    assert [i.username for i in coding.report_incidents(node, olga.principal, sent.report_id)] == ["fabien"]
    with pytest.raises(NotFoundError, match="no incident"):
        coding.link_incident(node, fabien.principal, sent.report_id, uuid.uuid4())


def test_roles_without_the_permissions_are_forbidden(node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    report_id = send_report(intake, "DE").report_id
    other = create_incident(node, Principal.operator(), incident_data())
    for role in ("analyst", "liaison", "auditor", "admin"):
        accounts.add_account(node, Principal.operator(), f"user-{role}", role, jurisdiction=None)
        principal = Principal(accounts_id(node, f"user-{role}"), f"user-{role}", role)
        with pytest.raises(ForbiddenError):
            coding.code_incident(node, principal, report_id, coded())
        with pytest.raises(ForbiddenError):
            coding.link_incident(node, principal, report_id, other.id)
        with pytest.raises(ForbiddenError):
            coding.start_coding(node, principal, report_id)
    assert coding.case_section(node, principal, report_id) is None  # the admin reads no incidents
    with node.store.reading() as session:
        assert session.scalar(select(ReportIncident.incident_id)) is None
