"""Alerts: drafts, publishing, withdrawing; who reads them (owner, audience) and who may change them; recipients'
comments; drafts proposed from escalation signals; every error named by its field. Both databases."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from sqlalchemy import delete

from tnrwatch.domain.alert import AlertOut
from tnrwatch.domain.escalation import SeriesKey, Signal
from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import actors, alerts, audit, incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Actor

from ..factories import incident_data

OPERATOR = Principal.operator()
GERMAN = Principal(None, "olga", "officer", "DE")
GERMAN_SUPERVISOR = Principal(None, "sabine", "supervisor", "DE")
FRENCH = Principal(None, "fabien", "officer", "FR")
ANALYST = Principal(None, "ana", "analyst")
LIAISON = Principal(None, "lia", "liaison")


def draft(node: Node, author: Principal = GERMAN, **changes: object) -> AlertOut:
    data: dict[str, object] = {
        "title": "Surge of forced returns from Türkiye",
        "summary": "Three deportations of Uzbek dissidents in a week.",
        "level": "warning",
        "tlp": "amber",
        "audience": [{"kind": "eu"}, {"kind": "jurisdiction", "value": "fr"}],
    }
    data.update(changes)
    return alerts.create_alert(node, author, data)


def test_a_draft_is_its_owners_until_published_then_its_audiences(node: Node) -> None:
    incident = incidents.create_incident(node, GERMAN, incident_data(tlp="amber"))
    actor = actors.create_actor(
        node, OPERATOR, {"name": "State Security Service", "actor_type": "intelligence_service"}
    )
    alert = draft(node, incident_ids=[str(incident.id)], actor_ids=[str(actor.id)])
    assert alert.status == "draft"
    assert alert.jurisdiction == "DE"
    assert alert.incident_ids == [incident.id]
    assert alert.actor_ids == [actor.id]
    assert [(a.kind, a.value) for a in alert.audience] == [("eu", ""), ("jurisdiction", "FR")]  # code upper-cased

    assert alerts.get_alert(node, GERMAN_SUPERVISOR, alert.id).id == alert.id  # the owner's staff read drafts
    for outsider in (FRENCH, ANALYST):
        with pytest.raises(NotFoundError):
            alerts.get_alert(node, outsider, alert.id)

    published = alerts.publish_alert(node, GERMAN, alert.id)
    assert published.status == "published"
    assert published.published_at is not None
    assert alerts.get_alert(node, FRENCH, alert.id).status == "published"  # named jurisdiction
    assert alerts.get_alert(node, ANALYST, alert.id).status == "published"  # the EU level
    assert [a.id for a in alerts.list_alerts(node, FRENCH)] == [alert.id]
    assert alerts.list_alerts(node, Principal(None, "ines", "officer", "IT")) == []  # not in the audience
    with pytest.raises(ForbiddenError):
        alerts.list_alerts(node, LIAISON)  # liaisons neither write nor receive alerts


def test_only_the_owner_publishes_or_withdraws_and_states_move_one_way(node: Node) -> None:
    alert = draft(node)
    alerts.publish_alert(node, GERMAN, alert.id)
    with pytest.raises(ForbiddenError, match="belongs to DE"):
        alerts.withdraw_alert(node, FRENCH, alert.id)  # a recipient, not the owner
    with pytest.raises(ConflictError, match="a published alert cannot become published"):
        alerts.publish_alert(node, GERMAN, alert.id)
    withdrawn = alerts.withdraw_alert(node, GERMAN, alert.id)
    assert withdrawn.status == "withdrawn"
    assert withdrawn.withdrawn_at is not None
    assert alerts.get_alert(node, FRENCH, alert.id).status == "withdrawn"  # recipients see it withdrawn
    with pytest.raises(ConflictError, match="a withdrawn alert cannot become published"):
        alerts.publish_alert(node, GERMAN, alert.id)
    dropped = alerts.withdraw_alert(node, GERMAN, draft(node).id)  # a draft dropped unseen
    with pytest.raises(NotFoundError):
        alerts.get_alert(node, FRENCH, dropped.id)
    page = audit.list_entries(node, OPERATOR, limit=100, where=audit.AuditFilter(entity="alert"))
    actions = [entry.action for entry in page.items]
    assert actions.count("publish") == 1
    assert actions.count("withdraw") == 2


def test_an_expired_draft_cannot_be_published(node: Node) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    alert = draft(node, expires_at=soon.isoformat())
    with pytest.raises(InvalidInputError) as refused:
        draft(node, expires_at=(dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat())
    assert refused.value.errors[0].loc == ("expires_at",)
    time.sleep(max(0.0, (soon - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)  # let it expire
    with pytest.raises(ConflictError, match="expired"):
        alerts.publish_alert(node, GERMAN, alert.id)


def test_every_bad_field_is_named(node: Node) -> None:
    hidden = incidents.create_incident(node, FRENCH, incident_data(tlp="amber"))  # France's, unshared
    with pytest.raises(InvalidInputError) as refused:
        draft(node, incident_ids=[str(hidden.id), str(uuid.uuid4())], actor_ids=[str(uuid.uuid4())])
    wrong = {error.loc for error in refused.value.errors}
    assert wrong == {("incident_ids", 0), ("incident_ids", 1), ("actor_ids", 0)}
    for changes, where in (
        ({"level": "severe"}, "level"),
        ({"tlp": "purple"}, "tlp"),
        ({"audience": []}, "audience"),
        ({"audience": [{"kind": "eu", "value": "x"}]}, "audience"),
        ({"audience": [{"kind": "jurisdiction", "value": "not a code"}]}, "audience"),
        ({"audience": [{"kind": "eu"}, {"kind": "eu"}]}, "audience"),
        ({"expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"title": ""}, "title"),
        ({"colour": "red"}, "colour"),
    ):
        with pytest.raises(InvalidInputError) as bad:
            draft(node, **changes)
        assert bad.value.errors[0].loc[0] == where, (changes, bad.value.errors)


def test_recipients_corroborate_and_give_opinions_on_published_alerts(node: Node) -> None:
    alert = draft(node)
    with pytest.raises(ConflictError, match="draft"):
        alerts.add_comment(node, GERMAN, alert.id, {"kind": "corroboration", "text": "Seen too."})
    alerts.publish_alert(node, GERMAN, alert.id)
    alerts.add_comment(node, FRENCH, alert.id, {"kind": "corroboration", "text": "Two more cases in Lyon."})
    alerts.add_comment(node, ANALYST, alert.id, {"kind": "opinion", "opinion": "agree", "text": "Consistent."})
    with pytest.raises(InvalidInputError):
        alerts.add_comment(node, ANALYST, alert.id, {"kind": "opinion", "text": "No verdict given."})
    italian = Principal(None, "ines", "officer", "IT")
    with pytest.raises(NotFoundError):  # not a recipient: as if the alert did not exist
        alerts.add_comment(node, italian, alert.id, {"kind": "corroboration", "text": "x"})
    comments = alerts.get_alert(node, GERMAN, alert.id).comments
    assert [(c.kind, c.opinion, c.author, c.jurisdiction) for c in comments] == [
        ("corroboration", None, "fabien", "FR"),
        ("opinion", "agree", "ana", None),
    ]


def test_a_corroboration_may_name_one_of_the_alerts_actors_seen_acting_and_where(node: Node) -> None:
    agency = actors.create_actor(
        node, OPERATOR, {"name": "State Security Service", "actor_type": "intelligence_service"}
    )
    unlinked = actors.create_actor(node, OPERATOR, {"name": "Consulate", "actor_type": "diplomatic_mission"})
    alert = alerts.publish_alert(node, GERMAN, draft(node, actor_ids=[str(agency.id)]).id)
    seen = {"kind": "corroboration", "text": "Their officers in Lyon."}

    added = alerts.add_comment(
        node, FRENCH, alert.id, {**seen, "sighted_actor_id": str(agency.id), "sighted_country": "fr"}
    )
    alerts.add_comment(node, FRENCH, alert.id, {**seen, "sighted_actor_id": str(agency.id)})

    assert (added.sighted_actor_id, added.sighted_country) == (agency.id, "FR")
    comments = alerts.get_alert(node, GERMAN, alert.id).comments
    assert [(c.sighted_actor_id, c.sighted_country) for c in comments] == [(agency.id, "FR"), (agency.id, None)]
    entries = audit.list_entries(node, OPERATOR, limit=10, where=audit.AuditFilter(entity="alert", action="comment"))
    assert sorted(entries.items[-1].fields) == ["corroboration", "sighted_actor_id", "sighted_country"]
    refusals = {
        "not the alert's": (
            {**seen, "sighted_actor_id": str(unlinked.id)},
            "sighted_actor_id",
            "not one of the actors",
        ),
        "no such actor": ({**seen, "sighted_actor_id": str(uuid.uuid4())}, "sighted_actor_id", "not one of the actors"),
        "an opinion": (
            {"kind": "opinion", "opinion": "agree", "text": "x", "sighted_actor_id": str(agency.id)},
            "sighted_actor_id",
            "only a corroboration",
        ),
        "a country alone": ({**seen, "sighted_country": "FR"}, "sighted_country", "name the actor too"),
        "not a country": (
            {**seen, "sighted_actor_id": str(agency.id), "sighted_country": "Lyon"},
            "sighted_country",
            "not an ISO 3166-1 alpha-2",
        ),
    }
    for case, (raw, field, words) in refusals.items():
        with pytest.raises(InvalidInputError) as refused:
            alerts.add_comment(node, FRENCH, alert.id, raw)
        [error] = refused.value.errors
        assert (error.loc, words in error.msg) == ((field,), True), (case, error)
    assert len(alerts.get_alert(node, GERMAN, alert.id).comments) == 2
    with node.store.writing() as session:  # an actor erased from the store leaves the comment, not the sighting
        session.execute(delete(Actor).where(Actor.uuid == agency.id))
    assert [c.sighted_actor_id for c in alerts.get_alert(node, GERMAN, alert.id).comments] == [None, None]


def test_a_signal_becomes_a_draft_with_its_evidence_for_a_person_to_publish(node: Node) -> None:
    month = dt.date(2026, 10, 1)
    signal = Signal(
        key=SeriesKey("pair", "UZ->TR"),
        month=month,
        span=3,
        observed=24,
        expected=0.6,
        dispersion=0.033,
        model="negative_binomial",
        statistic=29.91,
        p_value=9.4e-17,
        adjusted_p_value=4.1e-15,
        series=((month, 13),),
    )
    proposed = alerts.propose_from_signal(node, ANALYST, signal, "Uzbekistan → Türkiye")
    assert proposed.status == "draft"
    assert proposed.jurisdiction is None  # the EU level's
    assert proposed.title == "Escalation: Uzbekistan → Türkiye"
    assert "24 incidents" in proposed.summary
    assert "0.6 were expected" in proposed.summary
    assert proposed.source_signal == "pair:UZ->TR@2026-10"
    assert [a.kind for a in proposed.audience] == ["eu"]
    assert alerts.publish_alert(node, ANALYST, proposed.id).status == "published"
