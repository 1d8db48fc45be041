"""stall draws (摇号): rounds, their stalls, applications

Revision ID: 0018_draws
Revises: 0017_governance_fund
Create Date: 2026-12-06 03:40:00

"""

import sqlalchemy as sa
from alembic import op

import market.models.types

# revision identifiers, used by Alembic.
revision = "0018_draws"
down_revision = "0017_governance_fund"
branch_labels = None
depends_on = None

UTC = market.models.types.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        "draw_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("fee_fen", sa.Integer(), nullable=False),
        sa.Column("opens_at", UTC, nullable=False),
        sa.Column("closes_at", UTC, nullable=False),
        sa.Column("draw_at", UTC, nullable=False),
        sa.Column("priority_kinds", sa.String(length=120), server_default="", nullable=False),
        sa.Column("quota_percent", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("ranked", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="announced", nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("sealed_secret", sa.String(length=200), nullable=False),
        sa.Column("frozen_list", sa.Text(), nullable=True),
        sa.Column("list_hash", sa.String(length=64), nullable=True),
        sa.Column("revealed_secret", sa.String(length=64), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("frozen_at", UTC, nullable=True),
        sa.Column("drawn_at", UTC, nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(
            "state IN ('announced', 'frozen', 'drawn')", name=op.f("ck_draw_rounds_state_valid")
        ),
        sa.CheckConstraint("fee_fen >= 0", name=op.f("ck_draw_rounds_fee_fen_non_negative")),
        sa.CheckConstraint("months BETWEEN 1 AND 12", name=op.f("ck_draw_rounds_months_range")),
        sa.CheckConstraint(
            "quota_percent BETWEEN 0 AND 100", name=op.f("ck_draw_rounds_quota_percent_range")
        ),
        sa.CheckConstraint(
            "opens_at < closes_at AND closes_at <= draw_at",
            name=op.f("ck_draw_rounds_times_in_order"),
        ),
        sa.CheckConstraint(
            "length(commitment) = 64", name=op.f("ck_draw_rounds_commitment_length")
        ),
        sa.CheckConstraint(
            "(state = 'drawn') = (revealed_secret IS NOT NULL AND result IS NOT NULL)",
            name=op.f("ck_draw_rounds_drawn_has_result"),
        ),
        sa.CheckConstraint(
            "state = 'announced' OR (frozen_list IS NOT NULL AND list_hash IS NOT NULL)",
            name=op.f("ck_draw_rounds_frozen_has_list"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_draw_rounds_market_id_markets")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_draw_rounds_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_rounds")),
    )
    op.create_index(
        "ix_draw_rounds_market_id_state", "draw_rounds", ["market_id", "state"], unique=False
    )
    op.create_table(
        "draw_stalls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("stall_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["draw_rounds.id"], name=op.f("fk_draw_stalls_round_id_draw_rounds")
        ),
        sa.ForeignKeyConstraint(
            ["stall_id"], ["stalls.id"], name=op.f("fk_draw_stalls_stall_id_stalls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_stalls")),
        sa.UniqueConstraint("round_id", "stall_id", name=op.f("uq_draw_stalls_round_id_stall_id")),
        sa.UniqueConstraint("round_id", "position", name=op.f("uq_draw_stalls_round_id_position")),
    )
    op.create_table(
        "draw_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("preferences", sa.String(length=400), server_default="", nullable=False),
        sa.Column("state", sa.String(length=16), server_default="applied", nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("stall_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint(
            "state IN ('applied', 'withdrawn', 'won', 'waiting', 'declined', 'forfeited')",
            name=op.f("ck_draw_applications_state_valid"),
        ),
        sa.CheckConstraint("number > 0", name=op.f("ck_draw_applications_number_positive")),
        sa.CheckConstraint(
            "state <> 'won' OR stall_id IS NOT NULL",
            name=op.f("ck_draw_applications_won_has_stall"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["draw_rounds.id"],
            name=op.f("fk_draw_applications_round_id_draw_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_draw_applications_vendor_id_vendors")
        ),
        sa.ForeignKeyConstraint(
            ["stall_id"], ["stalls.id"], name=op.f("fk_draw_applications_stall_id_stalls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_applications")),
        sa.UniqueConstraint(
            "round_id", "vendor_id", name=op.f("uq_draw_applications_round_id_vendor_id")
        ),
        sa.UniqueConstraint(
            "round_id", "number", name=op.f("uq_draw_applications_round_id_number")
        ),
    )
    op.create_index(
        op.f("ix_draw_applications_vendor_id"), "draw_applications", ["vendor_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_draw_applications_vendor_id"), table_name="draw_applications")
    op.drop_table("draw_applications")
    op.drop_table("draw_stalls")
    op.drop_index("ix_draw_rounds_market_id_state", table_name="draw_rounds")
    op.drop_table("draw_rounds")
