"""The policy over coded records: who reads and changes an incident or a person, from (role, jurisdiction, the
record's owner, its TLP marking, its sharing state). The rule in Python (`ReadScope.admits`) and the rule in SQL
(`visible_incidents`) must agree on every combination; focal points never read or change each other's records.
Both databases."""

from __future__ import annotations

import itertools
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tnrwatch.errors import ForbiddenError, NotFoundError
from tnrwatch.services import incidents, persons
from tnrwatch.services.incidents import IncidentQuery
from tnrwatch.services.node import Node
from tnrwatch.services.policy import (
    OPERATOR_ROLE,
    ROLES,
    TLP_ALL,
    Principal,
    allowed,
    may_write_record,
    read_scope,
)

from ..factories import incident_data

OWNERS = (None, "DE", "FR")


def staff(role: str, jurisdiction: str | None = None) -> Principal:
    return Principal(account_id=None, username=f"{role}-{jurisdiction}", role=role, jurisdiction=jurisdiction)


PRINCIPALS = [
    Principal.operator(),
    *(staff(role, j) for role in ("officer", "supervisor") for j in ("DE", "FR")),
    staff("analyst"),
    staff("liaison"),
    staff("auditor"),
    staff("admin"),
]


@given(
    role=st.sampled_from([*ROLES, OPERATOR_ROLE]),
    own=st.sampled_from(OWNERS),
    owner=st.sampled_from(OWNERS),
    tlp=st.sampled_from(sorted(TLP_ALL)),
    shared=st.booleans(),
)
def test_no_focal_point_reads_or_changes_another_s_unshared_or_red_record(
    role: str, own: str | None, owner: str | None, tlp: str, shared: bool
) -> None:
    principal = staff(role, own) if role != OPERATOR_ROLE else Principal.operator()
    reads = read_scope(principal).admits(owner, tlp, shared)
    if role == OPERATOR_ROLE:
        assert reads
        assert may_write_record(principal, owner)
        return
    foreign = owner is not None and owner != own
    community = tlp in ("clear", "green")
    if foreign and (not shared or tlp == "red" or (role in ("officer", "supervisor") and not community)):
        assert not reads, (role, own, owner, tlp, shared)
    if role in ("auditor", "admin"):
        assert not reads
    if may_write_record(principal, owner):
        assert reads, "whoever may change a record may read it"
        assert not foreign


def test_sql_and_python_agree_on_every_owner_marking_and_sharing_state(node: Node) -> None:
    """One incident per (owner, TLP, shared) combination; each principal's search returns exactly those the
    Python rule admits, and reading one it does not admit answers 404."""
    made: dict[uuid.UUID, tuple[str | None, str, bool]] = {}
    for owner, tlp, shared in itertools.product(OWNERS, sorted(TLP_ALL), (False, True)):
        if owner is None and shared:
            continue  # the node's own records are not shared: the EU level owns them
        coder = Principal.operator() if owner is None else staff("officer", owner)
        created = incidents.create_incident(node, coder, incident_data(tlp=tlp, title=f"{owner} {tlp} {shared}"))
        if shared:
            incidents.share_with_eu(node, coder, created.id, True)
        made[created.id] = (owner, tlp, shared)
    for principal in PRINCIPALS:
        if not allowed(principal, "incident:read"):
            with pytest.raises(ForbiddenError):
                incidents.search_incidents(node, principal, IncidentQuery(limit=100))
            continue
        found = {i.id for i in incidents.search_incidents(node, principal, IncidentQuery(limit=100)).items}
        expected = {i for i, (owner, tlp, shared) in made.items() if read_scope(principal).admits(owner, tlp, shared)}
        assert found == expected, principal.username
        for incident_id in set(made) - expected:
            with pytest.raises(NotFoundError):
                incidents.get_incident(node, principal, incident_id)


def test_owners_share_and_change_their_own_records_only(node: Node) -> None:
    german, french, analyst = staff("officer", "DE"), staff("officer", "FR"), staff("analyst")
    amber = incidents.create_incident(node, german, incident_data(tlp="amber")).id
    assert incidents.ownership(node, german, amber) == incidents.Ownership("DE", False)
    with pytest.raises(NotFoundError):
        incidents.update_incident(node, french, amber, {"title": "changed by France"})
    with pytest.raises(NotFoundError):
        incidents.share_with_eu(node, french, amber, True)
    with pytest.raises(NotFoundError):
        incidents.get_incident(node, analyst, amber)
    incidents.share_with_eu(node, german, amber, True)
    assert incidents.get_incident(node, analyst, amber).id == amber  # the EU level reads what was shared with it
    with pytest.raises(ForbiddenError, match="belongs to DE"):
        incidents.update_incident(node, analyst, amber, {"title": "changed by the EU level"})
    with pytest.raises(NotFoundError):  # AMBER shared with the EU level is not for other Member States
        incidents.get_incident(node, french, amber)
    incidents.update_incident(node, german, amber, {"tlp": "green"})
    assert incidents.get_incident(node, french, amber).tlp == "green"  # the community reads GREEN once shared
    with pytest.raises(ForbiddenError):
        incidents.update_incident(node, french, amber, {"title": "still not France's"})


def test_a_person_recorded_by_one_focal_point_is_invisible_to_another(node: Node) -> None:
    german, french = staff("officer", "DE"), staff("officer", "FR")
    recorded = persons.create_person(node, german, {"identity": {"full_name": "A. Example"}, "at_risk": True})
    assert persons.get_person(node, german, recorded.id, with_identity=True).identity is not None
    for principal in (french, staff("analyst")):
        with pytest.raises(NotFoundError):
            persons.get_person(node, principal, recorded.id)
        assert recorded.id not in {p.id for p in persons.list_persons(node, principal)}
    node_level = persons.create_person(node, Principal.operator(), {"at_risk": False})
    assert node_level.id in {p.id for p in persons.list_persons(node, french)}
    assert persons.get_person(node, Principal.operator(), recorded.id).id == recorded.id
