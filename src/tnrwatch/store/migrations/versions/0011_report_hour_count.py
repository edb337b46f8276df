"""report hour counts: reports per hour and jurisdiction, for the intake's hourly ceilings

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_hour_count",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "jurisdiction_code", name=op.f("pk_report_hour_count")),
    )
    # The counts of the hours already under way (received times are whole hours already).
    op.execute(
        "INSERT INTO report_hour_count (hour, jurisdiction_code, count) "
        "SELECT received_at, jurisdiction_code, count(*) FROM report GROUP BY received_at, jurisdiction_code"
    )


def downgrade() -> None:
    op.drop_table("report_hour_count")
