"""complaints get a short tracking code to read aloud or write down

Revision ID: 0012_complaint_short_codes
Revises: 0011_reset_codes
Create Date: 2026-12-06 00:20:00

"""

import sqlalchemy as sa
from alembic import op

from market.services.complaints import codes

revision = "0012_complaint_short_codes"
down_revision = "0011_reset_codes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("short_code", sa.String(length=8), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_complaints_short_code"), ["short_code"])
    # Complaints filed before get one too: their long links keep working as well.
    conn = op.get_bind()
    complaints = sa.table("complaints", sa.column("id", sa.Integer), sa.column("short_code"))
    taken = set()
    for (complaint_id,) in conn.execute(sa.select(complaints.c.id)).all():
        code = codes.new_code()
        while code in taken:
            code = codes.new_code()
        taken.add(code)
        conn.execute(
            complaints.update().where(complaints.c.id == complaint_id).values(short_code=code)
        )


def downgrade():
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_complaints_short_code"), type_="unique")
        batch_op.drop_column("short_code")
