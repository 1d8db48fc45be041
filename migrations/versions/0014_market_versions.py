"""a per-market data version: every write to what the scan page caches per process (sessions,
hours, fee rules, organization) bumps it, so a worker's cache check rides on the page's one read

Revision ID: 0014_market_versions
Revises: 0013_areas
Create Date: 2026-12-06 03:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014_market_versions"
down_revision = "0013_areas"
branch_labels = None
depends_on = None


# Plain ALTERs: a batch copy of `markets` would trip SQLite's foreign keys from its children.
def upgrade():
    op.add_column(
        "markets",
        sa.Column("data_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )


def downgrade():
    op.drop_column("markets", "data_version")
