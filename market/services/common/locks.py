"""Transaction-scoped advisory locks: serialise a rule over many rows that no unique index can
hold (the ledger's hash chain, stalls placed on one map).

PostgreSQL: `pg_advisory_xact_lock(class, key)`, released when the transaction ends. SQLite:
nothing to do, its writers already queue (BEGIN IMMEDIATE)."""

from sqlalchemy import text

from ...extensions import db

LEDGER_CHAIN = 7_001  # key: organization id
STALL_MAP = 7_002  # key: market id
LOGIN_PHONE = 7_003  # key: crc32 of the phone typed (auth/login_limits.py)


def advisory_xact_lock(lock_class: int, key: int) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :key)"), {"cls": lock_class, "key": key}
        )
