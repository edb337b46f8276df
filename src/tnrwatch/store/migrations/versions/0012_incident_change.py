"""incident changes: the last change to each incident or its codes, written by triggers, for the map's columnar copy

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

Triggers rather than application code: every writer (the API, the staff pages, bulk imports, retention, a hand-made
SQL fix) is seen, in its own transaction. PostgreSQL uses statement triggers with transition tables, so a bulk import
(COPY, store/bulk.py) notes a batch's incidents in one statement per table; SQLite has row triggers only, and notes a
new incident once, not once per code row (below).
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


# SQLite fires row triggers only. A new incident is noted as pending ("read it whole"), and the triggers of its codes
# see that and do nothing, so an import pays one note per incident, not one per code row; the store numbers pending
# notes before each commit (store/db.py). A pending note is read at every look, so even a writer that never numbers
# them is followed. A note keeps its last number while pending, so the largest number never goes down.
SQLITE_PENDING = (
    "INSERT INTO incident_change (incident_id, seq, pending) VALUES (NEW.id, 0, 1) "
    "ON CONFLICT (incident_id) DO UPDATE SET pending = 1;"
)


def _sqlite_unless_pending(row: str) -> str:
    return f"WHEN NOT EXISTS (SELECT 1 FROM incident_change WHERE incident_id = {row} AND pending)"  # noqa: S608


def _sqlite_trigger(table: str, key: str, event: str) -> str:
    if table == "incident" and event == "insert":
        return f"CREATE TRIGGER {_trigger(table, event)} AFTER INSERT ON incident BEGIN {SQLITE_PENDING} END"
    rows = {"insert": [f"NEW.{key}"], "delete": [f"OLD.{key}"], "update": [f"NEW.{key}", f"OLD.{key}"]}[event]
    body = " ".join(_sqlite_note(row) for row in rows)
    when = _sqlite_unless_pending(rows[0]) if event != "update" else ""
    return f"CREATE TRIGGER {_trigger(table, event)} AFTER {event.upper()} ON {table} {when} BEGIN {body} END"


def upgrade() -> None:
    op.create_table(
        "incident_change",
        sa.Column("incident_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=True),
        sa.Column("pending", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_change")),
    )
    op.create_index(op.f("ix_incident_change_seq"), "incident_change", ["seq"], unique=False)
    op.create_index(op.f("ix_incident_change_xid"), "incident_change", ["xid"], unique=False)
    op.create_index(
        op.f("ix_incident_change_pending"),
        "incident_change",
        ["pending"],
        unique=False,
        sqlite_where=sa.text("pending"),
        postgresql_where=sa.text("pending"),
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
        for event in EVENTS:
            op.execute(_sqlite_trigger(table, key, event))


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for table in WATCHED:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER {_trigger(table, event)}" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION tnrwatch_note_incident_change()")
        op.execute("DROP SEQUENCE incident_change_seq")
    op.drop_index(op.f("ix_incident_change_pending"), table_name="incident_change")
    op.drop_index(op.f("ix_incident_change_xid"), table_name="incident_change")
    op.drop_index(op.f("ix_incident_change_seq"), table_name="incident_change")
    op.drop_table("incident_change")
