"""`INSERT … ON CONFLICT DO NOTHING`: the database's unique indexes decide, without a
savepoint to catch their error (SQLite ≥ 3.35 and PostgreSQL, with RETURNING)."""

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...extensions import db


def or_nothing(table):
    """An insert into `table` that skips a row any unique index refuses."""
    dialect = db.session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table).on_conflict_do_nothing()
