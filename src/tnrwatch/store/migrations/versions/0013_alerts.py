"""alerts: alerts to recipients (jurisdictions, the EU level, partner nodes), what they are about, and the recipients'
corroboration notes and opinions

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_signal", sa.String(length=200), nullable=True),
        sa.Column("jurisdiction_code", sa.String(length=16), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("level IN ('information', 'warning', 'urgent')", name=op.f("ck_alert_level")),
        sa.CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name=op.f("ck_alert_status")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["account.id"], name=op.f("fk_alert_created_by_id_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("uuid", name=op.f("uq_alert_uuid")),
    )
    op.create_index(op.f("ix_alert_status"), "alert", ["status"], unique=False)
    op.create_table(
        "alert_actor",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actor.id"], name=op.f("fk_alert_actor_actor_id_actor"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_actor_alert_id_alert"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("alert_id", "actor_id", name=op.f("pk_alert_actor")),
    )
    op.create_table(
        "alert_audience",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.CheckConstraint("kind IN ('jurisdiction', 'eu', 'partner')", name=op.f("ck_alert_audience_kind")),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_audience_alert_id_alert"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("alert_id", "kind", "value", name=op.f("pk_alert_audience")),
    )
    op.create_index(op.f("ix_alert_audience_kind_value"), "alert_audience", ["kind", "value"], unique=False)
    op.create_table(
        "alert_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("opinion", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('corroboration', 'opinion')", name=op.f("ck_alert_comment_kind")),
        sa.CheckConstraint(
            "opinion IS NULL OR opinion IN ('agree', 'disagree', 'unsure')", name=op.f("ck_alert_comment_opinion")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_comment_alert_id_alert"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["account.id"], name=op.f("fk_alert_comment_author_id_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_comment")),
    )
    op.create_index(op.f("ix_alert_comment_alert_id"), "alert_comment", ["alert_id"], unique=False)
    op.create_table(
        "alert_incident",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_incident_alert_id_alert"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_alert_incident_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("alert_id", "incident_id", name=op.f("pk_alert_incident")),
    )


def downgrade() -> None:
    op.drop_table("alert_incident")
    op.drop_index(op.f("ix_alert_comment_alert_id"), table_name="alert_comment")
    op.drop_table("alert_comment")
    op.drop_index(op.f("ix_alert_audience_kind_value"), table_name="alert_audience")
    op.drop_table("alert_audience")
    op.drop_table("alert_actor")
    op.drop_index(op.f("ix_alert_status"), table_name="alert")
    op.drop_table("alert")
