"""session change notes as codes

Rows written before market/services/session_notes.py held English phrases ("opened early"),
and a session cancelled by hand held the cadre's reason (also kept in cancel_reason). They
become the codes, so the API's `change_note` is always one. Audit events keep what they
said (they are append-only); session_notes.LEGACY still reads them.

Revision ID: 0008_session_note_codes
Revises: 0007_complaints
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_session_note_codes'
down_revision = '0007_complaints'
branch_labels = None
depends_on = None

PHRASES = {
    "opened early": "opened_early",
    "opened by hand": "opened_by_hand",
    "closed early": "closed_early",
    "closure lifted": "closure_lifted",
}
NOTE = sa.text("UPDATE market_sessions SET change_note = :new WHERE change_note = :old")


def upgrade():
    for phrase, code in PHRASES.items():
        op.execute(NOTE.bindparams(old=phrase, new=code))
    op.execute(
        "UPDATE market_sessions SET change_note = 'cancelled' "
        "WHERE cancel_reason IS NOT NULL AND change_note = cancel_reason"
    )


def downgrade():
    # The phrases read as before; a cancelled session keeps the code (its reason is in
    # cancel_reason, where the pages read it).
    for phrase, code in PHRASES.items():
        op.execute(NOTE.bindparams(old=code, new=phrase))
