"""street offices (areas) grouping organizations, and supervisors granted per area

Revision ID: 0013_areas
Revises: 0012_complaint_short_codes
Create Date: 2026-12-06 00:40:00

"""

import sqlalchemy as sa
from alembic import op

import market.models.types

revision = "0013_areas"
down_revision = "0012_complaint_short_codes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", market.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
        sa.UniqueConstraint("name", name=op.f("uq_areas_name")),
    )
    op.create_table(
        "area_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", market.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('supervisor')", name=op.f("ck_area_grants_role_valid")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_area_grants_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_area_grants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_grants")),
        sa.UniqueConstraint(
            "user_id", "area_id", "role", name=op.f("uq_area_grants_user_id_area_id_role")
        ),
    )
    with op.batch_alter_table("area_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_area_grants_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_area_grants_user_id"), ["user_id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # A column-level reference: SQLite adds (and drops) it in place, where a batch would
        # copy and drop organizations, which every other table references.
        op.execute(
            "ALTER TABLE organizations ADD COLUMN area_id INTEGER "
            "CONSTRAINT fk_organizations_area_id_areas REFERENCES areas (id)"
        )
    else:
        op.add_column("organizations", sa.Column("area_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_organizations_area_id_areas"), "organizations", "areas", ["area_id"], ["id"]
        )
    op.create_index(op.f("ix_organizations_area_id"), "organizations", ["area_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_organizations_area_id"), table_name="organizations")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE organizations DROP COLUMN area_id")
    else:
        op.drop_constraint(
            op.f("fk_organizations_area_id_areas"), "organizations", type_="foreignkey"
        )
        op.drop_column("organizations", "area_id")
    with op.batch_alter_table("area_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_area_grants_user_id"))
        batch_op.drop_index(batch_op.f("ix_area_grants_area_id"))
    op.drop_table("area_grants")
    op.drop_table("areas")
