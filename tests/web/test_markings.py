"""Markings that hold: one node holding incidents and alerts at every TLP marking, owned by a focal point and by the
node, and objects received from a partner at every marking; staff of every reading role, and partner nodes of every
clearance. Then every way out is driven for every recipient: the incident and alert API, the map, the STIX and MISP
exports, the inbox and webhooks of a catch-all subscription, and every TAXII collection over HTTP. Each thing a
recipient got is checked against the TLP 2.0 rules as written below (restated here, not imported, so that the
policy code is checked against the text and not against itself), and each recipient must have got everything the
rules allow it through TAXII and the API, so that a route that hands out nothing cannot pass. Both databases."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.interop.stix import tlp_marking_id
from tnrwatch.services import (
    accounts,
    alerts,
    exports,
    incidents,
    partners,
    stix_import,
    worker,
)
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.taxonomy import default_taxonomy
from tnrwatch.web.app import create_app

from ..factories import incident_data
from ..receivers import webhook_receiver

OPERATOR = Principal.operator()
TLPS = ("clear", "green", "amber", "amber+strict", "red")
RANK = {tlp: n for n, tlp in enumerate(TLPS)}
SOURCE = "p-source"  # the partner the received objects come from

# Staff: (username, role, jurisdiction). The liaison reads incidents but no alerts.
STAFF = (
    ("de-off", "officer", "DE"),
    ("fr-off", "officer", "FR"),
    ("it-sup", "supervisor", "IT"),
    ("eu-ana", "analyst", None),
    ("liaison", "liaison", None),
)
# Partner nodes: (name, clearance, client).
PARTNERS = (
    ("p-red", "red", False),
    ("p-amber-client", "amber", True),
    ("p-amber", "amber", False),
    ("p-green", "green", False),
    ("p-clear", "clear", False),
    (SOURCE, "red", False),
)
NAMED = frozenset({"p-red", "p-amber-client", "p-green"})  # the partners every alert names


# -- the rules, restated from TLP 2.0 and the policy text -------------------------------------------------------------


def staff_reads_incident(role: str, jurisdiction: str | None, owner: str | None, tlp: str, shared: bool) -> bool:
    """Focal points read their own, the node's below RED and others' shared GREEN/CLEAR; the EU level reads the
    node's (RED too) and what was shared with it below RED; the liaison like a focal point without its own."""
    if role in ("officer", "supervisor"):
        if owner == jurisdiction:
            return True
        return tlp != "red" if owner is None else shared and tlp in ("clear", "green")
    if role == "analyst":
        return True if owner is None else shared and tlp != "red"
    if role == "liaison":
        return tlp != "red" if owner is None else shared and tlp in ("clear", "green")
    return False


def staff_reads_alert(role: str, jurisdiction: str | None, alert: Made) -> bool:
    """Its owner's staff, and its named audience once published: a jurisdiction's focal point, the EU analysts."""
    if role in ("officer", "supervisor"):
        return jurisdiction == alert.owner or jurisdiction in alert.audience_codes
    return role == "analyst" and alert.audience_eu


def partner_receives(name: str, clearance: str, client: bool, tlp: str, source: str, named: frozenset[str]) -> bool:
    """Never above clearance or back to the source; CLEAR and GREEN to the community; beyond, what this node wrote
    only to the partners it named, and what it received only at AMBER and only to its clients."""
    if RANK[tlp] > RANK[clearance] or name == source:
        return False
    if tlp in ("clear", "green"):
        return True
    if source == "local":
        return name in named
    return tlp == "amber" and client


# -- the node, filled ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    uuid: uuid.UUID
    tlp: str
    owner: str | None = None
    shared: bool = False
    audience_codes: frozenset[str] = frozenset()
    audience_eu: bool = False


@dataclass
class World:
    client: TestClient
    node: Node
    incidents: dict[uuid.UUID, Made]
    alerts: dict[uuid.UUID, Made]
    received: dict[str, str]  # STIX id of a received object -> its marking
    staff: dict[str, tuple[str, str | None, dict[str, str]]]  # username -> role, jurisdiction, auth headers
    tokens: dict[str, str]  # partner -> TAXII token
    webhooks: Any


def _principal(node: Node, headers: dict[str, str]) -> Principal:
    return accounts.authenticate(node, headers["Authorization"].removeprefix("Bearer "))


@pytest.fixture
def world(settings: Settings, node: Node) -> Iterator[World]:
    staff: dict[str, tuple[str, str | None, dict[str, str]]] = {}
    for username, role, jurisdiction in STAFF:
        accounts.add_account(node, OPERATOR, username, role, jurisdiction=jurisdiction)
        token = accounts.create_token(node, OPERATOR, username).token
        staff[username] = (role, jurisdiction, {"Authorization": f"Bearer {token}"})
    tokens = {}
    for name, clearance, client in PARTNERS:
        partners.add_partner(node, OPERATOR, name, clearance, client=client)
        tokens[name] = partners.create_token(node, OPERATOR, name).token

    with (
        webhook_receiver() as webhooks,
        TestClient(create_app(settings.model_copy(update={"worker": "off"}), node)) as client,
    ):
        for username, (_, _, headers) in staff.items():
            if username != "liaison":  # subscriptions need alert or incident readers; the liaison reads incidents
                created = client.post(
                    "/api/v1/subscriptions",
                    json={"name": "Everything", "webhook_url": webhooks.endpoint(username)},
                    headers=headers,
                )
                assert created.status_code == 201, created.text
                webhooks.endpoints[f"/{username}"].secret = created.json()["webhook_secret"]
        made_incidents: dict[uuid.UUID, Made] = {}
        made_alerts: dict[uuid.UUID, Made] = {}
        german = _principal(node, staff["de-off"][2])
        for tlp in TLPS:
            for owner, principal in (("DE", german), (None, OPERATOR)):
                created = incidents.create_incident(node, principal, incident_data(tlp=tlp, title=f"{owner} {tlp}"))
                shared = owner is not None and tlp != "red"  # a focal point shares all but RED with the EU level
                if shared:
                    incidents.share_with_eu(node, principal, created.id, True)
                made_incidents[created.id] = Made(created.id, tlp, owner, shared)
            german_incident = next(m for m in made_incidents.values() if m.owner == "DE" and m.tlp == tlp)
            audience = [{"kind": "eu"}, {"kind": "jurisdiction", "value": "FR"}]
            audience += [{"kind": "partner", "value": name} for name in sorted(NAMED)]
            draft = alerts.create_alert(
                node,
                german,
                {
                    "title": f"Alert {tlp}",
                    "summary": "Deportations this week.",
                    "level": "urgent",
                    "tlp": tlp,
                    "audience": audience,
                    "incident_ids": [str(german_incident.uuid)],
                },
            )
            alerts.publish_alert(node, german, draft.id)
            made_alerts[draft.id] = Made(draft.id, tlp, "DE", audience_codes=frozenset({"FR"}), audience_eu=True)

        received = {}
        objects = []
        for n, tlp in enumerate(TLPS):
            stix_id = f"threat-actor--{uuid.UUID(int=n + 1, version=4)}"
            received[stix_id] = tlp
            objects.append(
                {
                    "type": "threat-actor",
                    "spec_version": "2.1",
                    "id": stix_id,
                    "created": "2026-11-01T00:00:00.000Z",
                    "modified": "2026-11-01T00:00:00.000Z",
                    "name": f"Received actor {tlp}",
                    "object_marking_refs": [tlp_marking_id(tlp, default_taxonomy())],
                }
            )
        imported = stix_import.import_objects(node, objects, source_partner=SOURCE)
        assert imported.count("failed") == 0, imported.failures
        yield World(client, node, made_incidents, made_alerts, received, staff, tokens, webhooks)


def _text_of(fmt: str, exported: bytes) -> str:
    if fmt != "xlsx":
        return exported.decode()
    workbook = openpyxl.load_workbook(io.BytesIO(exported), read_only=True)
    return " ".join(str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row)


def _all_pages(client: TestClient, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while url:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items.extend(body["items"])
        url = f"/api/v1/incidents?cursor={body['next_cursor']}" if body.get("next_cursor") else ""
    return items


# -- the ways out ---------------------------------------------------------------------------------------------------


def test_the_api_and_the_map_hand_staff_exactly_what_their_markings_allow(world: World) -> None:
    for username, (role, jurisdiction, headers) in world.staff.items():
        expected = {
            m.uuid
            for m in world.incidents.values()
            if staff_reads_incident(role, jurisdiction, m.owner, m.tlp, m.shared)
        }
        listed = {uuid.UUID(item["id"]) for item in _all_pages(world.client, "/api/v1/incidents?limit=100", headers)}
        assert listed == expected, username
        for made in world.incidents.values():
            status = world.client.get(f"/api/v1/incidents/{made.uuid}", headers=headers).status_code
            assert (status == 200) == (made.uuid in expected), (username, made)
        total = world.client.get("/api/v1/map", headers=headers).json()["total"]
        assert total == len(expected), username
        if role == "liaison":
            continue
        readable = {m.uuid for m in world.alerts.values() if staff_reads_alert(role, jurisdiction, m)}
        assert bool(readable) == (username != "it-sup"), username  # IT neither owns nor is named
        listed_alerts = {uuid.UUID(a["id"]) for a in world.client.get("/api/v1/alerts", headers=headers).json()}
        assert listed_alerts == readable, username


def test_exports_hand_out_only_what_the_exporting_account_reads(world: World) -> None:
    for username, (role, jurisdiction, headers) in world.staff.items():
        principal = _principal(world.node, headers)
        expected = {
            m.uuid
            for m in world.incidents.values()
            if staff_reads_incident(role, jurisdiction, m.owner, m.tlp, m.shared)
        }
        for fmt in exports.FORMATS:
            sink = io.BytesIO()
            exports.export_incidents(world.node, principal, IncidentFilter(), fmt, sink)
            text = _text_of(fmt, sink.getvalue())
            for made in world.incidents.values():
                assert (str(made.uuid) in text) == (made.uuid in expected), (username, fmt, made)


def test_the_inbox_and_webhooks_tell_no_one_of_what_they_may_not_read(world: World) -> None:
    worker.run_once(world.node)
    for username, (role, jurisdiction, headers) in world.staff.items():
        if username == "liaison":
            continue
        inbox = world.client.get("/api/v1/inbox?limit=500", headers=headers).json()
        told = {(item["topic"], uuid.UUID(item["subject_id"])) for item in inbox}
        arrivals = [a for a in world.webhooks.arrivals if a.path == f"/{username}"]
        hooked = {(a.body["topic"], uuid.UUID(a.body["subject_id"])) for a in arrivals}
        assert told == hooked, username  # both channels of the one subscription carry the same events
        assert told, username
        for topic, subject in told:
            if topic == "incident":
                made = world.incidents[subject]
                assert staff_reads_incident(role, jurisdiction, made.owner, made.tlp, made.shared), (username, made)
            else:
                assert staff_reads_alert(role, jurisdiction, world.alerts[subject]), (username, subject)
        for arrival in arrivals:
            assert arrival.signed
            assert "Deportations" not in json.dumps(arrival.body)  # no summary travels


def test_every_taxii_collection_hands_each_partner_exactly_what_its_clearance_and_the_rules_allow(world: World) -> None:
    by_alert_report = {f"{m.tlp}" for m in world.alerts.values()}
    assert by_alert_report == set(TLPS)
    for name, clearance, client in PARTNERS:
        headers = {"Authorization": f"Bearer {world.tokens[name]}", "Accept": "application/taxii+json;version=2.1"}
        root = world.client.get("/taxii2/", headers=headers).json()["default"]
        collections = world.client.get(f"{root}collections/", headers=headers).json().get("collections", [])
        got: dict[str, set[str]] = {}  # STIX id -> markings seen on it
        for collection in collections:
            if not collection["can_read"]:
                continue
            url = f"{root}collections/{collection['id']}/objects/?limit=50"
            while url:
                answer = world.client.get(url, headers=headers)
                assert answer.status_code == 200, answer.text
                envelope = answer.json()
                for obj in envelope.get("objects", []):
                    got.setdefault(obj["id"], set()).update(obj.get("object_marking_refs", []))
                more = envelope.get("more") and envelope.get("next")
                url = f"{root}collections/{collection['id']}/objects/?limit=50&next={envelope['next']}" if more else ""
        markings = {tlp_marking_id(tlp, default_taxonomy()): tlp for tlp in TLPS}
        for stix_id, refs in got.items():
            for ref in refs & markings.keys():
                tlp = markings[ref]
                source = SOURCE if stix_id in world.received else "local"
                named = NAMED if source == "local" else frozenset()
                assert partner_receives(name, clearance, client, tlp, source, named), (name, stix_id, tlp)
        # and nothing the rules allow is missing: every alert report and every received object
        reports = {i for i in got if i.startswith(("report--", "grouping--"))}
        expected_reports = sum(
            partner_receives(name, clearance, client, m.tlp, "local", NAMED) for m in world.alerts.values()
        )
        assert len(reports) == expected_reports, name
        expected_received = {
            i
            for i, tlp in world.received.items()
            if partner_receives(name, clearance, client, tlp, SOURCE, frozenset())
        }
        assert expected_received == {i for i in got if i in world.received}, name
