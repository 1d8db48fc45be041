"""APScheduler wiring: one job, `tick`, every minute, acting in exactly one process.

The work lives in services.sessions.tide (`reconcile`); this module only decides when and
where it runs.

Where: gunicorn's master starts it (gunicorn.conf.py `when_ready` → `start_in_master`), so
`make run` and the Docker image run one scheduler whatever the number of workers; workers
never start one. `flask market scheduler` runs it in a process of its own instead.

The master forks workers (again whenever one is replaced) while the scheduler thread runs:
FORK_GUARD makes each fork wait for a running tick, so no child inherits a lock held mid-tick.

Who acts: however many schedulers run (several hosts, a stray process), one holds the lock
and the others wait and take over when it goes: on PostgreSQL a session-level advisory lock
on a dedicated connection (released by the server when the process or its connection dies),
on SQLite a lease row renewed on each tick and taken over once it has expired.

When: on PostgreSQL a tick whose clock is ahead of the database server's does nothing and
says so (services.sessions.clockguard explains why SQLite cannot tell).
"""

import contextlib
import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from .dbsetup import write_intent
from .extensions import db
from .models import SchedulerLease
from .services.common import clock, ticks
from .services.sessions import clockguard
from .services.sessions import tide as sessions

log = logging.getLogger("market.scheduler")

JOB_ID = "tick"
LEASE_NAME = "tick"
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # a released lease: expired whatever the clock


def holder_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class AdvisoryLock:
    """PostgreSQL: pg_try_advisory_lock on a connection of our own, kept while we act."""

    def __init__(self, url, key: int):
        # NullPool: closing the connection really closes it, which is what releases the lock.
        self.engine = create_engine(url, poolclass=NullPool)
        self.key = key
        self.conn = None

    def acquire(self, now: datetime) -> bool:
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError:  # dropped by the server, or closed under us
                log.warning("scheduler lock connection lost; trying to take the lock again")
                self._drop()
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except DBAPIError:
            log.warning("scheduler lock: database unreachable")
            return False
        try:
            got = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        except DBAPIError:
            got = False
        if got:
            self.conn = conn
            return True
        conn.close()
        return False

    def _drop(self) -> None:
        conn, self.conn = self.conn, None
        with contextlib.suppress(SQLAlchemyError):
            conn.close()

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self.conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._drop()

    def dispose(self) -> None:
        self.release()
        self.engine.dispose()


class LeaseLock:
    """SQLite (one file, several processes): a lease row with a holder and an expiry."""

    def __init__(self, engine, holder: str, seconds: int, name: str = LEASE_NAME):
        self.engine, self.holder, self.name = engine, holder, name
        self.length = timedelta(seconds=seconds)
        self.table = SchedulerLease.__table__

    def acquire(self, now: datetime) -> bool:
        token = write_intent.set(True)  # BEGIN IMMEDIATE: two takers queue, the second sees
        try:  # the first one's fresh lease and backs off
            with self.engine.begin() as conn:
                return self._take(conn, now)
        except IntegrityError:  # both inserted the first row at once: the other one won
            return False
        finally:
            write_intent.reset(token)

    def _take(self, conn, now: datetime) -> bool:
        row = conn.execute(
            select(self.table).where(self.table.c.name == self.name).with_for_update()
        ).first()
        values = {"holder": self.holder, "expires_at": now + self.length}
        if row is None:
            conn.execute(insert(self.table).values(name=self.name, acquired_at=now, **values))
            return True
        if row.holder != self.holder and row.expires_at > now:
            return False
        if row.holder != self.holder:
            log.info("scheduler lease taken over from %s (expired %s)", row.holder, row.expires_at)
            values["acquired_at"] = now
        conn.execute(update(self.table).where(self.table.c.name == self.name).values(**values))
        return True

    def release(self) -> None:
        """Let another process take over at once instead of waiting for the expiry."""
        with self.engine.begin() as conn:
            conn.execute(
                update(self.table)
                .where(self.table.c.name == self.name, self.table.c.holder == self.holder)
                .values(expires_at=LONG_AGO)
            )

    def dispose(self) -> None:
        self.release()


def make_lock(app: Flask, holder: str | None = None):
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            return AdvisoryLock(engine.url, app.config["SCHEDULER_LOCK_KEY"])
        return LeaseLock(engine, holder or holder_name(), app.config["SCHEDULER_LEASE_SECONDS"])


class TickRunner:
    """One scheduler's turn: take (or keep) the lock, then reconcile and commit."""

    def __init__(self, app: Flask, lock=None):
        self.app = app
        self.lock = lock if lock is not None else make_lock(app)
        self.acts = None  # unknown until the first tick

    def _acting(self, acts: bool) -> bool:
        """Say when this process starts or stops being the one that acts (not every tick)."""
        if acts != self.acts:
            if acts:
                log.info("pid %d holds the scheduler lock and acts", os.getpid())
            else:
                log.info("another scheduler holds the lock: pid %d stands by", os.getpid())
        self.acts = acts
        return acts

    def run(self) -> sessions.TickReport | None:
        """The report when this process acted, None when another one holds the lock."""
        with self.app.app_context():
            token = write_intent.set(True)
            try:
                now = clock.now()
                if not self._acting(self.lock.acquire(now)):
                    return None
                refusal = clockguard.check(now)
                if refusal is not None:  # a clock ahead would end evenings early: do nothing
                    clockguard.record(refusal)
                    db.session.commit()
                    return sessions.TickReport(now, refused=refusal.message())
                report = sessions.reconcile(now)
                other = ticks.run(now)  # votes to close, draws to reveal …
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("tick failed")
                return None
            finally:
                write_intent.reset(token)
        if other:
            log.info("; ".join(other))
        if report.generated or report.opened or report.closed or report.errors:
            log.info("; ".join(report.lines()))
        return report


# A process that forks (gunicorn's master, spawning workers) must not fork in the middle of a
# tick: the child would inherit locks the tick holds (SQLAlchemy's mapper configuration, a
# connection pool) and deadlock on its first request. Ticks hold this lock; so do forks.
FORK_GUARD = threading.Lock()
_fork_hooks_installed = False


def tick(runner: TickRunner):
    """The job function (importable, no import effects)."""
    with FORK_GUARD:
        return runner.run()


def _no_fork_during_a_tick() -> None:
    global _fork_hooks_installed
    if not _fork_hooks_installed:
        os.register_at_fork(
            before=FORK_GUARD.acquire,
            after_in_parent=FORK_GUARD.release,
            after_in_child=FORK_GUARD.release,
        )
        _fork_hooks_installed = True


def build_scheduler(runner: TickRunner, config, scheduler_class=None):
    """The one job: every minute on the minute (SCHEDULER_TICK_SECONDS), and once at start to
    catch up at once.
    A late run within the grace time still runs; missed runs coalesce into one; a slow tick
    never overlaps the next."""
    scheduler = (scheduler_class or BackgroundScheduler)(timezone=UTC)
    every = config["SCHEDULER_TICK_SECONDS"]
    scheduler.add_job(
        tick,
        CronTrigger(second=0 if every == 60 else f"*/{every}", timezone=UTC),
        args=[runner],
        id=JOB_ID,
        name="reconcile market sessions",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=config["SCHEDULER_MISFIRE_GRACE_SECONDS"],
        next_run_time=datetime.now(UTC),
        replace_existing=True,
    )
    return scheduler


class MarketScheduler:
    """The app's scheduler, created by create_app and started only on purpose."""

    def __init__(self, app: Flask):
        self.app = app
        self.scheduler = None
        self.runner = None

    @property
    def running(self) -> bool:
        return self.scheduler is not None

    def start(self) -> bool:
        if not self.app.config["SCHEDULER"]:
            log.info("SCHEDULER=off: this process runs no scheduler")
            return False
        if self.scheduler is None:
            self.runner = TickRunner(self.app)
            self.scheduler = build_scheduler(self.runner, self.app.config)
            self.scheduler.start()
            log.info("scheduler started in pid %d", os.getpid())
        return True

    def shutdown(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.runner.lock.dispose()
            self.scheduler = None
            log.info("scheduler stopped in pid %d", os.getpid())


def init_app(app: Flask) -> None:
    """The hook in create_app: attach a scheduler that is not running."""
    app.extensions["market_scheduler"] = MarketScheduler(app)


# --- gunicorn's master (gunicorn.conf.py) ----------------------------------------------------

_master: MarketScheduler | None = None


def start_in_master() -> MarketScheduler | None:
    """Run the one scheduler in gunicorn's master, before it forks the workers."""
    global _master
    if _master is None:
        from . import create_app

        # NullPool: no idle database connection sits in the master for workers to inherit.
        app = create_app({"SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}})
        _master = app.extensions["market_scheduler"]
        _no_fork_during_a_tick()
        _master.start()
    return _master


def stop_in_master() -> None:
    global _master
    if _master is not None:
        _master.shutdown()
        _master = None


def run_forever(app: Flask, stop=None) -> None:
    """`flask market scheduler`: this process runs the scheduler until SIGTERM or Ctrl-C."""
    import signal

    stop = stop or threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler = app.extensions["market_scheduler"]
    if not scheduler.start():
        return
    try:
        stop.wait()
    finally:
        scheduler.shutdown()
