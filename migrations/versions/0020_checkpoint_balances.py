"""ledger_chain_checkpoints.balances: each account's balance up to the checked head, so that a
page over many communities adds only the entries after it

Revision ID: 0020_checkpoint_balances
Revises: 0019_payment_handover
Create Date: 2026-12-06 08:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0020_checkpoint_balances"
down_revision = "0019_payment_handover"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("ledger_chain_checkpoints", sa.Column("balances", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("ledger_chain_checkpoints", "balances")
