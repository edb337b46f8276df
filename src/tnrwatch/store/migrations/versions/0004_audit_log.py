"""audit log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

The change records become a tamper-evident audit log: `audit_entry` holds what `change` held plus who acted as they
were at the time (username, role, jurisdiction) and a hash chain; `audit_seal` holds signed chain heads. The existing
change records are copied in id order, numbered 1, 2, 3 ... and chained. Downgrading copies the entries back into a
`change` table as 0001 made it (the chain and the seals are lost).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tnrwatch.store.audit_chain import GENESIS_HASH, ChainEntry, entry_hash

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_change = sa.table(
    "change",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("account_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_uuid", sa.Uuid),
    sa.column("fields", sa.JSON),
    sa.column("count", sa.Integer),
    sa.column("note", sa.String),
)
_account = sa.table(
    "account",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("role", sa.String),
    sa.column("jurisdiction_code", sa.String),
)
_audit_entry = sa.table(
    "audit_entry",
    *(sa.column(c.name, c.type) for c in _change.columns),
    sa.column("username", sa.String),
    sa.column("role", sa.String),
    sa.column("jurisdiction", sa.String),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
_BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_uuid", sa.Uuid(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_audit_entry_account_id_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entry_hash")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_entity_entity_uuid"), ["entity", "entity_uuid"], unique=False)

    op.create_table(
        "audit_seal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seal")),
    )
    with op.batch_alter_table("audit_seal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_seal_at"), ["at"], unique=False)

    _copy_changes_into_chain()

    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_entity_entity_uuid"))
        batch_op.drop_index(batch_op.f("ix_change_at"))
    op.drop_table("change")


def _copy_changes_into_chain() -> None:
    """Chain the change records in id order. Their ids may have gaps (a rolled-back transaction on PostgreSQL still
    spends a sequence number), so they are renumbered from 1: the chain's ids run without gaps."""
    connection = op.get_bind()
    who = {row.id: (row.username, row.role, row.jurisdiction_code) for row in connection.execute(sa.select(_account))}
    rows = connection.execute(sa.select(_change).order_by(_change.c.id)).mappings()
    prev_hash, next_id, batch = GENESIS_HASH, 1, []
    for row in rows:
        username, role, jurisdiction = who.get(row["account_id"], ("operator", "operator", None))
        entry = ChainEntry(
            id=next_id,
            at=row["at"],
            account_id=row["account_id"],
            username=username,
            role=role,
            jurisdiction=jurisdiction,
            action=row["action"],
            entity=row["entity"],
            entity_uuid=row["entity_uuid"],
            fields=list(row["fields"] or []),
            count=row["count"],
            note=row["note"],
            prev_hash=prev_hash,
        )
        prev_hash = entry_hash(entry)
        batch.append({**entry.__dict__, "fields": list(entry.fields), "hash": prev_hash})
        next_id += 1
        if len(batch) >= _BATCH:
            connection.execute(sa.insert(_audit_entry), batch)
            batch = []
    if batch:
        connection.execute(sa.insert(_audit_entry), batch)


def downgrade() -> None:
    op.create_table(
        "change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_uuid", sa.Uuid(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_change_account_id_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change")),
    )
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_entity_entity_uuid"), ["entity", "entity_uuid"], unique=False)

    columns = [c.name for c in _change.columns]
    connection = op.get_bind()
    connection.execute(
        sa.insert(_change).from_select(
            columns, sa.select(*(_audit_entry.c[name] for name in columns)).order_by(_audit_entry.c.id)
        )
    )
    if connection.dialect.name == "postgresql":  # ids were copied: move the sequence past them
        connection.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('change', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM change"
            )
        )

    with op.batch_alter_table("audit_seal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_seal_at"))
    op.drop_table("audit_seal")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_entity_entity_uuid"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_at"))
    op.drop_table("audit_entry")
