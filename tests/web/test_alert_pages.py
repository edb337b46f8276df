"""The alert pages (/app/alerts): writing one from an incident or a case, the confirmation before publishing, who may
publish (the owner's staff only), who reads it (the audience; anyone else gets 404), recipients' notes and opinions,
withdrawing, drafts proposed from the monitoring page's signals, CSRF on every form, and every refused field named
beside it. Both databases."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

import httpx2 as httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tnrwatch.domain.escalation import add_months
from tnrwatch.services import actors, alerts, coding, incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake
from tnrwatch.store.models import Alert

from ..factories import incident_data
from .test_case_pages import form_token, sign_in, words
from .test_coding_pages import field_error
from .test_incident_sharing_pages import make_analyst
from .test_staff_pages import OPERATOR, client, intake, make_officer, settings, submit_report

__all__ = ["client", "intake", "settings"]  # fixtures, used by name

GERMAN = Principal(None, "olga", "officer", "DE")


def signed_in(client: TestClient, *usernames: str) -> Callable[[str], None]:
    """Sign each in once (a TOTP code is good once) and return a switch between their sessions."""
    sessions = {}
    for username in usernames:
        client.cookies.clear()
        sign_in(client, username)
        sessions[username] = httpx.Cookies(client.cookies)

    def as_(username: str) -> None:
        client.cookies = sessions[username]

    return as_


def alert_form(token: str, **overrides: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf_token": token,
        "title": "Forced returns from Germany to Uzbekistan",
        "summary": "Three dissidents were deported within a week after consular visits.",
        "level": "warning",
        "tlp": "amber",
        "audience": ["eu", "jurisdiction:FR"],
    }
    form.update(overrides)
    return form


def alert_count(node: Node) -> int:
    with node.store.reading() as session:
        return session.scalar(select(func.count()).select_from(Alert)) or 0


def created_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:500]
    found = re.fullmatch(r"/app/alerts/([0-9a-f-]{36})", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def test_an_officer_alerts_from_an_incident_and_publishes_after_confirming(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    make_officer(node, "ines", "IT")
    make_analyst(node, "ana")
    incident = incidents.create_incident(node, GERMAN, incident_data(tlp="amber", title="Dissident deported"))
    as_ = signed_in(client, "olga", "fabien", "ines", "ana")

    as_("olga")
    incident_page = client.get(f"/app/incidents/{incident.id}").text
    assert f'href="/app/alerts/new?incident={incident.id}"' in incident_page
    form = client.get(f"/app/alerts/new?incident={incident.id}").text
    assert 'name="title" type="text" maxlength="300" value="Dissident deported"' in form  # the incident's title
    assert f'name="incident_ids" value="{incident.id}" checked' in form
    # An AMBER incident: the alert may be AMBER or stricter, never GREEN or CLEAR.
    assert re.findall(r'<option value="([a-z+]+)"(?: selected)?>TLP', form) == ["amber", "amber+strict", "red"]
    assert 'value="jurisdiction:DE"' not in form  # its own focal point reads it as the owner
    assert 'value="jurisdiction:FR"' in form
    token = form_token(client, "/app/alerts")

    alert_id = created_id(
        client.post("/app/alerts", data=alert_form(token, incident_ids=[str(incident.id)]), follow_redirects=False)
    )
    draft = words(client, f"/app/alerts/{alert_id}")
    assert "Draft" in draft
    assert "only DE's staff read it" in draft
    assert "To</dt><dd>the EU level; focal point FR</dd>" in draft
    assert f'href="/app/incidents/{incident.id}">Dissident deported</a>' in draft
    for outsider in ("fabien", "ana"):  # recipients read nothing before it is published
        as_(outsider)
        assert client.get(f"/app/alerts/{alert_id}").status_code == 404
        assert alert_id not in client.get("/app/alerts").text

    as_("olga")
    confirm = words(client, f"/app/alerts/{alert_id}/publish")
    assert "Publish this alert?" in confirm
    assert "it goes to <strong>the EU level, focal point FR</strong> under <strong>TLP:AMBER</strong>" in confirm
    assert client.post(f"/app/alerts/{alert_id}/publish", data={}).status_code == 403  # no CSRF token
    assert client.post(f"/app/alerts/{alert_id}/publish", data={"csrf_token": "0" * 64}).status_code == 403
    assert alerts.get_alert(node, GERMAN, uuid.UUID(alert_id)).status == "draft"
    published = client.post(f"/app/alerts/{alert_id}/publish", data={"csrf_token": token}, follow_redirects=False)
    assert published.status_code == 303
    assert "Published: its recipients read it." in words(client, f"/app/alerts/{alert_id}")
    again = client.post(f"/app/alerts/{alert_id}/publish", data={"csrf_token": token})
    assert again.status_code == 409
    assert "a published alert cannot become published" in again.text

    as_("fabien")
    listed = client.get("/app/alerts").text
    assert f'href="/app/alerts/{alert_id}"' in listed
    page = words(client, f"/app/alerts/{alert_id}")
    assert "Forced returns from Germany to Uzbekistan" in page
    assert "1 incident you may not read" in page  # Germany's unshared incident stays Germany's
    assert "/app/incidents/" not in page
    assert "Withdraw this alert" not in page
    assert "Review and publish" not in page
    fabien_token = form_token(client, f"/app/alerts/{alert_id}")
    # Publishing and withdrawing need the owner's staff.
    assert client.post(f"/app/alerts/{alert_id}/withdraw", data={"csrf_token": fabien_token}).status_code == 403
    assert client.get(f"/app/alerts/{alert_id}/publish").status_code == 403
    noted = client.post(
        f"/app/alerts/{alert_id}/comments",
        data={"csrf_token": fabien_token, "kind": "corroboration", "text": "Two more cases in Lyon."},
        follow_redirects=False,
    )
    assert noted.status_code == 303
    assert "Corroboration · fabien (FR)" in words(client, f"/app/alerts/{alert_id}")

    as_("ana")
    assert "Two more cases in Lyon." in client.get(f"/app/alerts/{alert_id}").text  # the EU level is named too

    as_("ines")  # Italy is not in the audience: the alert does not exist for it
    assert client.get(f"/app/alerts/{alert_id}").status_code == 404
    assert alert_id not in client.get("/app/alerts").text
    ines_token = form_token(client, "/app/alerts")
    comment = {"csrf_token": ines_token, "kind": "corroboration", "text": "x"}
    assert client.post(f"/app/alerts/{alert_id}/comments", data=comment).status_code == 404
    assert client.post(f"/app/alerts/{alert_id}/publish", data={"csrf_token": ines_token}).status_code == 404

    as_("olga")
    withdrawn = client.post(f"/app/alerts/{alert_id}/withdraw", data={"csrf_token": token}, follow_redirects=False)
    assert withdrawn.status_code == 303
    as_("fabien")
    assert "Withdrawn" in words(client, f"/app/alerts/{alert_id}")  # recipients keep it, marked withdrawn


def test_an_alert_from_a_case_starts_from_the_cases_incidents(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    report = submit_report(intake, "DE")
    green = incidents.create_incident(node, GERMAN, incident_data(tlp="green", title="Threats by phone"))
    red = incidents.create_incident(node, GERMAN, incident_data(tlp="red", title="Abduction attempt"))
    other = incidents.create_incident(node, GERMAN, incident_data(tlp="green", title="Not in this case"))
    for incident in (green, red):
        coding.link_incident(node, GERMAN, report.id, incident.id)
    sign_in(client, "olga")
    case_page = client.get(f"/app/reports/{report.id}").text
    assert f'href="/app/alerts/new?case={report.id}"' in case_page
    form = client.get(f"/app/alerts/new?case={report.id}").text
    for incident in (green, red):
        assert f'name="incident_ids" value="{incident.id}" checked' in form
    assert str(other.id) not in form
    assert re.findall(r'<option value="([a-z+]+)"(?: selected)?>TLP', form) == ["red"]  # the strictest incident's
    assert f'<a href="/app/reports/{report.id}">Back</a>' in form
    token = form_token(client, "/app/alerts")
    alert_id = created_id(
        client.post(
            "/app/alerts",
            data=alert_form(token, tlp="red", incident_ids=[str(green.id), str(red.id)], audience=["eu"]),
            follow_redirects=False,
        )
    )
    assert [i.title for i in alerts.alert_view(node, GERMAN, uuid.UUID(alert_id)).incidents] == [
        "Threats by phone",
        "Abduction attempt",
    ]
    assert client.get("/app/alerts/new?case=not-an-id").status_code == 422
    assert client.get(f"/app/alerts/new?case={uuid.uuid4()}").status_code == 404
    assert client.get(f"/app/alerts/new?incident={uuid.uuid4()}").status_code == 404


def test_every_refused_field_is_named_beside_it_and_nothing_is_saved(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE")
    amber = incidents.create_incident(node, GERMAN, incident_data(tlp="amber"))
    sign_in(client, "olga")
    token = form_token(client, "/app/alerts/new")
    refused = client.post(
        "/app/alerts",
        data=alert_form(
            token,
            title="",
            level="severe",
            audience=[],
            more_incidents="3f2b8c1e-5d4a-4e8f-9a7b-2c1d0e9f8a7b not-an-id",
            expires_at="next week",
        ),
    )
    assert refused.status_code == 422
    page = refused.text
    assert "The alert was not saved" in page
    assert field_error(page, "more_incidents") == "'not-an-id' is not an incident id"
    assert "is not a date and time" in field_error(page, "expires_at")
    assert field_error(page, "title")
    assert field_error(page, "level")
    assert field_error(page, "audience")
    assert 'id="f-title" name="title"' in page
    assert 'aria-invalid="true" aria-describedby="e-title' in page
    assert "Three dissidents were deported within a week" in page  # what was typed is kept
    # What only the service can tell: an incident that does not exist, a marking looser than an incident's.
    unknown = str(uuid.uuid4())
    refused = client.post("/app/alerts", data=alert_form(token, tlp="green", more_incidents=f"{amber.id}\n{unknown}"))
    assert refused.status_code == 422
    assert field_error(refused.text, "incident_ids") == f"no incident with id {unknown}"
    assert field_error(refused.text, "tlp") == ("incident 1 is marked TLP:AMBER: mark the alert at least as strictly")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post("/app/alerts", data=alert_form(token, expires_at=past))
    assert field_error(refused.text, "expires_at") == "the expiry has passed"
    assert alert_count(node) == 0
    assert client.post("/app/alerts", data=alert_form("")).status_code == 403  # no CSRF token
    assert alert_count(node) == 0


def test_recipients_comments_are_checked_field_by_field(client: TestClient, node: Node) -> None:
    make_officer(node, "fabien", "FR")
    alert = alerts.create_alert(
        node,
        GERMAN,
        {
            "title": "t",
            "summary": "s",
            "level": "urgent",
            "tlp": "amber",
            "audience": [{"kind": "jurisdiction", "value": "FR"}],
        },
    )
    alerts.publish_alert(node, GERMAN, alert.id)
    sign_in(client, "fabien")
    path = f"/app/alerts/{alert.id}"
    token = form_token(client, path)
    refused = client.post(f"{path}/comments", data={"csrf_token": token, "kind": "opinion", "text": ""})
    assert refused.status_code == 422
    assert field_error(refused.text, "text")
    assert field_error(refused.text, "opinion") == "an opinion says agree, disagree or unsure"
    assert client.post(f"{path}/comments", data={"kind": "opinion", "text": "x"}).status_code == 403
    given = client.post(
        f"{path}/comments",
        data={"csrf_token": token, "kind": "opinion", "opinion": "disagree", "text": "Not what we see."},
        follow_redirects=False,
    )
    assert given.status_code == 303
    assert "Opinion: <strong>disagree</strong> · fabien (FR)" in words(client, path)


def test_a_recipient_says_which_of_the_alerts_actors_it_saw_and_where(client: TestClient, node: Node) -> None:
    make_officer(node, "fabien", "FR")
    agency = actors.create_actor(
        node, OPERATOR, {"name": "State Security Service", "actor_type": "intelligence_service"}
    )
    other = actors.create_actor(node, OPERATOR, {"name": "Consulate", "actor_type": "diplomatic_mission"})
    alert = alerts.create_alert(
        node,
        GERMAN,
        {"title": "t", "summary": "s", "level": "urgent", "tlp": "amber",
         "audience": [{"kind": "jurisdiction", "value": "FR"}], "actor_ids": [str(agency.id)]},
    )  # fmt: skip
    alerts.publish_alert(node, GERMAN, alert.id)
    sign_in(client, "fabien")
    path = f"/app/alerts/{alert.id}"
    page = client.get(path).text
    assert re.findall(r'<option value="([0-9a-f-]{36})"', page) == [str(agency.id)]  # the alert's actors only
    assert '<option value="FR">France</option>' in page
    token = form_token(client, path)
    comment = {"csrf_token": token, "kind": "corroboration", "text": "Their officers, near the bus station."}

    refused = client.post(f"{path}/comments", data={**comment, "sighted_country": "FR"})
    assert refused.status_code == 422
    assert field_error(refused.text, "sighted_country") == "a country seen goes with the actor seen: name the actor too"
    assert '<option value="FR" selected>France</option>' in refused.text  # the choice is kept
    refused = client.post(f"{path}/comments", data={**comment, "sighted_actor_id": str(other.id)})
    assert (
        field_error(refused.text, "sighted_actor_id") == f"actor {other.id} is not one of the actors this alert names"
    )
    refused = client.post(
        f"{path}/comments",
        data={**comment, "kind": "opinion", "opinion": "agree", "sighted_actor_id": str(agency.id)},
    )
    assert field_error(refused.text, "sighted_actor_id").startswith("only a corroboration says what was seen")
    assert alerts.get_alert(node, GERMAN, alert.id).comments == []

    given = client.post(
        f"{path}/comments",
        data={**comment, "sighted_actor_id": str(agency.id), "sighted_country": "FR"},
        follow_redirects=False,
    )
    assert given.status_code == 303
    assert "Seen acting: <strong>State Security Service</strong> in France" in words(client, path)
    [stored] = alerts.get_alert(node, GERMAN, alert.id).comments
    assert (stored.sighted_actor_id, stored.sighted_country) == (agency.id, "FR")


def test_the_list_filters_by_status_and_level_and_a_draft_is_copied_into_a_new_alert(
    client: TestClient, node: Node
) -> None:
    make_officer(node, "olga", "DE")
    actor = actors.create_actor(
        node, OPERATOR, {"name": "State Security Service", "actor_type": "intelligence_service"}
    )
    audience = [{"kind": "eu"}]
    urgent = alerts.create_alert(
        node,
        GERMAN,
        {"title": "Urgent one", "summary": "s", "level": "urgent", "tlp": "red", "audience": audience,
         "actor_ids": [str(actor.id)]},
    )  # fmt: skip
    alerts.create_alert(
        node,
        GERMAN,
        {"title": "Calm one", "summary": "s", "level": "information", "tlp": "green", "audience": audience},
    )
    alerts.publish_alert(node, GERMAN, urgent.id)
    sign_in(client, "olga")
    everything = client.get("/app/alerts").text
    assert "Urgent one" in everything
    assert "Calm one" in everything
    assert "2 alerts, newest first" in words(client, "/app/alerts")
    drafts = client.get("/app/alerts?status=draft").text
    assert "Calm one" in drafts
    assert "Urgent one" not in drafts
    assert "Urgent one" in client.get("/app/alerts?level=urgent").text
    assert "No alert matches these filters." in client.get("/app/alerts?status=withdrawn").text
    assert client.get("/app/alerts?level=severe").status_code == 422
    copy = client.get(f"/app/alerts/new?from_alert={urgent.id}").text
    assert 'value="Urgent one"' in copy
    assert f'<option value="{actor.id}" selected>State Security Service</option>' in copy
    assert 'value="eu" checked' in copy


def test_a_signal_becomes_a_draft_that_waits_for_a_person(client: TestClient, node: Node) -> None:
    """Germany's incidents escalate; its officer proposes an alert from the signal, which is a draft nobody else
    reads until published."""
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    last = dt.date(2025, 6, 1)
    for back in range(3, 25, 3):
        data = incident_data(origin_countries=["RU"], date_start=add_months(last, -back).replace(day=5).isoformat())
        incidents.create_incident(node, GERMAN, data)
    for day in range(1, 9):
        data = incident_data(origin_countries=["RU"], date_start=last.replace(day=day).isoformat())
        incidents.create_incident(node, GERMAN, data)
    as_ = signed_in(client, "olga", "fabien")
    as_("olga")
    monitoring_page = client.get("/app/monitoring?as_of=2025-06").text
    assert 'action="/app/alerts/proposals"' in monitoring_page
    token = form_token(client, "/app/monitoring?as_of=2025-06")
    proposed = client.post(
        "/app/alerts/proposals",
        data={"csrf_token": token, "kind": "origin", "value": "RU", "as_of": "2025-06"},
        follow_redirects=False,
    )
    alert_id = created_id(proposed)
    page = words(client, f"/app/alerts/{alert_id}")
    assert "Escalation: Russia" in page
    assert "Draft" in page
    assert "proposed from an escalation signal" in page
    assert "origin:RU@2025-06" in page
    assert alerts.get_alert(node, GERMAN, uuid.UUID(alert_id)).status == "draft"
    missing = client.post(
        "/app/alerts/proposals", data={"csrf_token": token, "kind": "origin", "value": "CN", "as_of": "2025-06"}
    )
    assert missing.status_code == 404
    bad = client.post("/app/alerts/proposals", data={"csrf_token": token, "kind": "weather", "value": "RU"})
    assert bad.status_code == 422
    assert client.post("/app/alerts/proposals", data={"kind": "origin", "value": "RU"}).status_code == 403
    as_("fabien")
    assert client.get(f"/app/alerts/{alert_id}").status_code == 404
    # France's officer cannot read Germany's unshared incidents, so it has no such signal to propose from.
    fabien_token = form_token(client, "/app/alerts")
    refused = client.post(
        "/app/alerts/proposals", data={"csrf_token": fabien_token, "kind": "origin", "value": "RU", "as_of": "2025-06"}
    )
    assert refused.status_code == 404
