"""notices under vetting (subject sealed in the vault, warrants in the clear) and the protected-persons registry
(identity sealed in the vault; category, origin state and focal point in the clear)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("notice_type", sa.String(length=32), nullable=False),
        sa.Column("interpol_reference", sa.String(length=16), nullable=True),
        sa.Column("requesting_state", sa.String(length=2), nullable=False),
        sa.Column("issued", sa.Date(), nullable=True),
        sa.Column("received", sa.Date(), nullable=False),
        sa.Column("decision_due", sa.Date(), nullable=True),
        sa.Column("decision", sa.String(length=24), nullable=False),
        sa.Column("decision_reasons", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("subject_key_id", sa.String(length=64), nullable=False),
        sa.Column("subject_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "notice_type IN ('red_notice', 'blue_notice', 'diffusion', 'extradition_request', "
            "'mutual_legal_assistance')",
            name=op.f("ck_notice_notice_type"),
        ),
        sa.CheckConstraint(
            "decision IN ('none', 'proceed', 'consult_focal_point', 'do_not_act')", name=op.f("ck_notice_decision")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["account.id"], name=op.f("fk_notice_created_by_id_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["account.id"], name=op.f("fk_notice_decided_by_id_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
        sa.UniqueConstraint("notice_type", "interpol_reference", name=op.f("uq_notice_notice_type_interpol_reference")),
        sa.UniqueConstraint("uuid", name=op.f("uq_notice_uuid")),
    )
    op.create_index(op.f("ix_notice_requesting_state"), "notice", ["requesting_state"], unique=False)
    op.create_index(op.f("ix_notice_decision_received"), "notice", ["decision", "received"], unique=False)
    op.create_table(
        "notice_warrant",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("issuing_country", sa.String(length=2), nullable=False),
        sa.Column("charge", sa.Text(), nullable=False),
        sa.Column("charge_translation", sa.Text(), nullable=True),
        sa.Column("legal_provision", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notice.id"], name=op.f("fk_notice_warrant_notice_id_notice"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("notice_id", "position", name=op.f("pk_notice_warrant")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "protected_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("pseudonym", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("origin_state", sa.String(length=2), nullable=True),
        sa.Column("focal_point", sa.String(length=16), nullable=True),
        sa.Column("identity_key_id", sa.String(length=64), nullable=False),
        sa.Column("identity_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('hrd', 'journalist', 'refugee', 'asylum_seeker', 'incident_target', 'other')",
            name=op.f("ck_protected_person_category"),
        ),
        sa.ForeignKeyConstraint(
            ["focal_point"],
            ["jurisdiction.code"],
            name=op.f("fk_protected_person_focal_point_jurisdiction"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protected_person")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_protected_person_pseudonym")),
        sa.UniqueConstraint("uuid", name=op.f("uq_protected_person_uuid")),
    )
    op.create_index(op.f("ix_protected_person_origin_state"), "protected_person", ["origin_state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_protected_person_origin_state"), table_name="protected_person")
    op.drop_table("protected_person")
    op.drop_table("notice_warrant")
    op.drop_index(op.f("ix_notice_decision_received"), table_name="notice")
    op.drop_index(op.f("ix_notice_requesting_state"), table_name="notice")
    op.drop_table("notice")
