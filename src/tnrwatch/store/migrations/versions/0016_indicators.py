"""indicators: the technical indicators (domains, addresses, URLs, file hashes, e-mail addresses) of an incident

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_indicator",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("first_seen", sa.Date(), nullable=True),
        sa.Column("last_seen", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_indicator_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "position", name=op.f("pk_incident_indicator")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("incident_indicator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_indicator_kind_value"), ["kind", "value"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_indicator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_indicator_kind_value"))
    op.drop_table("incident_indicator")
