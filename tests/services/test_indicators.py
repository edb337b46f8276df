"""Looking up an indicator, on SQLite and PostgreSQL: every incident that carries it and that the asker may read,
newest first; the value read as a coder's would be; a clear error for what is not an indicator."""

from __future__ import annotations

import uuid

import pytest

from tnrwatch.errors import ForbiddenError, InvalidInputError
from tnrwatch.services import incidents, indicators
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data

GERMAN = Principal(None, "olga", "officer", "DE")
FRENCH = Principal(None, "fabien", "officer", "FR")
ANALYST = Principal(None, "ana", "analyst")
DOMAIN = {"kind": "domain-name", "value": "update-check.example.com"}


def spyware(node: Node, principal: Principal, date_start: str, *found: dict[str, str], tlp: str = "amber") -> uuid.UUID:
    data = incident_data(tactics=["spyware"], date_start=date_start, tlp=tlp, indicators=list(found))
    return incidents.create_incident(node, principal, data).id


def test_a_lab_finds_every_incident_with_the_domain_newest_first(node: Node, operator: Principal) -> None:
    older = spyware(node, operator, "2020-05-01", {**DOMAIN, "note": "first seen here", "first_seen": "2020-04-28"})
    newer = spyware(node, operator, "2023-01-10", {"kind": "ipv4-addr", "value": "192.0.2.5"}, DOMAIN)
    spyware(node, operator, "2022-01-01", {"kind": "domain-name", "value": "other.example.com"})
    spyware(node, operator, "2022-02-01", {"kind": "url", "value": "https://update-check.example.com/"})

    found = indicators.find_indicator(node, ANALYST, "Update-Check.Example[.]COM")

    assert found.searched == [("domain-name", "update-check.example.com")]
    assert [(m.incident_id, m.kind, m.value) for m in found.matches] == [
        (newer, "domain-name", "update-check.example.com"),
        (older, "domain-name", "update-check.example.com"),
    ]
    assert found.matches[1].note == "first seen here"
    assert str(found.matches[1].first_seen) == "2020-04-28"
    assert found.matches[0].incident_title == "Activist abducted near a bus station"
    assert [m.incident_id for m in indicators.find_indicator(node, ANALYST, DOMAIN["value"], limit=1).matches] == [
        newer
    ]


def test_a_value_is_looked_up_as_every_kind_it_can_be_or_as_the_kind_given(node: Node, operator: Principal) -> None:
    by_url = spyware(node, operator, "2021-01-01", {"kind": "url", "value": "https://evil.example/a"})
    by_address = spyware(node, operator, "2021-02-01", {"kind": "ipv6-addr", "value": "2001:db8::1"})
    assert [m.incident_id for m in indicators.find_indicator(node, ANALYST, "hxxps://evil[.]example/a").matches] == [
        by_url
    ]
    assert [m.incident_id for m in indicators.find_indicator(node, ANALYST, "2001:DB8:0::1").matches] == [by_address]
    assert indicators.find_indicator(node, ANALYST, "evil.example", kind="domain-name").matches == []
    with pytest.raises(InvalidInputError, match="cannot be an indicator of this kind") as caught:
        indicators.find_indicator(node, ANALYST, "2001:db8::1", kind="ipv4-addr")
    assert caught.value.errors[0].loc == ("value",)


def test_what_is_not_an_indicator_is_refused(node: Node) -> None:
    with pytest.raises(InvalidInputError) as caught:
        indicators.find_indicator(node, ANALYST, "a phone number +44 20 7946 0000")
    assert caught.value.errors[0].loc == ("value",)
    assert "a domain name, an IPv4 or IPv6 address" in caught.value.errors[0].msg
    with pytest.raises(InvalidInputError) as caught:
        indicators.find_indicator(node, ANALYST, "example.com", kind="phone")
    assert caught.value.errors[0].loc == ("kind",)


def test_incidents_the_asker_may_not_read_are_not_hinted_at(node: Node) -> None:
    german = spyware(node, GERMAN, "2021-01-01", DOMAIN)  # DE's own, not shared: DE's staff alone read it
    shared = spyware(node, GERMAN, "2021-02-01", DOMAIN, tlp="green")
    incidents.share_with_eu(node, GERMAN, shared, True)  # GREEN and shared: the EU level and the community
    assert {m.incident_id for m in indicators.find_indicator(node, GERMAN, DOMAIN["value"]).matches} == {
        german,
        shared,
    }
    assert [m.incident_id for m in indicators.find_indicator(node, FRENCH, DOMAIN["value"]).matches] == [shared]
    assert [m.incident_id for m in indicators.find_indicator(node, ANALYST, DOMAIN["value"]).matches] == [shared]
    with pytest.raises(ForbiddenError):
        indicators.find_indicator(node, Principal(None, "aud", "auditor"), DOMAIN["value"])
