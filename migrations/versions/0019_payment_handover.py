"""payments.handover_id: which hand-over took a cash payment, so that the cash still held is
read from a small partial index instead of every payment of the year

Revision ID: 0019_payment_handover
Revises: 0018_draws
Create Date: 2026-12-06 07:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019_payment_handover"
down_revision = "0018_draws"
branch_labels = None
depends_on = None

UNHANDED = "method = 'cash' AND status = 'confirmed' AND handover_id IS NULL"


def upgrade():
    # No foreign key: SQLite can't add one to a table in place, and rebuilding payments (a
    # table others point at) is what this project never does. handover_items keeps the key.
    op.add_column("payments", sa.Column("handover_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE payments SET handover_id = (SELECT i.handover_id FROM handover_items i "
        "WHERE i.payment_id = payments.id) "
        "WHERE id IN (SELECT payment_id FROM handover_items)"
    )
    op.create_index(
        "ix_payments_cash_unhanded",
        "payments",
        ["charge_id"],
        sqlite_where=sa.text(UNHANDED),
        postgresql_where=sa.text(UNHANDED),
    )


def downgrade():
    op.drop_index("ix_payments_cash_unhanded", table_name="payments")
    op.drop_column("payments", "handover_id")
