"""alert sharing: subscriptions, the outbox, deliveries and the inbox; partner nodes, their tokens and pull
cursors; the TAXII object store and status resources; consented identity shares; received alerts' STIX ids

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("subject_uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("topic IN ('incident', 'alert')", name=op.f("ck_outbox_event_topic")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
    )
    op.create_index(op.f("ix_outbox_event_done_at_id"), "outbox_event", ["done_at", "id"], unique=False)
    op.create_table(
        "partner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("clearance", sa.String(length=16), nullable=False),
        sa.Column("client", sa.Boolean(), nullable=False),
        sa.Column("taxii_url", sa.String(length=500), nullable=True),
        sa.Column("public_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner")),
        sa.UniqueConstraint("name", name=op.f("uq_partner_name")),
    )
    op.create_table(
        "stix_object",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=120), nullable=False),
        sa.Column("stix_id", sa.String(length=100), nullable=False),
        sa.Column("stix_type", sa.String(length=64), nullable=False),
        sa.Column("spec_version", sa.String(length=8), nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_added", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stix_object")),
        sa.UniqueConstraint(
            "collection", "stix_id", "modified", name=op.f("uq_stix_object_collection_stix_id_modified")
        ),
    )
    op.create_index(
        op.f("ix_stix_object_collection_date_added_id"), "stix_object", ["collection", "date_added", "id"], unique=False
    )
    op.create_index(
        op.f("ix_stix_object_collection_stix_type_date_added"),
        "stix_object",
        ["collection", "stix_type", "date_added"],
        unique=False,
    )
    op.create_table(
        "partner_cursor",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.String(length=64), nullable=False),
        sa.Column("added_after", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_partner_cursor_partner_id_partner"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("partner_id", "collection_id", name=op.f("pk_partner_cursor")),
    )
    op.create_table(
        "partner_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_partner_token_partner_id_partner"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_partner_token_token_hash")),
    )
    op.create_index(op.f("ix_partner_token_partner_id"), "partner_token", ["partner_id"], unique=False)
    op.create_table(
        "taxii_status",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("collection", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("pendings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_taxii_status_partner_id_partner"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_status")),
    )
    op.create_table(
        "identity_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("from_jurisdiction", sa.String(length=16), nullable=False),
        sa.Column("to_jurisdiction", sa.String(length=16), nullable=False),
        sa.Column("consent", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["granted_by_id"], ["account.id"], name=op.f("fk_identity_share_granted_by_id_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_identity_share_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_share")),
        sa.UniqueConstraint("uuid", name=op.f("uq_identity_share_uuid")),
    )
    op.create_index(op.f("ix_identity_share_person_id"), "identity_share", ["person_id"], unique=False)
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("inbox", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret", sa.String(length=128), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_subscription_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint("uuid", name=op.f("uq_subscription_uuid")),
    )
    op.create_index(op.f("ix_subscription_account_id"), "subscription", ["account_id"], unique=False)
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('inbox', 'email', 'webhook')", name=op.f("ck_delivery_channel")),
        sa.CheckConstraint("status IN ('pending', 'sent', 'dead')", name=op.f("ck_delivery_status")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["outbox_event.id"], name=op.f("fk_delivery_event_id_outbox_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_delivery_subscription_id_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint(
            "event_id", "subscription_id", "channel", name=op.f("uq_delivery_event_id_subscription_id_channel")
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_delivery_uuid")),
    )
    op.create_index(op.f("ix_delivery_status_next_attempt_at"), "delivery", ["status", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_delivery_subscription_id"), "delivery", ["subscription_id"], unique=False)
    op.create_table(
        "inbox_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("subject_uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_inbox_item_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["delivery.id"], name=op.f("fk_inbox_item_delivery_id_delivery"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_inbox_item_subscription_id_subscription"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_item")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_inbox_item_delivery_id")),
    )
    op.create_index(op.f("ix_inbox_item_account_id"), "inbox_item", ["account_id"], unique=False)
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("source_partner", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("stix_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("stix_modified", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(batch.f("uq_alert_stix_id"), ["stix_id"])


def downgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.drop_constraint(batch.f("uq_alert_stix_id"), type_="unique")
        batch.drop_column("stix_modified")
        batch.drop_column("stix_id")
        batch.drop_column("source_partner")
    op.drop_index(op.f("ix_inbox_item_account_id"), table_name="inbox_item")
    op.drop_table("inbox_item")
    op.drop_index(op.f("ix_delivery_subscription_id"), table_name="delivery")
    op.drop_index(op.f("ix_delivery_status_next_attempt_at"), table_name="delivery")
    op.drop_table("delivery")
    op.drop_index(op.f("ix_subscription_account_id"), table_name="subscription")
    op.drop_table("subscription")
    op.drop_index(op.f("ix_identity_share_person_id"), table_name="identity_share")
    op.drop_table("identity_share")
    op.drop_table("taxii_status")
    op.drop_index(op.f("ix_partner_token_partner_id"), table_name="partner_token")
    op.drop_table("partner_token")
    op.drop_table("partner_cursor")
    op.drop_index(op.f("ix_stix_object_collection_stix_type_date_added"), table_name="stix_object")
    op.drop_index(op.f("ix_stix_object_collection_date_added_id"), table_name="stix_object")
    op.drop_table("stix_object")
    op.drop_table("partner")
    op.drop_index(op.f("ix_outbox_event_done_at_id"), table_name="outbox_event")
    op.drop_table("outbox_event")
