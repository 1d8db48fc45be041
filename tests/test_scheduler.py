"""The scheduler: one job wired right, one process acting (lease on SQLite, advisory lock on
PostgreSQL), `market tick`, and gunicorn running exactly one of it. No test sleeps for a tick:
the clock is injected and ticks are called directly."""

import os
import re
import runpy
import shutil
import socket
import subprocess
import sys
import threading
import time as walltime
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import create_engine, func, select, text

from market import create_app, scheduler, warmup
from market.extensions import db
from market.models import MarketSession, SchedulerLease
from market.services.common.clock import FixedClock
from tests.conftest import PG_URL, base_config, truncate_all

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime.fromisoformat("2026-11-23T18:05+08:00")


def session_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(MarketSession))


# --- the APScheduler wiring ------------------------------------------------------------------


def test_one_job_tick_every_minute_coalesced(sqlite_app):
    runner = scheduler.TickRunner(sqlite_app, lock=object())
    sched = scheduler.build_scheduler(runner, sqlite_app.config)
    jobs = sched.get_jobs()
    assert [j.id for j in jobs] == ["tick"]
    job = jobs[0]
    assert job.func is scheduler.tick and job.args == (runner,)
    assert job.coalesce is True and job.max_instances == 1
    assert job.misfire_grace_time == sqlite_app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"] > 0
    assert isinstance(job.trigger, CronTrigger)
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert fields["second"] == "0" and fields["minute"] == "*"
    assert job.next_run_time <= datetime.now(UTC)  # catches up at start, not a minute later
    assert not sched.running


def test_a_drill_ticks_every_few_seconds_and_the_lease_follows(sqlite_app, monkeypatch):
    monkeypatch.setenv("SCHEDULER_TICK_SECONDS", "5")
    config = create_app(base_config(Path(sqlite_app.instance_path), "sqlite://")).config
    assert config["SCHEDULER_LEASE_SECONDS"] == 7  # outlives one tick only, as 90 s a minute
    sched = scheduler.build_scheduler(scheduler.TickRunner(sqlite_app, lock=object()), config)
    fields = {f.name: str(f) for f in sched.get_jobs()[0].trigger.fields}
    assert fields["second"] == "*/5"
    monkeypatch.setenv("SCHEDULER_TICK_SECONDS", "7")  # not a divisor of 60: refused
    with pytest.raises(ValueError, match="divisor of 60"):
        create_app(base_config(Path(sqlite_app.instance_path), "sqlite://"))


def test_a_tick_holds_the_fork_guard():
    class Runner:
        def run(self):
            return scheduler.FORK_GUARD.locked()

    assert not scheduler.FORK_GUARD.locked()
    assert scheduler.tick(Runner()) is True
    assert not scheduler.FORK_GUARD.locked()


class FakeScheduler:
    started = 0

    def __init__(self, **kw):
        self.jobs = []

    def add_job(self, *args, **kw):
        self.jobs.append(kw["id"])

    def start(self):
        FakeScheduler.started += 1

    def shutdown(self, wait=True):
        FakeScheduler.started -= 1


def test_the_app_starts_a_scheduler_only_when_allowed(sqlite_app, monkeypatch):
    monkeypatch.setattr(scheduler, "BackgroundScheduler", FakeScheduler)
    market_scheduler = sqlite_app.extensions["market_scheduler"]
    assert not market_scheduler.running  # create_app attaches it, never starts it
    assert market_scheduler.start() is False  # the test config says SCHEDULER off
    sqlite_app.config["SCHEDULER"] = True
    assert market_scheduler.start() and market_scheduler.start()  # twice: still one
    assert FakeScheduler.started == 1 and market_scheduler.scheduler.jobs == ["tick"]
    market_scheduler.shutdown()
    assert FakeScheduler.started == 0 and not market_scheduler.running


# --- one scheduler acts: the SQLite lease ----------------------------------------------------


def two_runners(app):
    """Two schedulers on one database, each with a lock of its own (as two processes)."""
    if app.config["BACKEND"] == "sqlite":
        return [scheduler.TickRunner(app, scheduler.make_lock(app, holder=n)) for n in "ab"]
    key = app.config["LOCK_KEY"]
    return [scheduler.TickRunner(app, scheduler.AdvisoryLock(PG_URL, key)) for _ in "ab"]


def test_sqlite_lease_one_acts_and_a_stale_lease_is_taken_over(sqlite_app):
    clock = sqlite_app.config["CLOCK"] = FixedClock(T0)
    a, b = two_runners(sqlite_app)
    assert 60 < sqlite_app.config["SCHEDULER_LEASE_SECONDS"] < 120  # outlives one tick only
    assert a.run() is not None and b.run() is None
    clock.advance(minutes=1)
    assert a.run() is not None and b.run() is None  # a renews its lease every tick
    # a dies here. b's next tick finds a's lease still fresh, the one after takes it over.
    clock.advance(minutes=1)
    assert b.run() is None
    clock.advance(minutes=1)
    assert b.run() is not None
    with sqlite_app.app_context():
        lease = db.session.get(SchedulerLease, "tick")
        assert lease.holder == "b" and lease.expires_at > clock()
    clock.advance(minutes=1)
    assert a.run() is None  # a comes back: b keeps acting
    b.lock.release()  # a clean shutdown hands over at once
    assert a.run() is not None


def test_sqlite_two_schedulers_at_the_same_instant(sqlite_app):
    sqlite_app.config["CLOCK"] = FixedClock(T0)
    a, b = two_runners(sqlite_app)
    results = race(a, b)
    assert sorted(r is None for r in results) == [False, True]


def race(*tick_runners):
    barrier = threading.Barrier(len(tick_runners))
    results = [None] * len(tick_runners)

    def go(i, runner):
        barrier.wait()
        results[i] = runner.run()

    threads = [threading.Thread(target=go, args=(i, r)) for i, r in enumerate(tick_runners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


# --- one scheduler acts: the PostgreSQL advisory lock ----------------------------------------


@pytest.fixture
def pg_app(request, tmp_path):
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set (CI sets it)")
    app = create_app(base_config(tmp_path, request.getfixturevalue("postgres_ready")))
    app.config["BACKEND"] = "postgresql"
    app.config["LOCK_KEY"] = uuid.uuid4().int % 2**62  # other test runs hold their own
    with app.app_context():
        from market.demo.load import load_demo

        load_demo()
        db.session.commit()
    yield app
    truncate_all(app)


def wait_until_released(key: int) -> None:
    """The server drops a dead session's locks a moment after its connection goes: wait for
    that (the server, not a tick), at most five seconds."""
    engine = create_engine(PG_URL)
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid::bigint = :high AND objid::bigint = :low"
    )
    try:
        deadline = walltime.monotonic() + 5
        while walltime.monotonic() < deadline:
            with engine.connect() as conn:
                if not conn.scalar(query, {"high": key >> 32, "low": key & 0xFFFFFFFF}):
                    return
            walltime.sleep(0.05)
        raise AssertionError("the advisory lock was not released")
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_one_acts_and_the_other_takes_over_when_it_dies(pg_app):
    clock = pg_app.config["CLOCK"] = FixedClock(T0)
    a, b = two_runners(pg_app)
    results = race(a, b)  # two threads, each with its own lock connection
    assert sorted(r is None for r in results) == [False, True]
    holder, standby = (a, b) if results[0] is not None else (b, a)
    opened = session_count(pg_app)
    assert opened >= 14
    for _ in range(2):
        clock.advance(minutes=1)
        assert holder.run() is not None and standby.run() is None
    holder.lock.conn.close()  # the acting process dies: its connection goes, the lock with it
    wait_until_released(pg_app.config["LOCK_KEY"])
    clock.advance(minutes=1)
    assert standby.run() is not None  # the next tick already
    clock.advance(minutes=1)
    assert holder.run() is None  # back from the dead: it waits now
    assert session_count(pg_app) == opened  # nothing generated twice
    with pg_app.app_context():
        open_now = db.session.scalar(
            select(func.count()).select_from(MarketSession).where(MarketSession.state == "open")
        )
    assert open_now == 1
    for r in (a, b):
        r.lock.dispose()


@pytest.mark.postgres
def test_postgres_lock_is_released_by_the_server_when_the_backend_goes(pg_app):
    pg_app.config["CLOCK"] = FixedClock(T0)
    a, b = two_runners(pg_app)
    assert a.run() is not None and b.run() is None
    pid = a.lock.conn.scalar(text("SELECT pg_backend_pid()"))
    killer = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:  # like a crashed host: the server drops the session
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    wait_until_released(pg_app.config["LOCK_KEY"])
    assert b.run() is not None
    assert a.run() is None  # notices its connection is gone and finds the lock taken
    for r in (a, b):
        r.lock.dispose()


# --- `flask market tick` ---------------------------------------------------------------------


def test_tick_command_across_an_opening_and_a_closing(demo_app):
    demo_app.config["CLOCK"] = FixedClock(T0)  # the real time: --now stays within a day of it
    runner = demo_app.test_cli_runner()
    r = runner.invoke(args=["market", "tick", "--now", "2026-11-23T17:55+08:00"])
    assert r.exit_code == 0, r.output
    assert "generated 19 session(s)" in r.output and "opened" not in r.output
    r = runner.invoke(args=["market", "tick", "--now", "2026-11-23T18:05+08:00"])
    assert "generated 0 session(s)" in r.output
    assert re.search(r"opened #\d+ jinhui 2026-11-23 night 18:00–22:30", r.output)
    r = runner.invoke(args=["market", "tick", "--now", "2026-11-23T18:06+08:00"])
    assert "opened" not in r.output
    for _ in range(3):
        r = runner.invoke(args=["market", "tick", "--now", "2026-11-23T14:31Z"])
        assert r.exit_code == 0
        closes = r.output.count("closed #")
        assert closes == (1 if _ == 0 else 0)
    # Naive times are read in MARKET_TIMEZONE (Asia/Shanghai) or --tz.
    r = runner.invoke(args=["market", "tick", "--now", "2026-11-24T18:01"])
    assert "opened" in r.output and "2026-11-24T10:01:00+00:00" in r.output


def test_tick_command_without_now_uses_the_clock(demo_app):
    demo_app.config["CLOCK"] = FixedClock(T0)
    r = demo_app.test_cli_runner().invoke(args=["market", "tick"])
    assert "tick at 2026-11-23T10:05:00+00:00" in r.output and "opened" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--now", "tomorrow"], "not an ISO-8601"),
        (["--now", "2026-11-23T18:05", "--tz", "Asia/Shangai"], "unknown timezone"),
    ],
)
def test_tick_command_bad_input(demo_app, args, message):
    r = demo_app.test_cli_runner().invoke(args=["market", "tick", *args])
    assert r.exit_code == 2 and message in r.output
    assert session_count(demo_app) == 0


def test_scheduler_command_refuses_when_off(demo_app):
    r = demo_app.test_cli_runner().invoke(args=["market", "scheduler"])
    assert r.exit_code != 0 and "SCHEDULER=off" in r.output


# --- gunicorn: one scheduler, in the master --------------------------------------------------


def test_gunicorn_config_starts_it_in_the_master_only(monkeypatch):
    calls = []
    monkeypatch.setattr(scheduler, "start_in_master", lambda: calls.append("start"))
    monkeypatch.setattr(scheduler, "stop_in_master", lambda: calls.append("stop"))
    monkeypatch.setattr(
        warmup, "warm", lambda app, connections: calls.append(("warm", connections))
    )
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert "post_fork" not in conf
    worker = SimpleNamespace(wsgi=None, cfg=SimpleNamespace(threads=4))
    conf["post_worker_init"](worker)  # a worker warms up, no scheduler
    assert calls == [("warm", 4)]
    calls.clear()
    conf["when_ready"](None)
    conf["on_exit"](None)
    assert calls == ["start", "stop"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:  # noqa: S310
            return r.status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_gunicorn_with_two_workers_runs_exactly_one_scheduler(sqlite_templates, tmp_path):
    db_path = tmp_path / "market.db"
    shutil.copy(sqlite_templates[True], db_path)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "SECRET_KEY": "test",
        "MARKET_INSTANCE_PATH": str(tmp_path),
        "PORT": str(_free_port()),
        "WEB_CONCURRENCY": "2",
        "SCHEDULER": "on",
        "LOG_JSON": "0",
    }
    log = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    engine = create_engine(f"sqlite:///{db_path}")
    log_text = (tmp_path / "gunicorn.log").read_text
    try:
        holder, booted = None, False
        deadline = walltime.monotonic() + 30
        while not (holder and booted) and walltime.monotonic() < deadline and proc.poll() is None:
            walltime.sleep(0.2)  # waiting for a real server to boot, not for a tick
            booted = log_text().count("Booting worker") == 2 and _healthy(env["PORT"])
            with engine.connect() as conn:
                holder = conn.scalar(text("SELECT holder FROM scheduler_leases"))
                generated = conn.scalar(text("SELECT count(*) FROM market_sessions"))
        assert holder is not None and booted, log_text()
        assert holder.split(":")[1] == str(proc.pid)  # the master, not a worker
        assert generated >= 14
    finally:
        stopping = walltime.monotonic()
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        engine.dispose()
    # A worker forked in the middle of a tick used to inherit a held lock and hang until
    # gunicorn's graceful timeout (20 s); forks now wait for the tick (FORK_GUARD).
    assert walltime.monotonic() - stopping < 10
    output = log_text()
    assert output.count("Booting worker") == 2
    assert output.count("scheduler started") == 1
    assert "scheduler stopped" in output
