"""governance fund: projects, representatives' meetings, household votes, ballot codes and
ballots (kept apart), and the organization's meeting rule

Revision ID: 0017_governance_fund
Revises: 0016_chain_checkpoints
Create Date: 2026-12-06 03:30:00

"""

import sqlalchemy as sa
from alembic import op

import market.models.types

# revision identifiers, used by Alembic.
revision = "0017_governance_fund"
down_revision = "0016_chain_checkpoints"
branch_labels = None
depends_on = None

UTC = market.models.types.UTCDateTime(timezone=True)


def upgrade():
    op.add_column(
        "organizations",
        sa.Column("fund_quorum_num", sa.Integer(), server_default=sa.text("2"), nullable=False),
    )
    op.add_column(
        "organizations",
        sa.Column("fund_quorum_den", sa.Integer(), server_default=sa.text("3"), nullable=False),
    )
    op.add_column(
        "organizations",
        sa.Column("fund_majority_pct", sa.Integer(), server_default=sa.text("50"), nullable=False),
    )
    op.create_table(
        "fund_projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("budget_fen", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("photo", sa.String(length=80), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("ip_hash", sa.String(length=64), nullable=True),
        sa.Column("decline_reason", sa.String(length=200), nullable=True),
        sa.Column("decided_by", sa.String(length=8), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("done_photo", sa.String(length=80), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint(
            "state IN ('proposed', 'draft', 'published', 'approved', 'rejected', "
            "'in_progress', 'done', 'cancelled', 'declined')",
            name=op.f("ck_fund_projects_state_valid"),
        ),
        sa.CheckConstraint(
            "decided_by IN ('meeting', 'ballot')", name=op.f("ck_fund_projects_decided_by_valid")
        ),
        sa.CheckConstraint("budget_fen > 0", name=op.f("ck_fund_projects_budget_fen_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_fund_projects_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_fund_projects_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["users.id"], name=op.f("fk_fund_projects_proposed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_projects")),
        sa.UniqueConstraint("account_id", name=op.f("uq_fund_projects_account_id")),
    )
    op.create_index(
        "ix_fund_projects_organization_id_state",
        "fund_projects",
        ["organization_id", "state"],
        unique=False,
    )
    op.create_index(op.f("ix_fund_projects_ip_hash"), "fund_projects", ["ip_hash"], unique=False)
    op.create_table(
        "fund_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=False),
        sa.Column("votes_against", sa.Integer(), nullable=False),
        sa.Column("votes_abstain", sa.Integer(), nullable=False),
        sa.Column("minutes_photo", sa.String(length=80), nullable=True),
        sa.Column("quorum_num", sa.Integer(), nullable=False),
        sa.Column("quorum_den", sa.Integer(), nullable=False),
        sa.Column("majority_pct", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint("present >= 0", name=op.f("ck_fund_meetings_present_non_negative")),
        sa.CheckConstraint("votes_for >= 0", name=op.f("ck_fund_meetings_votes_for_non_negative")),
        sa.CheckConstraint(
            "votes_against >= 0", name=op.f("ck_fund_meetings_votes_against_non_negative")
        ),
        sa.CheckConstraint(
            "votes_abstain >= 0", name=op.f("ck_fund_meetings_votes_abstain_non_negative")
        ),
        sa.CheckConstraint(
            "total > 0 AND present <= total", name=op.f("ck_fund_meetings_present_within_total")
        ),
        sa.CheckConstraint(
            "votes_for + votes_against + votes_abstain <= present",
            name=op.f("ck_fund_meetings_votes_within_present"),
        ),
        sa.CheckConstraint(
            "outcome IN ('approved', 'rejected', 'no_quorum')",
            name=op.f("ck_fund_meetings_outcome_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["fund_projects.id"],
            name=op.f("fk_fund_meetings_project_id_fund_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_fund_meetings_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_meetings")),
    )
    op.create_index(
        op.f("ix_fund_meetings_project_id"), "fund_meetings", ["project_id"], unique=False
    )
    op.create_table(
        "fund_households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_fund_households_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_households")),
        sa.UniqueConstraint(
            "organization_id", "label", name=op.f("uq_fund_households_organization_id_label")
        ),
    )
    op.create_table(
        "fund_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("opens_at", UTC, nullable=False),
        sa.Column("closes_at", UTC, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("majority_pct", sa.Integer(), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=True),
        sa.Column("votes_against", sa.Integer(), nullable=True),
        sa.Column("votes_abstain", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("closed_at", UTC, nullable=True),
        sa.CheckConstraint("state IN ('open', 'closed')", name=op.f("ck_fund_votes_state_valid")),
        sa.CheckConstraint(
            "outcome IN ('approved', 'rejected')", name=op.f("ck_fund_votes_outcome_valid")
        ),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_fund_votes_closes_after_opening")),
        sa.CheckConstraint(
            "(state = 'closed') = (outcome IS NOT NULL)",
            name=op.f("ck_fund_votes_closed_has_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_fund_votes_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["fund_projects.id"],
            name=op.f("fk_fund_votes_project_id_fund_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_votes")),
    )
    op.create_index(op.f("ix_fund_votes_closes_at"), "fund_votes", ["closes_at"], unique=False)
    op.create_index(op.f("ix_fund_votes_project_id"), "fund_votes", ["project_id"], unique=False)
    op.create_table(
        "fund_ballot_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("voided", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint(
            "length(code_hash) = 64", name=op.f("ck_fund_ballot_codes_code_hash_sha256")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["fund_households.id"],
            name=op.f("fk_fund_ballot_codes_household_id_fund_households"),
        ),
        sa.ForeignKeyConstraint(
            ["vote_id"], ["fund_votes.id"], name=op.f("fk_fund_ballot_codes_vote_id_fund_votes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_ballot_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_fund_ballot_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_fund_ballot_codes_vote_id"), "fund_ballot_codes", ["vote_id"], unique=False
    )
    op.create_index(
        "uq_fund_ballot_codes_live",
        "fund_ballot_codes",
        ["vote_id", "household_id"],
        unique=True,
        sqlite_where=sa.text("voided = false"),
        postgresql_where=sa.text("voided = false"),
    )
    op.create_table(
        "fund_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "choice IN ('for', 'against', 'abstain')", name=op.f("ck_fund_ballots_choice_valid")
        ),
        sa.CheckConstraint(
            "length(receipt_hash) = 64", name=op.f("ck_fund_ballots_receipt_hash_sha256")
        ),
        sa.ForeignKeyConstraint(
            ["vote_id"], ["fund_votes.id"], name=op.f("fk_fund_ballots_vote_id_fund_votes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_ballots")),
        sa.UniqueConstraint("receipt_hash", name=op.f("uq_fund_ballots_receipt_hash")),
        # No hidden rowid in insertion order on SQLite: the random key orders the rows.
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_fund_ballots_vote_id"), "fund_ballots", ["vote_id"], unique=False)


def downgrade():
    op.drop_table("fund_ballots")
    op.drop_table("fund_ballot_codes")
    op.drop_table("fund_votes")
    op.drop_table("fund_households")
    op.drop_table("fund_meetings")
    op.drop_table("fund_projects")
    # Plain drop_column: SQLite ≥ 3.35 drops a column without copying the table.
    op.drop_column("organizations", "fund_majority_pct")
    op.drop_column("organizations", "fund_quorum_den")
    op.drop_column("organizations", "fund_quorum_num")
