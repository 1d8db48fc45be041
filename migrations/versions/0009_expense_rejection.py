"""a cadre can reject a pending expense, with a reason

Revision ID: 0009_expense_rejection
Revises: 0008_session_note_codes
Create Date: 2026-12-01 12:20:00

"""
from alembic import op
import sqlalchemy as sa

import market.models.types


revision = '0009_expense_rejection'
down_revision = '0008_session_note_codes'
branch_labels = None
depends_on = None

REJECTED_HAS_REASON = (
    "(state = 'rejected') = (rejected_by_id IS NOT NULL AND rejection_reason IS NOT NULL)"
)


def upgrade():
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejected_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rejected_at', market.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rejection_reason', sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_expenses_rejected_by_id_users'), 'users', ['rejected_by_id'], ['id']
        )
        batch_op.drop_constraint(batch_op.f('ck_expenses_state_valid'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_expenses_state_valid'), "state IN ('pending', 'posted', 'rejected')"
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_expenses_rejected_has_reason'), REJECTED_HAS_REASON
        )


def downgrade():
    op.execute("DELETE FROM expenses WHERE state = 'rejected'")
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_expenses_rejected_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_expenses_state_valid'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_expenses_state_valid'), "state IN ('pending', 'posted')"
        )
        batch_op.drop_constraint(batch_op.f('fk_expenses_rejected_by_id_users'), type_='foreignkey')
        batch_op.drop_column('rejection_reason')
        batch_op.drop_column('rejected_at')
        batch_op.drop_column('rejected_by_id')
