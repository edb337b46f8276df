"""coding: the incidents coded from a report

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_incident",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_report_incident_account_id_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_report_incident_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_report_incident_report_id_report"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("report_id", "incident_id", name=op.f("pk_report_incident")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("report_incident", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_incident_incident_id_report_id"), ["incident_id", "report_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_incident_incident_id_report_id"))
    op.drop_table("report_incident")
