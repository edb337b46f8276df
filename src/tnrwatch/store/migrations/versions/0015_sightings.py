"""sightings: a recipient's corroboration may say which of the alert's actors it saw act, and in which country

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_comment") as batch:
        batch.add_column(sa.Column("sighted_actor_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sighted_country", sa.String(length=2), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_alert_comment_sighted_actor_id_actor"),
            "actor",
            ["sighted_actor_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("alert_comment") as batch:
        batch.drop_constraint(batch.f("fk_alert_comment_sighted_actor_id_actor"), type_="foreignkey")
        batch.drop_column("sighted_country")
        batch.drop_column("sighted_actor_id")
