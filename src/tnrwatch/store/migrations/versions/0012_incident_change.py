"""incident changes: the last change to each incident or its codes, written by triggers, for the map's columnar copy

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

Triggers rather than application code: every writer (the API, the staff pages, bulk imports, retention, a hand-made
SQL fix) is seen, in its own transaction. PostgreSQL uses statement triggers with transition tables, so a bulk import
(COPY, store/bulk.py) notes a batch's incidents in one statement per table; on SQLite, whose row triggers cost too much
on insert, the store's bulk writer notes inserts and triggers note updates and deletes (below).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The tables whose rows the map aggregates, each with the column naming its incident.
WATCHED = {
    "incident": "id",
    "incident_origin": "incident_id",
    "incident_location": "incident_id",
    "incident_tactic": "incident_id",
    "incident_target": "incident_id",
    "incident_vulnerability": "incident_id",
}
EVENTS = ("insert", "update", "delete")

POSTGRES_FUNCTION = """
CREATE FUNCTION tnrwatch_note_incident_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    EXECUTE format(
      'INSERT INTO incident_change (incident_id, seq, xid) '
      'SELECT changed.id, nextval(''incident_change_seq''), pg_current_xact_id()::text::bigint '
      'FROM (SELECT DISTINCT %I AS id FROM new_rows) AS changed '
      'ON CONFLICT (incident_id) DO UPDATE SET seq = excluded.seq, xid = excluded.xid', TG_ARGV[0]);
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    EXECUTE format(
      'INSERT INTO incident_change (incident_id, seq, xid) '
      'SELECT changed.id, nextval(''incident_change_seq''), pg_current_xact_id()::text::bigint '
      'FROM (SELECT DISTINCT %I AS id FROM old_rows) AS changed '
      'ON CONFLICT (incident_id) DO UPDATE SET seq = excluded.seq, xid = excluded.xid', TG_ARGV[0]);
  END IF;
  RETURN NULL;
END
$$
"""

REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}


def _trigger(table: str, event: str) -> str:
    return f"{table}_changed_{event}"


def _sqlite_note(row: str) -> str:
    # One writer at a time on SQLite: the next number is the largest so far plus one, read from the seq index.
    return (
        f"INSERT INTO incident_change (incident_id, seq) "  # noqa: S608 (a trigger's body: no input in it)
        f"VALUES ({row}, (SELECT coalesce(max(seq), 0) + 1 FROM incident_change)) "
        f"ON CONFLICT (incident_id) DO UPDATE SET seq = excluded.seq;"
    )


# SQLite has row triggers only, and any trigger on insert costs: an AFTER INSERT trigger that does nothing at all made
# inserting 50,000 incidents 1.1 s slower (they copy each new row), where the import takes 8 s in all. So on SQLite the
# store notes inserts itself, one statement per batch (store/bulk.py, through which every incident and code row is
# inserted, as for the full-text index); updates and deletes, rare and from anywhere, are noted by triggers.
SQLITE_EVENTS = ("update", "delete")


def _sqlite_trigger(table: str, key: str, event: str) -> str:
    rows = {"delete": [f"OLD.{key}"], "update": [f"NEW.{key}", f"OLD.{key}"]}[event]
    body = " ".join(_sqlite_note(row) for row in rows)
    return f"CREATE TRIGGER {_trigger(table, event)} AFTER {event.upper()} ON {table} BEGIN {body} END"


def upgrade() -> None:
    op.create_table(
        "incident_change",
        sa.Column("incident_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_change")),
    )
    op.create_index(op.f("ix_incident_change_seq"), "incident_change", ["seq"], unique=False)
    op.create_index(
        op.f("ix_incident_change_xid"),
        "incident_change",
        ["xid"],
        unique=False,
        sqlite_where=sa.text("xid IS NOT NULL"),
        postgresql_where=sa.text("xid IS NOT NULL"),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE incident_change_seq")
        op.execute(POSTGRES_FUNCTION)
        for table, key in WATCHED.items():
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {_trigger(table, event)} AFTER {event.upper()} ON {table} "
                    f"{REFERENCING[event]} FOR EACH STATEMENT "
                    f"EXECUTE FUNCTION tnrwatch_note_incident_change('{key}')"
                )
        return
    for table, key in WATCHED.items():
        for event in SQLITE_EVENTS:
            op.execute(_sqlite_trigger(table, key, event))


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for table in WATCHED:
        for event in EVENTS if postgres else SQLITE_EVENTS:
            op.execute(f"DROP TRIGGER {_trigger(table, event)}" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION tnrwatch_note_incident_change()")
        op.execute("DROP SEQUENCE incident_change_seq")
    op.drop_index(op.f("ix_incident_change_xid"), table_name="incident_change")
    op.drop_index(op.f("ix_incident_change_seq"), table_name="incident_change")
    op.drop_table("incident_change")
