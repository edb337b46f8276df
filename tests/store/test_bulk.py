"""The bulk writer stores values exactly as SQLAlchemy's column types would, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, text

from tnrwatch.services.node import Node
from tnrwatch.store.bulk import BulkWriter
from tnrwatch.store.models import Incident, Source


def test_rows_written_in_bulk_read_back_through_the_models(node: Node) -> None:
    incident_uuid = uuid.uuid4()
    stamp = dt.datetime(2026, 11, 28, 17, 5, 9, 123456, tzinfo=dt.UTC)
    with node.store.writing() as session:
        writer = BulkWriter(session.connection())
        [row_id] = writer.reserve_ids("incident", 1)
        writer.insert(
            "incident",
            ("id", "uuid", "title", "summary", "date_start", "date_end", "date_precision", "host_state_role",
             "target_count", "mass_event", "verification", "tlp", "taxonomy_version", "provenance", "synthetic",
             "version", "created_at", "updated_at", "coded_by_id"),
            [(row_id, incident_uuid, "Bulk written", "Some words to find", dt.date(2020, 2, 29), dt.date(2020, 3, 1),
              "day", "unknown", None, False, "reported", "amber", "1.0.0", None, True, 1, stamp, stamp, None)],
        )  # fmt: skip
        writer.insert(
            "source",
            ("incident_id", "position", "title", "url", "publisher", "published_on", "reliability", "credibility"),
            [(row_id, 0, "A report", None, None, dt.date(2020, 3, 2), "B", "2")],
        )
        writer.index_full_text(row_id, row_id)
    with node.store.reading() as session:
        stored = session.scalars(select(Incident).where(Incident.uuid == incident_uuid)).one()
        source = session.scalars(select(Source).where(Source.incident_id == stored.id)).one()
        if node.store.dialect == "sqlite":
            found = session.execute(text("SELECT rowid FROM incident_fts WHERE incident_fts MATCH 'words'")).scalars()
            assert list(found) == [row_id]
    assert (stored.date_start, stored.date_end) == (dt.date(2020, 2, 29), dt.date(2020, 3, 1))
    assert stored.created_at == stamp
    assert stored.synthetic is True
    assert stored.mass_event is False
    assert source.published_on == dt.date(2020, 3, 2)


def test_reserved_ids_are_new_and_existing_uuids_are_found(node: Node) -> None:
    known = uuid.uuid4()
    with node.store.writing() as session:
        writer = BulkWriter(session.connection())
        first = writer.reserve_ids("incident", 3)
        assert first == list(range(first[0], first[0] + 3))
        stamp = dt.datetime.now(dt.UTC)
        writer.insert(
            "incident",
            ("id", "uuid", "title", "summary", "date_start", "date_end", "date_precision", "host_state_role",
             "mass_event", "verification", "tlp", "taxonomy_version", "synthetic", "version", "created_at",
             "updated_at"),
            [(first[0], known, "x", "", dt.date(2021, 1, 1), dt.date(2021, 1, 1), "day", "unknown", False,
              "reported", "amber", "1.0.0", False, 1, stamp, stamp)],
        )  # fmt: skip
        assert writer.reserve_ids("incident", 2)[0] > first[0]
        assert writer.existing_uuids("incident", [known, uuid.uuid4()]) == {known}
        assert writer.existing_uuids("incident", []) == set()
