"""`INSERT … ON CONFLICT DO NOTHING`: the database's unique indexes decide, without a
savepoint to catch their error (SQLite ≥ 3.35 and PostgreSQL, with RETURNING)."""

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...extensions import db

# Built once per table, column and dialect: these run on every check-in and form nonce, and
# building one (and its cache key) cost more than SQLAlchemy's compiled-SQL lookup.
_BUILT: dict[tuple[Table, str, str | None], object] = {}


def or_nothing(table: Table, returning: str | None = None):
    """An insert into `table` that skips a row any unique index refuses; with `returning`,
    the inserted row's column of that name (None when a unique index refused it)."""
    dialect = db.session.get_bind().dialect.name
    key = (table, dialect, returning)  # the Table itself: a FromClause compares by identity
    if (statement := _BUILT.get(key)) is None:
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
        statement = statement.on_conflict_do_nothing()
        if returning is not None:
            statement = statement.returning(table.c[returning])
        _BUILT[key] = statement
    return statement
