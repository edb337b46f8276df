"""staff accounts: second factor, lockout, token scopes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Each staff account gains a TOTP secret (sealed with the vault key), the last accepted time step (no code replay),
a count of failed sign-ins and a lockout time; API tokens gain a scope ("read" or "write"; existing tokens keep
"write", what they could do before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=16), server_default="write", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("scope")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_sign_ins")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
