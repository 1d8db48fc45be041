"""SQLite done right: WAL, NORMAL sync, foreign keys, a busy timeout, and writers that wait."""

import contextlib
import threading

from sqlalchemy import select

from market import dbsetup
from market.extensions import db
from market.models import Organization
from tests import builders as b


def test_pragmas(sqlite_app):
    with sqlite_app.app_context(), db.engine.connect() as conn:
        pragmas = dbsetup.sqlite_pragmas(conn)
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "busy_timeout": dbsetup.SQLITE_BUSY_TIMEOUT_MS,
    }


def test_concurrent_read_then_write_transactions_wait_instead_of_failing(sqlite_app):
    """Each thread reads, pauses while holding its transaction, then writes. With a deferred
    BEGIN one of them fails at once with 'database is locked'; BEGIN IMMEDIATE makes it wait."""
    with sqlite_app.app_context():
        org = b.org()
        db.session.commit()
        org_id = org.id
    start = threading.Barrier(4, timeout=10)
    # Everyone holds a read before anyone writes; with BEGIN IMMEDIATE only the first thread
    # gets here, so the barrier times out (by design) and the rest queue at BEGIN.
    have_read = threading.Barrier(4, timeout=1)
    errors = []

    def worker(n):
        with sqlite_app.app_context():
            try:
                dbsetup.write_intent.set(True)
                start.wait()
                o = db.session.scalar(select(Organization).where(Organization.id == org_id))
                with contextlib.suppress(threading.BrokenBarrierError):
                    have_read.wait()
                o.governance_fund_pct = n
                db.session.add(Organization(name=f"并发{n}", short_name=f"并发{n}"))
                db.session.commit()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sqlite_app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Organization)) == 5


def test_get_requests_begin_deferred(sqlite_app):
    """Readers don't queue behind writers: a GET starts a plain BEGIN."""
    seen = []

    from sqlalchemy import event

    with sqlite_app.app_context():
        engine = db.engine

    def capture(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        client = sqlite_app.test_client()
        client.get("/healthz")
        get_begins = list(seen)
        seen.clear()
        client.post("/api/v1/auth/token", json={"phone": "13800000009", "password": "x"})
        post_begins = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert get_begins and all(s == "BEGIN" for s in get_begins)
    assert post_begins and all(s == "BEGIN IMMEDIATE" for s in post_begins)


def test_late_write_intent_reads_without_the_lock_and_queues_at_the_first_write(sqlite_app):
    """LATE (the check-in views): all four threads hold their reads at once (no write lock
    taken yet, so the barrier is passed), then each write takes the lock in turn, none fails."""
    with sqlite_app.app_context():
        b.org()
        db.session.commit()
    start = threading.Barrier(4, timeout=10)
    have_read = threading.Barrier(4, timeout=10)
    errors = []

    def worker(n):
        with sqlite_app.app_context():
            try:
                dbsetup.write_intent.set(dbsetup.LATE)
                start.wait()
                db.session.scalar(select(Organization).limit(1))
                have_read.wait()  # would time out if a read had taken the write lock
                db.session.add(Organization(name=f"迟写{n}", short_name=f"迟写{n}"))
                db.session.commit()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sqlite_app.app_context():
        names = db.session.scalars(
            select(Organization.name).where(Organization.name.like("迟写%"))
        ).all()
    assert sorted(names) == [f"迟写{n}" for n in range(4)]
