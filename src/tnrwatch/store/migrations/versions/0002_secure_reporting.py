"""secure reporting

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Jurisdictions, officers' recipient keys, encrypted reports with their sealed keys, messages and attachments, pending
uploads, spent proof-of-work challenges, and staff sign-in (password hash, sessions). The jurisdictions every node
starts with (the 27 Member States' focal points and three EU bodies) are inserted here; `tnrwatch jurisdictions add`
adds partner NGOs and others.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from tnrwatch.store.jurisdictions import initial_jurisdictions

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jurisdiction",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_jurisdiction")),
    )
    op.create_table(
        "spent_challenge",
        sa.Column("nonce", sa.LargeBinary(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_spent_challenge")),
    )
    with op.batch_alter_table("spent_challenge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spent_challenge_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "upload",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload")),
    )
    with op.batch_alter_table("upload", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_upload_started_at"), ["started_at"], unique=False)

    op.create_table(
        "report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledge_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("lookup_hash", sa.String(length=64), nullable=False),
        sa.Column("reporter_key", sa.LargeBinary(), nullable=False),
        sa.Column("answers", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('browser', 'plain')", name=op.f("ck_report_mode")),
        sa.ForeignKeyConstraint(
            ["jurisdiction_code"],
            ["jurisdiction.code"],
            name=op.f("fk_report_jurisdiction_code_jurisdiction"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
        sa.UniqueConstraint("lookup_hash", name=op.f("uq_report_lookup_hash")),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_jurisdiction_code_received_at"), ["jurisdiction_code", "received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_report_received_at"), ["received_at"], unique=False)

    op.create_table(
        "attachment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_attachment_report_id_report"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachment_report_id"), ["report_id"], unique=False)

    op.create_table(
        "recipient_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("wrapped_private_key", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active', 'retired', 'revoked')", name=op.f("ck_recipient_key_status")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_recipient_key_account_id_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_code"],
            ["jurisdiction.code"],
            name=op.f("fk_recipient_key_jurisdiction_code_jurisdiction"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient_key")),
        sa.UniqueConstraint("public_key", name=op.f("uq_recipient_key_public_key")),
    )
    with op.batch_alter_table("recipient_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recipient_key_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_recipient_key_jurisdiction_code_status"), ["jurisdiction_code", "status"], unique=False
        )

    op.create_table(
        "report_message",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("author", sa.String(length=8), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("author IN ('reporter', 'officer')", name=op.f("ck_report_message_author")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_report_message_account_id_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_report_message_report_id_report"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_report_message")),
        sa.UniqueConstraint("id", name=op.f("uq_report_message_id")),
    )
    with op.batch_alter_table("report_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_message_report_id"), ["report_id"], unique=False)

    op.create_table(
        "staff_session",
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_staff_session_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("secret_hash", name=op.f("pk_staff_session")),
    )
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_session_account_id"), ["account_id"], unique=False)

    op.create_table(
        "report_key",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_key_id", sa.Uuid(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_key_id"],
            ["recipient_key.id"],
            name=op.f("fk_report_key_recipient_key_id_recipient_key"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_report_key_report_id_report"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("report_id", "recipient_key_id", name=op.f("pk_report_key")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("report_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_key_recipient_key_id_report_id"), ["recipient_key_id", "report_id"], unique=False
        )

    op.bulk_insert(
        sa.table(
            "jurisdiction",
            sa.column("code", sa.String),
            sa.column("name", sa.String),
            sa.column("kind", sa.String),
            sa.column("country", sa.String),
            sa.column("created_at", sa.DateTime(timezone=True)),
        ),
        [{**row, "created_at": dt.datetime(2026, 11, 28, tzinfo=dt.UTC)} for row in initial_jurisdictions()],
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("jurisdiction_code", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_account_jurisdiction_code_jurisdiction"),
            "jurisdiction",
            ["jurisdiction_code"],
            ["code"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_account_jurisdiction_code_jurisdiction"), type_="foreignkey")
        batch_op.drop_column("jurisdiction_code")
        batch_op.drop_column("password_hash")

    with op.batch_alter_table("report_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_key_recipient_key_id_report_id"))

    op.drop_table("report_key")
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_session_account_id"))

    op.drop_table("staff_session")
    with op.batch_alter_table("report_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_message_report_id"))

    op.drop_table("report_message")
    with op.batch_alter_table("recipient_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipient_key_jurisdiction_code_status"))
        batch_op.drop_index(batch_op.f("ix_recipient_key_account_id"))

    op.drop_table("recipient_key")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_report_id"))

    op.drop_table("attachment")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_received_at"))
        batch_op.drop_index(batch_op.f("ix_report_jurisdiction_code_received_at"))

    op.drop_table("report")
    with op.batch_alter_table("upload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_started_at"))

    op.drop_table("upload")
    with op.batch_alter_table("spent_challenge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spent_challenge_expires_at"))

    op.drop_table("spent_challenge")
    op.drop_table("jurisdiction")
