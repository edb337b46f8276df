"""The map's columnar copy (store/analytics.py) holds exactly what the store holds, row for row, after inserts,
updates and deletes by any writer: the services, bulk imports and plain SQL; on PostgreSQL also when transactions
commit out of the order of their change numbers, and when one is running while the copy is built. Both databases."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, text, update

from tnrwatch.services import imports, incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store.analytics import COPIED, STORED, Analytics
from tnrwatch.store.bulk import BulkWriter
from tnrwatch.store.models import Base, Incident, IncidentOrigin, IncidentTactic

from ..conftest import _empty_postgres, skip_without_postgres
from ..factories import incident_data

OPERATOR = Principal.operator()


def rows(source: Any, table: str) -> list[tuple[Any, ...]]:
    """A table's columns read from the store, every row, sorted: from the store's engine or the copy's."""
    columns = Base.metadata.tables[table].c
    with source.connect() as connection:
        found = connection.execute(select(*[columns[name] for name in STORED[table]])).all()
    # The copy keeps an incident's uuid as its 32 hex digits.
    return sorted((tuple(v.hex if isinstance(v, uuid.UUID) else v for v in row) for row in found), key=repr)


def test_the_copy_holds_each_tactics_family(node: Node) -> None:
    created(node, tactics=["spyware", "abduction"])
    copy = Analytics(node.store, node.taxonomy)
    copy.catch_up()
    with copy.engine.connect() as connection:
        found = connection.execute(text("SELECT tactic, family FROM incident_tactic ORDER BY tactic")).all()
    assert [tuple(row) for row in found] == [("abduction", "physical"), ("spyware", "digital")]
    copy.close()


def assert_same(node: Node, copy: Analytics) -> None:
    copy.catch_up()
    for table in COPIED:
        assert rows(copy.engine, table) == rows(node.store.engine, table), table
    assert copy.incidents == len(rows(node.store.engine, "incident"))


def created(node: Node, **overrides: Any) -> incidents.IncidentOut:
    return incidents.create_incident(node, OPERATOR, incident_data(**overrides))


@pytest.fixture
def copy(node: Node) -> Any:
    made = Analytics(node.store)
    yield made
    made.close()


def test_the_copy_follows_every_kind_of_write(node: Node, copy: Analytics) -> None:
    first = created(
        node, origin_countries=["CN", "RU"], vulnerability_flags=["refugee"], target_categories=["journalist"]
    )
    created(node, locations=[{"country": "DE", "geo_precision": "country"}], tlp="green")
    assert_same(node, copy)  # built from scratch

    # The services: a new incident, then an update that replaces codes and locations.
    second = created(node, tactics=["spyware", "abduction"], date_start="2024-02-03")
    incidents.update_incident(
        node,
        OPERATOR,
        first.id,
        {
            "tactics": ["interpol_red_notice"],
            "locations": [{"country": "FR", "geo_precision": "place", "place": "Lyon", "lat": 45.76, "lon": 4.84}],
            "verification": "verified",
        },
    )
    assert_same(node, copy)

    # Plain SQL: a column changed, codes deleted, an incident deleted (its codes go by cascade); a code added alone,
    # which on SQLite goes through the store's bulk writer, as every insert there does (migration 0012).
    with node.store.writing() as session:
        second_id = session.scalar(select(Incident.id).where(Incident.uuid == second.id))
        first_id = session.scalar(select(Incident.id).where(Incident.uuid == first.id))
        if node.store.dialect == "postgresql":
            session.execute(insert(IncidentOrigin).values(incident_id=second_id, country="IR"))
        else:
            BulkWriter(session.connection()).insert("incident_origin", ("incident_id", "country"), [(second_id, "IR")])
        session.execute(update(Incident).where(Incident.id == first_id).values(tlp="amber", shared_with_eu=True))
        session.execute(delete(IncidentTactic).where(IncidentTactic.incident_id == first_id))
    assert_same(node, copy)
    with node.store.writing() as session:
        session.execute(delete(Incident).where(Incident.id == second_id))
    assert_same(node, copy)


def test_the_copy_follows_a_bulk_import(node: Node, tmp_path: Any) -> None:
    # Enough rows that a column of None (no owning jurisdiction, no coordinates) is longer than DuckDB's type sample.
    copy = Analytics(node.store, rebuild_above=10_000)
    try:
        created(node)
        assert_same(node, copy)
        batch = [
            incident_data(
                title=f"Imported {n}",
                origin_countries=["BY"],
                date_start=f"2022-{1 + n % 12:02d}-01",
                locations=[{"country": "LT", "geo_precision": "country"}],
            )
            for n in range(2_500)
        ]
        path = tmp_path / "batch.json"
        path.write_text(json.dumps({"incidents": batch}), encoding="utf-8")
        report = imports.import_file(node, OPERATOR, imports.ImportRequest(path=path, workers=0))
        assert report.imported == 2_500
        # Applied as changes. On PostgreSQL the copy also reads again what transactions still running elsewhere in
        # the cluster might hide (their xmin), so the first incident may be copied a second time.
        assert copy.catch_up() in (2_500, 2_501)
        assert_same(node, copy)
        whole = Analytics(node.store)
        assert whole.catch_up() == 2_501  # and built whole
        whole.close()
    finally:
        copy.close()


def test_many_changes_at_once_copy_everything_again(node: Node) -> None:
    copy = Analytics(node.store, rebuild_above=3)
    try:
        created(node)
        assert_same(node, copy)
        created(node, date_start="2020-01-01")
        assert copy.catch_up() in (1, 2)  # one change (and on PostgreSQL perhaps one read again): applied alone
        for n in range(4):
            created(node, date_start=f"2020-0{n + 2}-01")
        assert copy.catch_up() == 6  # four at once, more than three: all six copied again
        assert_same(node, copy)
    finally:
        copy.close()


operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.sampled_from(["CN", "RU", "IR"]), st.sampled_from(["DE", "FR", "TR"])),
        st.tuples(st.just("retag"), st.integers(0, 20), st.sampled_from(["spyware", "abduction", "transnational"])),
        st.tuples(st.just("delete"), st.integers(0, 20), st.just("")),
        st.tuples(st.just("look"), st.just(0), st.just("")),
    ),
    max_size=12,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_any_sequence_of_writes_and_looks_ends_equal(node: Node, steps: list[tuple[str, Any, str]]) -> None:
    with node.store.writing() as session:
        session.execute(delete(Incident))
    copy = Analytics(node.store)
    try:
        known: list[Any] = []
        for action, a, b in steps:
            if action == "create":
                known.append(
                    created(node, origin_countries=[a], locations=[{"country": b, "geo_precision": "country"}]).id
                )
            elif action == "retag" and known:
                tactic = b if b != "transnational" else "family_threats"
                incidents.update_incident(node, OPERATOR, known[a % len(known)], {"tactics": [tactic]})
            elif action == "delete" and known:
                gone = known.pop(a % len(known))
                with node.store.writing() as session:
                    session.execute(delete(Incident).where(Incident.uuid == gone))
            elif action == "look":
                copy.catch_up()
        assert_same(node, copy)
    finally:
        copy.close()


@pytest.fixture
def postgres_node(tmp_path: Path, postgres_session_url: str | None) -> Iterator[Node]:
    """PostgreSQL only: SQLite has one writer at a time, so its transactions cannot commit out of order."""
    if postgres_session_url is None:
        skip_without_postgres()
    assert postgres_session_url is not None
    opened = Node.open(Settings(home=tmp_path / "home", database_url=postgres_session_url))
    yield opened
    opened.close()
    _empty_postgres(postgres_session_url)


def test_a_change_committed_after_a_later_one_is_not_missed(postgres_node: Node) -> None:
    node = postgres_node
    copy = Analytics(node.store)
    first = created(node)
    assert_same(node, copy)
    with node.store.engine.connect() as slow:
        first_id = slow.scalar(select(Incident.id).where(Incident.uuid == first.id))
        slow.execute(insert(IncidentOrigin).values(incident_id=first_id, country="IR"))  # takes its number now
        created(node, origin_countries=["BY"])  # a larger number, committed first
        copy.catch_up()
        assert "BY" in [country for _, country in rows(copy.engine, "incident_origin")]
        slow.commit()
    assert_same(node, copy)
    copy.close()


def test_a_transaction_running_while_the_copy_is_built_is_not_missed(postgres_node: Node) -> None:
    node = postgres_node
    copy = Analytics(node.store)
    first = created(node)
    with node.store.engine.connect() as slow:
        first_id = slow.scalar(select(Incident.id).where(Incident.uuid == first.id))
        slow.execute(update(Incident).where(Incident.id == first_id).values(date_start=dt.date(2019, 1, 1)))
        copy.catch_up()  # built without it
        assert rows(copy.engine, "incident")[0][1] != dt.date(2019, 1, 1)
        slow.commit()
    assert_same(node, copy)
    copy.close()
