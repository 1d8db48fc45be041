"""one-time password reset codes, and logged-in browsers the server can end

Revision ID: 0011_reset_codes
Revises: 0010_login_failures
Create Date: 2026-12-06 00:05:00

"""
from alembic import op
import sqlalchemy as sa

import market.models.types


revision = '0011_reset_codes'
down_revision = '0010_login_failures'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', market.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_login_sessions_key_hash'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('reset_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=256), nullable=False),
    sa.Column('created_at', market.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', market.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', market.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', market.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_reset_codes_issued_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reset_codes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reset_codes'))
    )
    with op.batch_alter_table('reset_codes', schema=None) as batch_op:
        batch_op.create_index('ix_reset_codes_issued_by_id_created_at', ['issued_by_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reset_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reset_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reset_codes_user_id'))
        batch_op.drop_index('ix_reset_codes_issued_by_id_created_at')

    op.drop_table('reset_codes')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_user_id'))

    op.drop_table('login_sessions')
