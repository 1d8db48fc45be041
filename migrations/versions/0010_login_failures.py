"""wrong passwords counted in the database, shared by every worker

Revision ID: 0010_login_failures
Revises: 0009_expense_rejection
Create Date: 2026-12-05 21:20:00

"""
from alembic import op
import sqlalchemy as sa

import market.models.types


revision = '0010_login_failures'
down_revision = '0009_expense_rejection'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('at', market.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_at'), ['at'], unique=False)
        batch_op.create_index('ix_login_failures_key_at', ['key', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_key_at')
        batch_op.drop_index(batch_op.f('ix_login_failures_at'))
    op.drop_table('login_failures')
