"""The scheduler process (`flask market scheduler`) killed -9 before an opening and started
again after the closing: its first tick puts every session where the clock says, each closing
taking effect once (check-outs, receivables, one audit event); another tick changes nothing.

Real processes on the real clock, with sessions a few seconds apart. On PostgreSQL the dead
process's advisory lock goes with its connection, so the restarted process acts at once; on
SQLite the dead holder's lease still runs (SCHEDULER_LEASE_SECONDS), and the operator's one
`flask market tick` puts things right. One backend per run (a minute each): PostgreSQL when
TEST_DATABASE_URL is set, as in CI, else SQLite."""

import os
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.server import ROOT, scratch_database
from market import create_app
from market.extensions import db
from market.models import Market
from tests import builders as b

from .procs import FLASK, app_env, flask, prepare, wait_until

# PostgreSQL when there is one (CI): the restarted process itself acts there; else SQLite.
BACKENDS = ["postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


def _plan(url: str, instance: str) -> tuple[int, int, datetime]:
    """An evening already open with a vendor on a stall, unpaid, ending in a few seconds; and
    a special session opening and ending in between. Returns their ids and the last end."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "SCHEDULER": False}
    )
    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        market = db.session.scalars(db.select(Market).where(Market.slug == "jinhui")).one()
        evening = b.session(
            market,
            kind="special",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(seconds=9),
            state="open",
            opened_at=now - timedelta(hours=1),
        )
        b.charge(b.checkin(evening, b.stall(b.zone(market))), base_fen=1000)
        later = b.session(
            market,
            kind="special",
            starts_at=now + timedelta(seconds=5),
            ends_at=now + timedelta(seconds=7),
        )
        ids = evening.id, later.id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return *ids, now + timedelta(seconds=9)


def _facts(url: str, ids) -> dict:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, state, closed_at FROM market_sessions WHERE id IN (:a, :b)"),
            {"a": ids[0], "b": ids[1]},
        ).all()
        facts = {
            "states": {r.id: r.state for r in rows},
            "closed_events": conn.execute(
                text("SELECT count(*) FROM audit_events WHERE action = 'session.closed'")
            ).scalar(),
            "active_checkins": conn.execute(
                text("SELECT count(*) FROM checkins WHERE session_id = :s AND state = 'active'"),
                {"s": ids[0]},
            ).scalar(),
            "receivables": conn.execute(
                text("SELECT count(*) FROM charges WHERE receivable_at IS NOT NULL")
            ).scalar(),
        }
    engine.dispose()
    return facts


def _scheduler(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [*FLASK, "market", "scheduler"],
        cwd=ROOT,
        env={**env, "SCHEDULER": "on"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_tick_after_restart_puts_everything_right(backend):
    server_url = os.environ.get("TEST_DATABASE_URL") if backend == "postgresql" else None
    with (
        tempfile.TemporaryDirectory(prefix="faults-") as instance,
        scratch_database(server_url, prefix="faults") as url,
        open(os.path.join(instance, "scheduler.log"), "w+") as log,
    ):
        env = app_env(url, instance)
        prepare(env)
        first = _scheduler(env, log)
        try:
            # its first tick (at start) generates the demo's sessions ahead
            wait_until(lambda: "generated" in Path(log.name).read_text(), 60, "the first tick")
            ids = _plan(url, instance)
            ends = ids[2]
        finally:
            first.kill()  # SIGKILL: no shutdown hook, the lock or lease is left as it was
            first.wait(timeout=10)
        assert datetime.now(UTC) < ends - timedelta(seconds=4), "machine too slow for the plan"
        time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 1)
        down = _facts(url, ids[:2])
        assert set(down["states"].values()) <= {"open", "scheduled"}  # nobody acted
        assert down["active_checkins"] == 1

        second = _scheduler(env, log)
        try:
            if backend == "postgresql":
                wait_until(
                    lambda: set(_facts(url, ids[:2])["states"].values()) == {"closed"},
                    60,
                    "the restarted scheduler's first tick",
                )
            else:
                out = flask(env, "market", "tick").stdout
                assert out.count("closed ") == 2, out
        finally:
            second.terminate()
            second.wait(timeout=30)
        after = _facts(url, ids[:2])
        assert set(after["states"].values()) == {"closed"}
        assert after["active_checkins"] == 0 and after["receivables"] == 1
        assert after["closed_events"] == down["closed_events"] + 2

        out = flask(env, "market", "tick").stdout  # once more: nothing left to do
        assert "closed " not in out and "opened " not in out, out
        assert _facts(url, ids[:2]) == after
