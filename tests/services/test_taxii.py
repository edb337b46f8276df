"""The TAXII object store: collections per partner; storing versions once, in strictly increasing `date_added`;
routing by the TLP rule (a GREEN-only partner never gets AMBER, RED and AMBER+STRICT only to named partners,
received AMBER only to clients, free text masked below AMBER); reading within clearance, with `added_after`, the
match filters and a signed `next` cursor that refuses tampering; a published alert shared as its marking allows; a
partner's POSTed objects and its status resources. Both databases."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import sqlite3
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from tnrwatch.crypto import signed_cursor
from tnrwatch.domain.sharing import LOCAL, TLP_ORDER, PartnerView, within_clearance
from tnrwatch.errors import ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.interop.stix import WITHHELD_NOTE, tlp_marking_id
from tnrwatch.services import alerts, changes, incidents, partners, taxii, taxii_inbox, taxii_read
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import StixObject
from tnrwatch.taxonomy import default_taxonomy

from ..factories import incident_data

OPERATOR = Principal.operator()
GERMAN = Principal(None, "olga", "officer", "DE")
BASE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def marking(tlp: str) -> str:
    return tlp_marking_id(tlp, default_taxonomy())


def stix_object(
    n: int, *, stix_type: str = "threat-actor", tlp: str | None = None, version: int = 0, **extra: Any
) -> dict[str, Any]:
    """A small STIX object with a fixed id per `n` and `modified` per `version`."""
    modified = (BASE + dt.timedelta(days=version)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    obj: dict[str, Any] = {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--{uuid.UUID(int=n, version=4)}",
        "created": BASE.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "modified": modified,
        "name": f"object {n}",
        **extra,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [marking(tlp)]
    return obj


def register(node: Node, name: str, clearance: str, *, client: bool = False) -> PartnerView:
    return partners.add_partner(node, OPERATOR, name, clearance, client=client).view()


def collection(node: Node, partner: PartnerView, key: str) -> taxii.CollectionInfo:
    return next(item for item in taxii.collections_for(node, partner) if item.key == key)


def read_all(node: Node, partner: PartnerView, key: str, **params: str) -> list[dict[str, Any]]:
    query = taxii_read.parse_query("objects", {"limit": "10000", **params})
    page = taxii_read.read_page(node, partner, collection(node, partner, key), query)
    assert not page.more
    return [json.loads(body) for body in page.bodies]


def ids(objects: list[dict[str, Any]]) -> list[str]:
    return [obj["id"] for obj in objects]


# -- collections -------------------------------------------------------------------------------------------------------


def test_each_partner_lists_the_community_its_own_and_the_inbox(node: Node) -> None:
    fr = register(node, "fr-node", "amber")
    ngo = register(node, "ngo", "green")
    fr_collections = taxii.collections_for(node, fr)
    assert [(c.key, c.can_read, c.can_write) for c in fr_collections] == [
        ("community", True, False),
        ("partner:fr-node", True, False),
        ("inbox", False, True),
    ]
    assert fr_collections[0].id == taxii.collection_id(node.settings.node_name, "community")
    assert str(uuid.UUID(fr_collections[0].id)) == fr_collections[0].id
    other = collection(node, ngo, "partner:ngo")
    with pytest.raises(NotFoundError):
        taxii.collection_for(node, fr, other.id)  # another partner's collection does not exist for it
    assert taxii.collection_for(node, ngo, other.id) == other
    with pytest.raises(ForbiddenError):
        taxii_read.read_page(node, fr, collection(node, fr, "inbox"), taxii_read.parse_query("objects", {}))


# -- storing -----------------------------------------------------------------------------------------------------------


def test_the_same_version_is_stored_once_and_date_added_strictly_increases(node: Node) -> None:
    first = [stix_object(n) for n in range(5)]
    with node.store.writing() as session:
        result = taxii.add_objects(session, "community", first, "green", LOCAL)
    assert [item.id for item in result.added] == ids(first)
    assert result.added[0].version == "2026-11-01T00:00:00.000Z"
    with node.store.writing() as session:
        again = taxii.add_objects(session, "community", [*first[:2], stix_object(1, version=1)], "green", LOCAL)
    assert [item.id for item in again.skipped] == ids(first[:2])
    assert [(item.id, item.version) for item in again.added] == [(first[1]["id"], "2026-11-02T00:00:00.000Z")]
    with node.store.reading() as session:
        stamps = list(session.scalars(select(StixObject.date_added).order_by(StixObject.id)))
    assert len(stamps) == 6
    assert all(later > earlier for earlier, later in itertools.pairwise(stamps))


def test_an_object_without_versions_is_kept_once(node: Node) -> None:
    observable = {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uuid.uuid4()}", "value": "x.test"}
    with node.store.writing() as session:
        assert len(taxii.add_objects(session, "community", [observable], "clear", LOCAL).added) == 1
    with node.store.writing() as session:
        assert len(taxii.add_objects(session, "community", [observable], "clear", LOCAL).skipped) == 1


def test_bad_objects_are_named_by_position_and_nothing_is_stored(node: Node) -> None:
    bad = [
        stix_object(1),
        {"type": "threat-actor", "id": "indicator--" + str(uuid.uuid4())},
        {"type": "Bad Type", "id": "x"},
        stix_object(2, modified="yesterday"),
        "not an object",
    ]
    with node.store.writing() as session, pytest.raises(InvalidInputError) as caught:
        taxii.add_objects(session, "community", bad, "green", LOCAL)
    assert [(error.loc, error.msg.split(" ")[0]) for error in caught.value.errors] == [
        (("objects", 1), "`id`"),
        (("objects", 2), "`type`"),
        (("objects", 3), "`modified`"),
        (("objects", 4), "an"),
    ]
    with node.store.reading() as session:
        assert session.scalar(select(StixObject.id)) is None


def test_storing_objects_holds_the_one_lock_audit_appends_hold_too(node: Node) -> None:
    """Writers to the object store and to the audit log take one lock in one order, so that an alert's publication
    (audit, then objects) and an import (objects, then audit) cannot deadlock: while a transaction stores objects,
    nobody else can append to the audit log."""
    with node.store.writing() as session:
        taxii.add_objects(session, "community", [stix_object(1)], "green", LOCAL)
        if node.store.dialect == "postgresql":
            with node.store.engine.connect() as other:
                taken = other.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": changes._APPEND_LOCK})
                assert taken.scalar() is False
        else:
            other = sqlite3.connect(node.settings.resolved_database_url.removeprefix("sqlite:///"), timeout=0)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()


# -- routing by the TLP rule -------------------------------------------------------------------------------------------


def routed(node: Node, objects: list[dict[str, Any]], tlp: str, source: str, named: set[str]) -> dict[str, list[str]]:
    with node.store.writing() as session:
        results = taxii.share(session, node, objects, tlp, source, frozenset(named))
    return {key: [item.id for item in result.added] for key, result in results.items()}


def test_a_green_only_partner_never_gets_amber_even_when_named(node: Node) -> None:
    register(node, "ngo", "green")
    register(node, "fr-node", "red")
    for tlp in ("amber", "amber+strict", "red"):
        got = routed(node, [stix_object(TLP_ORDER.index(tlp), tlp=tlp)], tlp, LOCAL, {"ngo", "fr-node"})
        assert set(got) == {"partner:fr-node"}, tlp


def test_red_and_amber_strict_go_to_named_partners_only_and_are_never_passed_on(node: Node) -> None:
    register(node, "fr-node", "red")
    register(node, "it-node", "red", client=True)
    for n, tlp in enumerate(("amber+strict", "red")):
        assert routed(node, [stix_object(n, tlp=tlp)], tlp, LOCAL, {"fr-node"}) == {
            "partner:fr-node": [stix_object(n)["id"]]
        }
        # received from a partner: passed on to no one, clients included
        assert routed(node, [stix_object(10 + n, tlp=tlp)], tlp, "fr-node", {"it-node"}) == {}


def test_received_amber_goes_to_clients_only_and_never_back(node: Node) -> None:
    register(node, "fr-node", "amber", client=True)
    register(node, "it-node", "amber", client=True)
    register(node, "es-node", "amber")
    got = routed(node, [stix_object(1, tlp="amber")], "amber", "fr-node", set())
    assert set(got) == {"partner:it-node"}  # not back to fr-node, not to es-node (no client)


def test_an_object_marked_stricter_than_the_batch_follows_its_own_marking(node: Node) -> None:
    register(node, "ngo", "green")
    register(node, "fr-node", "amber")
    got = routed(node, [stix_object(1, tlp="green"), stix_object(2, tlp="amber")], "green", LOCAL, {"fr-node"})
    assert got == {"community": [stix_object(1)["id"]], "partner:fr-node": [stix_object(2)["id"]]}


def test_below_amber_free_text_is_masked_and_above_it_kept(node: Node) -> None:
    register(node, "fr-node", "amber")
    extension = {
        "extension-definition--0886c93a-a8a0-431d-903d-146e5762f5ac": {
            "extension_type": "property-extension",
            "summary": "words",
            "tactics": ["x"],
        }
    }
    green_actor = stix_object(1, tlp="green", description="A named person said ...", extensions=extension)
    note = stix_object(2, stix_type="note", tlp="green", content="Names and places", abstract="short")
    opinion = stix_object(3, stix_type="opinion", tlp="green", opinion="agree", explanation="because ...")
    amber_actor = stix_object(4, tlp="amber", description="Kept for named partners")
    routed(node, [green_actor, note, opinion, amber_actor], "green", LOCAL, {"fr-node"})
    fr = PartnerView("fr-node", "amber")
    community = {obj["id"]: obj for obj in read_all(node, fr, "community")}
    assert "description" not in community[green_actor["id"]]
    assert community[green_actor["id"]]["extensions"] == {
        "extension-definition--0886c93a-a8a0-431d-903d-146e5762f5ac": {
            "extension_type": "property-extension",
            "tactics": ["x"],
        }
    }
    assert community[note["id"]]["content"] == WITHHELD_NOTE  # required by STIX: replaced, not dropped
    assert "abstract" not in community[note["id"]]
    assert "explanation" not in community[opinion["id"]]
    assert read_all(node, fr, "partner:fr-node")[0]["description"] == "Kept for named partners"


# -- reading -----------------------------------------------------------------------------------------------------------


def test_reading_holds_to_the_clearance_and_never_returns_a_partners_own_objects(node: Node) -> None:
    register(node, "fr-node", "red")
    objects = [stix_object(n, tlp=tlp) for n, tlp in enumerate(TLP_ORDER)]
    with node.store.writing() as session:
        taxii.add_objects(session, "partner:fr-node", objects, "clear", LOCAL)
        taxii.add_objects(session, "community", [stix_object(9, tlp="green")], "green", "fr-node")
    for clearance in TLP_ORDER:  # the clearance is read at every request: lowering it hides what it no longer admits
        partner = PartnerView("fr-node", clearance)
        expected = [obj["id"] for obj, tlp in zip(objects, TLP_ORDER, strict=True) if within_clearance(tlp, clearance)]
        assert ids(read_all(node, partner, "partner:fr-node")) == expected
        assert read_all(node, partner, "community") == []  # it sent that one itself
    assert ids(read_all(node, PartnerView("it-node", "green"), "community")) == [stix_object(9)["id"]]


def test_added_after_and_the_match_filters(node: Node) -> None:
    fr = register(node, "fr-node", "red")
    key = "partner:fr-node"
    with node.store.writing() as session:
        taxii.add_objects(session, key, [stix_object(1), stix_object(2, stix_type="note", content="c")], "amber", LOCAL)
    with node.store.writing() as session:
        taxii.add_objects(session, key, [stix_object(1, version=1), stix_object(3)], "amber", LOCAL)
    with node.store.writing() as session:
        taxii.add_objects(session, key, [stix_object(1, version=2)], "amber", LOCAL)
    actor, note, other = stix_object(1)["id"], stix_object(2, stix_type="note")["id"], stix_object(3)["id"]

    def versions(**params: str) -> list[tuple[str, str]]:
        return [(obj["id"], obj["modified"][:10]) for obj in read_all(node, fr, key, **params)]

    assert versions() == [(note, "2026-11-01"), (other, "2026-11-01"), (actor, "2026-11-03")]  # last by default
    assert versions(**{"match[version]": "first"}) == [
        (actor, "2026-11-01"),
        (note, "2026-11-01"),
        (other, "2026-11-01"),
    ]
    assert len(versions(**{"match[version]": "all"})) == 5
    assert versions(**{"match[version]": "2026-11-02T00:00:00.000Z"}) == [(actor, "2026-11-02")]
    assert versions(**{"match[version]": "first,last", "match[id]": actor}) == [
        (actor, "2026-11-01"),
        (actor, "2026-11-03"),
    ]
    assert versions(**{"match[type]": "note"}) == [(note, "2026-11-01")]
    assert versions(**{"match[type]": "note,threat-actor", "match[id]": f"{note},{other}"}) == [
        (note, "2026-11-01"),
        (other, "2026-11-01"),
    ]
    assert versions(**{"match[spec_version]": "2.0"}) == []
    page = taxii_read.read_page(node, fr, collection(node, fr, key), taxii_read.parse_query("manifest", {}))
    middle = page.entries[1].date_added  # the second of three rows
    after = taxii.stix_timestamp(middle, micro=True)
    assert versions(added_after=after) == [(actor, "2026-11-03")]


def test_bad_filters_are_each_named(node: Node) -> None:
    with pytest.raises(InvalidInputError) as caught:
        taxii_read.parse_query(
            "objects",
            {
                "added_after": "yesterday",
                "limit": "0",
                "match[version]": "newest",
                "match[type]": "Bad Type",
                "match[colour]": "red",
            },
        )
    assert sorted(error.loc[0] for error in caught.value.errors) == sorted(
        ["added_after", "limit", "match[version]", "match[type]", "match[colour]"]
    )
    with pytest.raises(InvalidInputError, match="filters"):
        taxii_read.parse_query("versions", {"match[version]": "all"})  # versions lists them all; no such filter


def test_paging_with_limit_and_next_and_a_cursor_that_refuses_tampering(node: Node) -> None:
    fr = register(node, "fr-node", "amber")
    it = register(node, "it-node", "amber")
    objects = [stix_object(n) for n in range(7)]
    with node.store.writing() as session:
        taxii.add_objects(session, "community", objects, "green", LOCAL)
    community = collection(node, fr, "community")
    seen: list[str] = []
    params: dict[str, str] = {"limit": "3"}
    pages = 0
    while True:
        page = taxii_read.read_page(node, fr, community, taxii_read.parse_query("objects", params))
        pages += 1
        seen += [json.loads(body)["id"] for body in page.bodies]
        if not page.more:
            assert page.next is None
            break
        assert page.next is not None
        params = {"limit": "3", "next": page.next}
    assert pages == 3
    assert seen == ids(objects)

    first = taxii_read.read_page(node, fr, community, taxii_read.parse_query("objects", {"limit": "2"}))
    cursor = first.next
    assert cursor is not None

    def refused(partner: PartnerView, params: dict[str, str], key: str = "community") -> None:
        with pytest.raises(InvalidInputError, match="cursor") as caught:
            taxii_read.read_page(
                node, partner, collection(node, partner, key), taxii_read.parse_query("objects", params)
            )
        assert caught.value.errors[0].loc == ("next",)

    for position in range(len(cursor)):  # any character changed
        changed = cursor[:position] + ("A" if cursor[position] != "A" else "B") + cursor[position + 1 :]
        refused(fr, {"limit": "2", "next": changed})
    refused(fr, {"limit": "2", "next": cursor[:-1]})
    refused(fr, {"limit": "2", "next": cursor + "\n"})
    refused(it, {"limit": "2", "next": cursor})  # another partner's
    refused(fr, {"limit": "2", "next": cursor, "match[type]": "note"})  # other filters
    refused(fr, {"limit": "2", "next": cursor}, key="partner:fr-node")  # another collection
    payload = signed_cursor.open_cursor(signed_cursor.cursor_key(node.settings.resolved_key_dir), cursor)
    assert payload is not None
    foreign = signed_cursor.sign(b"\x01" * 32, payload)  # the same position, signed by another node
    refused(fr, {"limit": "2", "next": foreign})
    # the page size may change between pages: only the filters are bound
    rest = taxii_read.read_page(node, fr, community, taxii_read.parse_query("objects", {"limit": "10", "next": cursor}))
    assert [json.loads(body)["id"] for body in rest.bodies] == ids(objects)[2:]


def test_limit_is_capped_by_the_largest_page(node: Node) -> None:
    fr = register(node, "fr-node", "amber")
    with node.store.writing() as session:
        taxii.add_objects(session, "community", [stix_object(n) for n in range(3)], "green", LOCAL)
    capped = node.settings.model_copy(update={"taxii_max_page_size": 2})
    small = Node(capped, node.store, node.taxonomy)
    page = taxii_read.read_page(small, fr, collection(node, fr, "community"), taxii_read.parse_query("objects", {}))
    assert len(page.bodies) == 2
    assert page.more


def test_paging_through_any_filters_gives_what_one_pass_over_the_data_gives(node: Node) -> None:
    """Hypothesis: random clearance, types, versions, added_after and page size; the pages joined equal the rows a
    plain Python pass over what was stored admits."""
    with node.store.writing() as session:
        for version in range(3):
            batch = [
                stix_object(
                    n, stix_type=("note" if n % 3 == 0 else "threat-actor"), tlp=TLP_ORDER[n % 5], version=version
                )
                for n in range(version, 9)
            ]
            taxii.add_objects(session, "partner:hyp", batch, "clear", LOCAL)
    with node.store.reading() as session:
        stored = session.execute(select(StixObject).where(StixObject.collection == "partner:hyp")).scalars().all()
    stamps = sorted(row.date_added for row in stored)
    target = taxii.CollectionInfo("partner:hyp", "x", "", "", can_read=True, can_write=False)

    @settings(max_examples=40, deadline=None)
    @given(
        clearance=st.sampled_from(TLP_ORDER),
        types=st.lists(st.sampled_from(["note", "threat-actor"]), unique=True, max_size=2),
        version=st.sampled_from(["first", "last", "all", "first,last"]),
        added_after=st.none() | st.sampled_from(stamps),
        limit=st.integers(min_value=1, max_value=6),
        endpoint=st.sampled_from(["objects", "manifest"]),
    )
    def pages_equal_one_pass(
        clearance: str,
        types: list[str],
        version: str,
        added_after: dt.datetime | None,
        limit: int,
        endpoint: taxii_read.Endpoint,
    ) -> None:
        visible = [row for row in stored if within_clearance(row.tlp, clearance)]
        wanted = set(version.split(","))
        expected = []
        for row in sorted(visible, key=lambda r: (r.date_added, r.id)):
            versions = [other.modified for other in visible if other.stix_id == row.stix_id]
            keep = (
                "all" in wanted
                or ("first" in wanted and row.modified == min(versions))
                or ("last" in wanted and row.modified == max(versions))
            )
            if keep and (not types or row.stix_type in types) and (added_after is None or row.date_added > added_after):
                expected.append((row.stix_id, row.modified))

        params = {"limit": str(limit), "match[version]": version}
        if types:
            params["match[type]"] = ",".join(types)
        if added_after is not None:
            params["added_after"] = taxii.stix_timestamp(added_after, micro=True)
        got: list[tuple[str, dt.datetime]] = []
        before = 0
        partner = PartnerView("hyp", clearance)
        while True:
            page = taxii_read.read_page(node, partner, target, taxii_read.parse_query(endpoint, params))
            if endpoint == "objects":
                found = [json.loads(body) for body in page.bodies]
                got += [(obj["id"], taxii.parse_timestamp(obj["modified"], "modified")) for obj in found]
            else:
                got += [(entry.stix_id, entry.modified) for entry in page.entries]
            assert len(got) - before <= limit
            before = len(got)
            if not page.more:
                break
            params["next"] = str(page.next)
        assert got == expected

    pages_equal_one_pass()


# -- alerts ------------------------------------------------------------------------------------------------------------


def publish(node: Node, tlp: str, audience: list[dict[str, str]], **changes: Any) -> uuid.UUID:
    incident = incidents.create_incident(node, GERMAN, incident_data(tlp=tlp, verification="verified"))
    draft = alerts.create_alert(
        node,
        GERMAN,
        {
            "title": "Surge of forced returns",
            "summary": "Three deportations of dissidents in a week.",
            "level": "warning",
            "tlp": tlp,
            "audience": audience,
            "incident_ids": [str(incident.id)],
            **changes,
        },
    )
    alerts.publish_alert(node, GERMAN, draft.id)
    return draft.id


def test_a_published_amber_alert_reaches_named_partners_only(node: Node) -> None:
    fr = register(node, "fr-node", "amber")
    ngo = register(node, "ngo", "green")
    es = register(node, "es-node", "amber")
    alert_id = publish(
        node, "amber", [{"kind": "eu"}, {"kind": "partner", "value": "fr-node"}, {"kind": "partner", "value": "ngo"}]
    )
    objects = read_all(node, fr, "partner:fr-node")
    report = next(obj for obj in objects if obj["type"] == "report")
    assert report["id"] == f"report--{alert_id}"
    assert report["description"] == "Three deportations of dissidents in a week."
    assert {obj["type"] for obj in objects} >= {"report", "incident", "marking-definition", "identity"}
    assert read_all(node, ngo, "partner:ngo") == []  # named, but cleared for GREEN only
    assert read_all(node, es, "partner:es-node") == []  # not named
    assert read_all(node, fr, "community") == []  # AMBER never goes to the community

    alerts.withdraw_alert(node, GERMAN, alert_id)
    reports = read_all(node, fr, "partner:fr-node", **{"match[type]": "report", "match[version]": "all"})
    assert [obj.get("revoked", False) for obj in reports] == [False, True]


def test_a_published_green_alert_goes_to_the_community_masked(node: Node) -> None:
    ngo = register(node, "ngo", "green")
    publish(node, "green", [{"kind": "eu"}])
    objects = read_all(node, ngo, "community")
    report = next(obj for obj in objects if obj["type"] == "report")
    assert "description" not in report
    assert all("description" not in obj for obj in objects if obj["type"] in ("incident", "report"))
    assert "Three deportations" not in json.dumps(objects)


def test_indicators_of_a_green_alert_reach_named_amber_partners_only(node: Node) -> None:
    """An indicator may point at a victim as well as at an attacker: it travels at AMBER at least (interop/stix.py),
    so the community never gets it, whatever the alert's marking."""
    fr = register(node, "fr-node", "amber")
    ngo = register(node, "ngo", "green")
    domain = {"kind": "domain-name", "value": "update-check.example.com"}
    incident = incidents.create_incident(
        node, GERMAN, incident_data(tlp="green", tactics=["spyware"], verification="verified", indicators=[domain])
    )
    incidents.share_with_eu(node, GERMAN, incident.id, True)
    draft = alerts.create_alert(
        node,
        GERMAN,
        {
            "title": "Spyware against exiled journalists",
            "summary": "Phones of two journalists were infected.",
            "level": "warning",
            "tlp": "green",
            "audience": [{"kind": "eu"}, {"kind": "partner", "value": "fr-node"}, {"kind": "partner", "value": "ngo"}],
            "incident_ids": [str(incident.id)],
        },
    )
    alerts.publish_alert(node, GERMAN, draft.id)
    community = read_all(node, ngo, "community")
    assert {obj["type"] for obj in community} >= {"report", "incident"}
    assert "update-check.example.com" not in json.dumps(community)
    assert read_all(node, ngo, "partner:ngo") == []  # named, but cleared for GREEN only
    named = read_all(node, fr, "partner:fr-node")
    [indicator] = [obj for obj in named if obj["type"] == "indicator"]
    assert indicator["pattern"] == "[domain-name:value = 'update-check.example.com']"
    assert indicator["object_marking_refs"] == [marking("amber")]
    assert any(obj["type"] == "relationship" and obj["source_ref"] == indicator["id"] for obj in named)


def test_an_amber_alert_naming_no_partner_stays_on_the_node(node: Node) -> None:
    register(node, "fr-node", "amber")
    publish(node, "amber", [{"kind": "eu"}])
    with node.store.reading() as session:
        assert session.scalar(select(StixObject.id)) is None


# -- objects partners send ---------------------------------------------------------------------------------------------


def test_posted_objects_give_a_status_only_their_sender_reads(node: Node) -> None:
    fr = register(node, "fr-node", "amber")
    it = register(node, "it-node", "amber")
    inbox = collection(node, fr, "inbox")
    good = stix_object(1, tlp="green")
    status = taxii_inbox.receive_objects(node, fr, inbox, {"objects": [good, {"type": "x"}, 5]})
    assert status.status == "complete"
    assert [entry["id"] for entry in status.successes] == [good["id"]]
    assert len(status.failures) == 2
    assert status.failures[1]["message"] == "object 2: an object must be a JSON object"
    body = status.as_json()
    assert (body["total_count"], body["success_count"], body["failure_count"]) == (3, 1, 2)
    assert taxii_inbox.get_status(node, fr, status.id).successes == status.successes
    with pytest.raises(NotFoundError):
        taxii_inbox.get_status(node, it, status.id)
    with pytest.raises(ForbiddenError):
        taxii_inbox.receive_objects(node, fr, collection(node, fr, "community"), {"objects": [good]})
    with pytest.raises(InvalidInputError, match="envelope"):
        taxii_inbox.receive_objects(node, fr, inbox, {"objects": "none"})
    # A GREEN object a partner sent is passed on to the community (by the importer), never back to its sender.
    assert ids(read_all(node, it, "community")) == [good["id"]]
    assert read_all(node, fr, "community") == []
