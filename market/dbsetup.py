"""Connection setup for SQLite done right, and the write-intent switch.

SQLite allows one writer. A transaction that starts as a reader and later writes can fail at
once with "database is locked" instead of waiting, so write transactions begin with
BEGIN IMMEDIATE and wait up to busy_timeout. Requests that cannot write (GET, HEAD) start a
plain deferred transaction so readers never queue behind writers (WAL lets them run alongside).

A write whose correctness rests on unique indexes alone (a check-in: the database decides who
gets the stall) need not hold the one write lock while it reads and renders: with LATE intent
it begins as a reader and, just before its first write, ends that read and takes the write lock
with BEGIN IMMEDIATE. Its reads are then as fresh as PostgreSQL's READ COMMITTED; the unique
indexes still settle every race. Only code written for that may use it (see `late_write`).
"""

import fcntl
import re
import sqlite3
from contextvars import ContextVar
from functools import wraps

from sqlalchemy import Engine, Pool, event

LATE = "late"
# Default True: the CLI, the scheduler and unsafe HTTP methods write. False: reads only.
write_intent: ContextVar[bool | str] = ContextVar("write_intent", default=True)

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Writers queue on a file lock next to the database before BEGIN IMMEDIATE: a blocked flock
# wakes the moment it is free, where SQLite's busy handler sleeps up to 100 ms between tries
# (in a rush some writers lost every race for seconds). Released as the COMMIT or ROLLBACK is
# sent: only that statement's few milliseconds are then left to SQLite's own wait.
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|SAVEPOINT)\b", re.IGNORECASE)


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
    immediate = write_intent.get() is True
    conn.info["sqlite_reading"] = not immediate
    if immediate:
        _queue_for_writing(conn)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@event.listens_for(Engine, "before_cursor_execute")
def _take_write_lock_late(conn, _cursor, statement, _params, _context, _executemany):
    if (
        conn.dialect.name == "sqlite"
        and conn.info.get("sqlite_reading")
        and write_intent.get() == LATE
        and _WRITES.match(statement)
    ):
        conn.info["sqlite_reading"] = False
        raw = conn.connection.dbapi_connection
        raw.execute("COMMIT")  # only reads so far: nothing is lost
        _queue_for_writing(conn)
        raw.execute("BEGIN IMMEDIATE")


# What only reads. A transaction that ran nothing else wrote nothing (errors.release_session
# may then end it with COMMIT); any other statement, a CTE or a SET included, counts as a write.
_READS = re.compile(r"\s*(SELECT|SHOW)\b", re.IGNORECASE)


@event.listens_for(Engine, "begin")
def _nothing_written_yet(conn):
    conn.info["wrote"] = False


@event.listens_for(Engine, "before_cursor_execute")
def _note_a_write(conn, _cursor, statement, _params, _context, _executemany):
    if not _READS.match(statement):
        conn.info["wrote"] = True


def only_read(conn) -> bool:
    """Whether the connection's transaction has run reads alone so far."""
    return conn.info.get("wrote") is False


def _queue_for_writing(conn) -> None:
    database = conn.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    info = conn.connection.info  # lives as long as the DBAPI connection
    if "sqlite_write_queue" not in info:
        info["sqlite_write_queue"] = open(f"{database}.writers", "a")  # noqa: SIM115
    fcntl.flock(info["sqlite_write_queue"], fcntl.LOCK_EX)
    info["sqlite_write_queued"] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _leave_write_queue(conn):
    if conn.dialect.name != "sqlite":
        return
    _unqueue(conn.connection.info)


@event.listens_for(Pool, "checkin")
def _unqueue_on_return(_dbapi_connection, record):
    if record is not None:  # a connection given back mid-transaction never keeps the queue
        _unqueue(record.info)


@event.listens_for(Pool, "close")
def _close_queue_file(_dbapi_connection, record):
    if record is not None and (queue := record.info.pop("sqlite_write_queue", None)):
        record.info.pop("sqlite_write_queued", None)
        queue.close()  # closing drops the flock too


def _unqueue(info: dict) -> None:
    if info.pop("sqlite_write_queued", False):
        fcntl.flock(info["sqlite_write_queue"], fcntl.LOCK_UN)


def late_write(view):
    """Mark a view whose writes are guarded by unique indexes: on SQLite it takes the write
    lock only at its first write, so a rush of them queues for milliseconds, not requests."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = write_intent.set(LATE)
        try:
            return view(*args, **kwargs)
        finally:
            write_intent.reset(token)

    return wrapper


def sqlite_pragmas(connection) -> dict:
    """The pragmas in force on a connection (for tests and /healthz diagnostics)."""
    names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    return {n: connection.exec_driver_sql(f"PRAGMA {n}").scalar() for n in names}
