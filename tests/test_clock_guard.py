"""A wrong clock must not end the evening for good (issue 19): `tick --now` far from the real
time needs --force; on PostgreSQL a scheduler whose clock is ahead of the database's does
nothing, says so in the log and on the cadre's sessions page; and a session closed too early
is reopened by a cadre, with the books still verifying."""

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from market import create_app, scheduler
from market.extensions import db
from market.models import AuditEvent, Charge, CheckIn, Market, MarketSession
from market.services.common.clock import FixedClock
from market.services.sessions import clockguard
from market.services.sessions import tide as sessions
from tests import builders as b
from tests.conftest import PG_URL, Auth, base_config, csrf_from, truncate_all

EVENING = datetime.fromisoformat("2026-11-23T19:00+08:00")  # the real time in these tests


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def tonight(app) -> MarketSession:
    with app.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        s = sessions.current_session(market.id, EVENING)
        db.session.expunge(s)
        return s


def state_of(app, session_id: int) -> str:
    with app.app_context():
        return db.session.get(MarketSession, session_id).state


@pytest.fixture
def evening(demo_app):
    """The demo's Monday night market open at 19:00, two vendors on stalls owing their fee."""
    demo_app.config["CLOCK"] = FixedClock(EVENING)
    r = demo_app.test_cli_runner().invoke(args=["market", "tick"])
    assert r.exit_code == 0 and "opened" in r.output, r.output
    s = tonight(demo_app)
    with demo_app.app_context():
        session = db.session.get(MarketSession, s.id)
        for _ in range(2):
            b.charge(b.checkin(session), base_fen=1000)
        db.session.commit()
    return s


def states(app) -> dict[str, int]:
    with app.app_context():
        return dict(
            db.session.execute(
                select(MarketSession.state, func.count()).group_by(MarketSession.state)
            ).all()
        )


def test_tick_now_days_ahead_needs_force(demo_app, evening):
    runner = demo_app.test_cli_runner()
    before = states(demo_app)
    typo = (EVENING + timedelta(days=3)).isoformat()
    r = runner.invoke(args=["market", "tick", "--now", typo])
    assert r.exit_code == 1
    assert "more than a day from the real time" in r.output and "--force" in r.output
    assert states(demo_app) == before  # nothing closed, nothing generated
    assert count(demo_app, CheckIn, CheckIn.state == "active") == 2
    assert count(demo_app, Charge, Charge.receivable_at.is_not(None)) == 0
    # A day back is as far off: it would catch nothing up, but is no less a typo.
    r = runner.invoke(args=["market", "tick", "--now", (EVENING - timedelta(days=2)).isoformat()])
    assert r.exit_code == 1 and states(demo_app) == before
    # Within a day it acts as before.
    r = runner.invoke(args=["market", "tick", "--now", (EVENING + timedelta(hours=1)).isoformat()])
    assert r.exit_code == 0 and "closed" not in r.output


def test_the_whole_story_forced_far_ahead_then_reopened(demo_app, evening, client, auth):
    runner = demo_app.test_cli_runner()
    far = "2026-11-26T12:00+08:00"  # the typo: noon three days on
    r = runner.invoke(args=["market", "tick", "--now", far, "--force"])
    assert r.exit_code == 0, r.output
    assert r.output.count("closed #") == 3  # tonight and the two evenings after it
    assert count(demo_app, CheckIn, CheckIn.state == "active") == 0
    assert count(demo_app, Charge, Charge.receivable_at.is_not(None)) == 2
    # Setting the clock back repairs nothing by itself.
    r = runner.invoke(args=["market", "tick"])
    assert r.exit_code == 0 and "opened" not in r.output

    auth.login("13800000001")
    page = client.get(f"/sessions/{evening.id}?lang=en")
    assert "Reopen the session" in page.text
    r = client.post(
        f"/sessions/{evening.id}/reopen?lang=en",
        data={"csrf_token": csrf_from(page.text), "r-reason": "时钟错了，误关"},
    )
    assert r.status_code == 302
    with demo_app.app_context():
        s = db.session.get(MarketSession, evening.id)
        assert s.state == "open" and s.closed_at is None
    assert count(demo_app, CheckIn, CheckIn.state == "active") == 2
    assert count(demo_app, Charge, Charge.receivable_at.is_not(None)) == 0
    assert count(demo_app, AuditEvent, AuditEvent.action == "session.reopened") == 1
    page = client.get(f"/sessions/{evening.id}?lang=en").text
    assert "Vendors on stalls: 2; checked out: 0" in page and "Unpaid: 20.00 yuan" in page
    r = runner.invoke(args=["ledger", "verify"])
    assert r.exit_code == 0 and "ledger intact" in r.output
    # The next tick at the real time leaves the reopened evening open.
    r = runner.invoke(args=["market", "tick"])
    assert r.exit_code == 0 and "closed" not in r.output
    assert state_of(demo_app, evening.id) == "open"


def test_reopen_refused_on_the_page_says_why(demo_app, evening, client, auth):
    runner = demo_app.test_cli_runner()
    after = (EVENING + timedelta(hours=4)).isoformat()  # past 22:30: closed at its time
    assert runner.invoke(args=["market", "tick", "--now", after]).exit_code == 0
    auth.login("13800000001")
    demo_app.config["CLOCK"] = FixedClock(EVENING + timedelta(hours=4))
    page = client.get(f"/sessions/{evening.id}?lang=en")
    assert "Reopen the session" not in page.text  # its hours have passed
    r = client.post(
        f"/sessions/{evening.id}/reopen?lang=en",
        data={"csrf_token": csrf_from(page.text), "r-reason": "再开"},
    )
    assert r.status_code == 409 and "can no longer be reopened" in r.text
    assert state_of(demo_app, evening.id) == "closed"


def test_the_cadres_sessions_page_warns_of_a_recent_refusal(demo_app, client, auth):
    demo_app.config["CLOCK"] = clock = FixedClock(EVENING)
    with demo_app.app_context():
        market_id = db.session.scalar(select(Market.id).where(Market.slug == "jinhui"))
        db_now = clockguard.database_now() or EVENING
        clockguard.record(clockguard.ClockRefusal(db_now + timedelta(minutes=42), db_now))
        db.session.commit()
    auth.login("13800000001")
    warning = "The scheduler's clock is ahead of the database's by 42 minutes"
    assert warning in client.get(f"/sessions/markets/{market_id}?lang=en").text
    if demo_app.config["BACKEND"] == "sqlite":  # recent by the page's clock: half an hour
        clock.advance(minutes=31)
        assert warning not in client.get(f"/sessions/markets/{market_id}?lang=en").text


# --- PostgreSQL: the database's clock is the reference ----------------------------------------


@pytest.fixture
def pg_app(request, tmp_path):
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set (CI sets it)")
    app = create_app(base_config(tmp_path, request.getfixturevalue("postgres_ready")))
    app.config["BACKEND"] = "postgresql"
    with app.app_context():
        from market.demo.load import load_demo

        load_demo()
        db.session.commit()
    yield app
    truncate_all(app)


def refusals(app) -> int:
    return count(app, AuditEvent, AuditEvent.action == clockguard.REFUSED)


@pytest.mark.postgres
def test_a_scheduler_clock_ahead_of_the_database_does_nothing(pg_app, caplog):
    clock = pg_app.config["CLOCK"] = FixedClock(datetime.now(UTC) + timedelta(minutes=20))
    lock = scheduler.AdvisoryLock(PG_URL, uuid.uuid4().int % 2**62)
    runner = scheduler.TickRunner(pg_app, lock)
    with caplog.at_level(logging.WARNING, logger="market.scheduler"):
        report = runner.run()
    assert report is not None and report.refused and "ahead of the database" in report.refused
    assert "did nothing" in caplog.text
    assert count(pg_app, MarketSession) == 0  # not even generated
    assert refusals(pg_app) == 1
    clock.advance(minutes=1)
    assert runner.run().refused and refusals(pg_app) == 1  # kept once per ten minutes
    # `flask market tick` checks the same clock, and --force overrides it.
    cli = pg_app.test_cli_runner()
    r = cli.invoke(args=["market", "tick"])
    assert r.exit_code == 1 and "ahead of the database" in r.output
    assert count(pg_app, MarketSession) == 0
    # The cadre sees why nothing moves.
    client = pg_app.test_client()
    Auth(client).login()
    with pg_app.app_context():
        market_id = db.session.scalar(select(Market.id).where(Market.slug == "jinhui"))
    page = client.get(f"/sessions/markets/{market_id}?lang=en").text
    assert "The scheduler's clock is ahead of the database's by 20 minutes" in page
    # Within the limit it acts.
    clock.set(datetime.now(UTC) + timedelta(minutes=2))
    report = runner.run()
    assert report.refused is None and report.generated > 0
    assert cli.invoke(args=["market", "tick", "--force"]).exit_code == 0
    lock.dispose()
