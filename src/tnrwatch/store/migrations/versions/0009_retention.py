"""retention of raw reports by crypto-shredding: each jurisdiction's retention period, and per report whether its
sealed keys are wrapped with its shredding key and when its content was shredded

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jurisdiction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("report", schema=None) as batch_op:
        # Reports stored before: their copies are not wrapped yet (`tnrwatch retention wrap-existing` does it).
        batch_op.add_column(sa.Column("key_wrapped", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.alter_column("key_wrapped", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("shredded_at")
        batch_op.drop_column("key_wrapped")
    with op.batch_alter_table("jurisdiction", schema=None) as batch_op:
        batch_op.drop_column("retention_days")
