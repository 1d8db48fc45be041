"""ledger chain checkpoints: how far the last full check of each organization's chain got

Revision ID: 0016_chain_checkpoints
Revises: 0015_questions
Create Date: 2026-12-07 10:00:00

"""

import sqlalchemy as sa
from alembic import op

import market.models.types

# revision identifiers, used by Alembic.
revision = "0016_chain_checkpoints"
down_revision = "0015_questions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ledger_chain_checkpoints",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=True),
        sa.Column("verified_at", market.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("broken_seq", sa.Integer(), nullable=True),
        sa.Column("operations_at", market.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("operations_mismatches", sa.Integer(), nullable=True),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_ledger_chain_checkpoints_seq_not_negative")),
        sa.CheckConstraint(
            "entry_hash IS NULL OR length(entry_hash) = 64",
            name=op.f("ck_ledger_chain_checkpoints_hash_sha256"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ledger_chain_checkpoints_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_ledger_chain_checkpoints")),
    )


def downgrade():
    op.drop_table("ledger_chain_checkpoints")
