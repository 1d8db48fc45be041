"""Connection setup for SQLite done right, and the write-intent switch.

SQLite allows one writer. A transaction that starts as a reader and later writes can fail at
once with "database is locked" instead of waiting, so write transactions begin with
BEGIN IMMEDIATE and wait up to busy_timeout. Requests that cannot write (GET, HEAD) start a
plain deferred transaction so readers never queue behind writers (WAL lets them run alongside).
"""

import sqlite3
from contextvars import ContextVar

from sqlalchemy import Engine, event

# Default True: the CLI, the scheduler and unsafe HTTP methods write.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)

SQLITE_BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below emit BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def sqlite_pragmas(connection) -> dict:
    """The pragmas in force on a connection (for tests and /healthz diagnostics)."""
    names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    return {n: connection.exec_driver_sql(f"PRAGMA {n}").scalar() for n in names}
