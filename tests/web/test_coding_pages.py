"""Coding incidents from the case page: the form and its errors beside each field, the duplicate step (link instead,
or create anyway), linking by id, the incident's page, and another Member State's officer, who gets 404 everywhere.
Both databases."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tnrwatch.services import persons
from tnrwatch.services.incidents import create_incident
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.store.models import Incident, ReportIncident

from ..factories import incident_data
from .test_case_pages import form_token, sign_in, words
from .test_staff_pages import OPERATOR, client, intake, make_officer, settings, submit_report

__all__ = ["client", "intake", "settings"]  # fixtures, used by name


def coding_form(token: str, **overrides: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf_token": token,
        "title": "Activist followed home by two men",
        "date_start": "2026-10-03",
        "date_precision": "day",
        "origin_countries": ["IR"],
        "host_country": "DE",
        "geo_precision": "place",
        "place": "Berlin",
        "host_state_role": "unknown",
        "tactics": ["stalking", "threats"],
        "verification": "reported",
        "tlp": "amber",
        "sources-0-title": "Report to the focal point",
        "sources-0-reliability": "C",
        "sources-0-credibility": "3",
        "persons-0-pseudonym": "P-TARGET01",
        "persons-0-role": "target",
    }
    form.update(overrides)
    return form


def field_error(page: str, name: str) -> str:
    """The error shown beside the field `name` (its id is e-<name>); fails when there is none."""
    found = re.search(rf'<p id="e-{re.escape(name)}" class="staff-field-error">([^<]*)</p>', page)
    assert found, f"no error beside {name}"
    return html.unescape(found.group(1))


def test_an_officer_codes_an_incident_and_sees_it_on_the_case_page(
    client: TestClient, node: Node, intake: Intake
) -> None:
    make_officer(node, "olga", "DE")
    report = submit_report(intake, "DE")
    persons.create_person(node, OPERATOR, {"pseudonym": "P-TARGET01"})
    sign_in(client, "olga")
    case = f"/app/reports/{report.id}"
    assert "No incident is coded from this report yet." in words(client, case)
    form_page = client.get(f"{case}/incidents/new")
    assert form_page.status_code == 200
    assert '<option value="DE" selected>Germany</option>' in form_page.text  # the focal point's country first
    assert "Stalking" in form_page.text  # tactics by their labels
    assert '<option value="P-TARGET01">' in form_page.text
    token = form_token(client, f"{case}/incidents/new")

    saved = client.post(f"{case}/incidents", data=coding_form(token), follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{case}#coding-title"
    page = client.get(case).text
    [incident_id] = re.findall(r'href="/app/incidents/([0-9a-f-]{36})"', page)
    assert "Activist followed home by two men" in page
    assert "Coded by olga" in " ".join(page.split())

    incident_page = words(client, f"/app/incidents/{incident_id}")
    assert "P-TARGET01" in incident_page
    assert "graded <strong>C3</strong> (fairly reliable; possibly true)" in incident_page
    assert f'href="/app/reports/{report.id}"' in incident_page
    assert client.get("/app/incidents/3f2b8c1e-5d4a-4e8f-9a7b-2c1d0e9f8a7b").status_code == 404


def test_form_errors_are_shown_beside_each_field_and_the_input_is_kept(
    client: TestClient, node: Node, intake: Intake
) -> None:
    make_officer(node, "olga", "DE")
    report = submit_report(intake, "DE")
    sign_in(client, "olga")
    case = f"/app/reports/{report.id}"
    token = form_token(client, f"{case}/incidents/new")
    refused = client.post(
        f"{case}/incidents",
        data=coding_form(
            token,
            title="",
            date_start="2026-13-40",
            tactics=[],
            place="",
            **{
                "sources-1-title": "A second source",
                "sources-1-url": "not a web address",
                "persons-0-pseudonym": "P-NOBODY00",
                "new_persons-1-date_of_birth": "1990-01-01",
                "summary": "kept as typed",
            },
        ),
    )
    assert refused.status_code == 422
    page = refused.text
    assert field_error(page, "title")
    assert field_error(page, "date_start")
    assert field_error(page, "tactics")
    assert "needs a place name" in field_error(page, "location")
    assert field_error(page, "sources-1-url")
    assert "no person with the pseudonym 'P-NOBODY00'" in field_error(page, "persons-0-pseudonym")
    assert field_error(page, "new_persons-1-full_name") == "required"
    assert 'aria-invalid="true" aria-describedby="e-title' in page
    assert ">kept as typed</textarea>" in page
    assert 'value="A second source"' in page
    assert '<a href="#f-sources-1-url">Source 2, url</a>' in page  # the summary links to the field
    with node.store.reading() as session:
        assert session.scalar(select(Incident.id)) is None


def test_the_duplicate_step_offers_to_link_or_to_create_anyway(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    report = submit_report(intake, "DE")
    person = persons.create_person(node, OPERATOR, {"pseudonym": "P-TARGET01"})
    existing = create_incident(
        node,
        OPERATOR,
        incident_data(
            title="Dissident followed in Berlin",
            date_start="2026-10-02",
            locations=[{"country": "DE", "geo_precision": "place", "place": "Berlin"}],
            origin_countries=["IR"],
            tactics=["stalking"],
            persons=[{"id": str(person.id)}],
        ),
    )
    sign_in(client, "olga")
    case = f"/app/reports/{report.id}"
    token = form_token(client, f"{case}/incidents/new")
    step = client.post(f"{case}/incidents", data=coding_form(token))
    assert step.status_code == 200
    text = " ".join(step.text.split())
    assert "This incident may be coded already" in text
    assert "Dissident followed in Berlin" in text
    assert "the same person: P-TARGET01; dates 1 day apart; the same place: Berlin, Germany" in text
    assert 'name="incident_id" value="' + str(existing.id) + '"' in text
    assert 'form="coding-form" name="confirm" value="yes"' in text
    assert 'value="Activist followed home by two men"' in text  # the form keeps what was typed
    with node.store.reading() as session:
        assert len(session.scalars(select(Incident.id)).all()) == 1

    linked = client.post(
        f"{case}/incidents/link", data={"csrf_token": token, "incident_id": str(existing.id)}, follow_redirects=False
    )
    assert linked.status_code == 303
    assert "Linked by olga" in words(client, case)

    anyway = client.post(f"{case}/incidents", data=coding_form(token, confirm="yes"), follow_redirects=False)
    assert anyway.status_code == 303
    with node.store.reading() as session:
        assert len(session.scalars(select(ReportIncident.incident_id)).all()) == 2


def test_linking_by_id_explains_a_bad_or_unknown_id(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    report = submit_report(intake, "DE")
    existing = create_incident(node, OPERATOR, incident_data())
    sign_in(client, "olga")
    case = f"/app/reports/{report.id}"
    token = form_token(client, case)
    bad = client.post(f"{case}/incidents/link", data={"csrf_token": token, "incident_id": "incident 7"})
    assert bad.status_code == 422
    assert "give the incident's id" in html.unescape(bad.text)
    unknown = client.post(
        f"{case}/incidents/link", data={"csrf_token": token, "incident_id": "3f2b8c1e-5d4a-4e8f-9a7b-2c1d0e9f8a7b"}
    )
    assert unknown.status_code == 404
    assert "no incident with id 3f2b8c1e-5d4a-4e8f-9a7b-2c1d0e9f8a7b" in unknown.text
    assert client.post(f"{case}/incidents/link", data={"incident_id": str(existing.id)}).status_code == 403  # no CSRF
    ok = client.post(f"{case}/incidents/link", data={"csrf_token": token, "incident_id": f" {existing.id} "})
    assert ok.status_code == 200  # followed the redirect to the case page
    again = client.post(f"{case}/incidents/link", data={"csrf_token": token, "incident_id": str(existing.id)})
    assert again.status_code == 409
    assert "already linked to this report" in again.text


def test_another_member_states_officer_gets_not_found(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    report = submit_report(intake, "DE")
    existing = create_incident(node, OPERATOR, incident_data())
    sign_in(client, "fabien")
    token = form_token(client, "/app/keys")
    case = f"/app/reports/{report.id}"
    assert client.get(f"{case}/incidents/new").status_code == 404
    assert client.post(f"{case}/incidents", data=coding_form(token)).status_code == 404
    assert (
        client.post(f"{case}/incidents/link", data={"csrf_token": token, "incident_id": str(existing.id)}).status_code
        == 404
    )
    assert (
        client.post(f"{case}/incidents/link", data={"csrf_token": token, "incident_id": "nonsense"}).status_code == 404
    )
    page = client.get(f"/app/incidents/{existing.id}")  # incidents are shared data: readable, but not Germany's report
    assert page.status_code == 200
    assert str(report.id) not in page.text
    with node.store.reading() as session:
        assert session.scalar(select(ReportIncident.incident_id)) is None


def test_indicators_are_coded_in_rows_refused_beside_their_field_and_shown_on_the_incident(
    client: TestClient, node: Node, intake: Intake
) -> None:
    make_officer(node, "olga", "DE")
    report = submit_report(intake, "DE")
    persons.create_person(node, OPERATOR, {"pseudonym": "P-TARGET01"})
    sign_in(client, "olga")
    case = f"/app/reports/{report.id}"
    form_page = client.get(f"{case}/incidents/new").text
    assert '<option value="file-sha256">File (SHA-256)</option>' in form_page
    token = form_token(client, f"{case}/incidents/new")
    rows = {
        "indicators-0-kind": "domain-name",
        "indicators-0-value": "update-check.example[.]com",
        "indicators-0-note": "Contacted by the phone",
        "indicators-0-first_seen": "2026-09-30",
        "indicators-1-kind": "url",  # an untouched row: no value, nothing coded
        "indicators-2-kind": "ipv4-addr",
        "indicators-2-value": "192.0.2.300",
    }
    refused = client.post(f"{case}/incidents", data=coding_form(token, tactics=["spyware"], **rows))
    assert refused.status_code == 422
    assert "one IPv4 address" in field_error(refused.text, "indicators-2-value")
    assert 'value="update-check.example[.]com"' in refused.text  # the input is kept as typed
    assert "Indicator 3, value" in refused.text  # the summary names the row

    saved = client.post(
        f"{case}/incidents",
        data=coding_form(token, tactics=["spyware"], **{**rows, "indicators-2-value": "192.0.2.30"}),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    [incident_id] = re.findall(r'href="/app/incidents/([0-9a-f-]{36})"', client.get(case).text)
    page = words(client, f"/app/incidents/{incident_id}")
    assert 'Domain name: <span class="staff-id">update-check.example.com</span>' in page
    assert "seen from" in page
    assert "Contacted by the phone" in page
    assert '<span class="staff-id">192.0.2.30</span>' in page
    assert "only at TLP:AMBER or stricter" in page
