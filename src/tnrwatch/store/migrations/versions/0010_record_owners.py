"""record owners: the jurisdiction that coded an incident or recorded a person, and whether an incident is shared
with the EU level (services/policy.py reads both with the TLP marking)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain columns and an index, no table rebuild: the incident table may hold millions of rows (and, on SQLite,
    # full-text triggers a rebuild would drop).
    op.add_column("incident", sa.Column("jurisdiction_code", sa.String(length=16), nullable=True))
    op.add_column("incident", sa.Column("shared_with_eu", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index(op.f("ix_incident_jurisdiction_code_tlp"), "incident", ["jurisdiction_code", "tlp"])
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jurisdiction_code", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_person_jurisdiction_code_jurisdiction"),
            "jurisdiction",
            ["jurisdiction_code"],
            ["code"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_person_jurisdiction_code_jurisdiction"), type_="foreignkey")
        batch_op.drop_column("jurisdiction_code")
    op.drop_index(op.f("ix_incident_jurisdiction_code_tlp"), table_name="incident")
    op.drop_column("incident", "shared_with_eu")
    op.drop_column("incident", "jurisdiction_code")
