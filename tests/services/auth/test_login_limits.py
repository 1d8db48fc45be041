"""Login limits as a rule: per phone and per address, on the injectable clock, in the database
every worker shares (and in Redis when one is configured)."""

import shutil
import socket
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from market import create_app
from market.extensions import db
from market.models import AuditEvent, LoginFailure
from market.services.auth import login_limits
from market.services.common.clock import FixedClock
from tests.conftest import base_config

VENDOR = "13800000003"  # 王德华, of the demo's one organisation
OTHER = "13800000004"
PASSWORD = "demo1234"
HERE, THERE = "192.0.2.10", "192.0.2.20"
T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai


@pytest.fixture
def at(demo_app):
    clock = FixedClock(T0)
    demo_app.config["CLOCK"] = clock
    return clock


def attempt(app, phone, password, address=HERE):
    """One login as a request makes it: its own transaction, committed after a wrong one.
    The phone of the user on success, else the exception."""
    with app.app_context():
        try:
            user = login_limits.attempt(phone, password, address)
        except login_limits.WrongCredentials as e:
            db.session.commit()
            return e
        except login_limits.TooManyAttempts as e:
            db.session.rollback()
            return e
        db.session.commit()
        return user.phone


def fail_times(app, phone, n, address=HERE, clock=None, step=None):
    answers = []
    for _ in range(n):
        answers.append(attempt(app, phone, "wrong-pass", address))
        if clock is not None and step:
            clock.advance(**step)
    return answers


def test_five_wrong_lock_the_phone_even_for_the_right_password(demo_app, at):
    answers = fail_times(demo_app, VENDOR, 5, clock=at, step={"minutes": 1})
    assert all(isinstance(a, login_limits.WrongCredentials) for a in answers)
    assert [a.tries_left for a in answers] == [4, 3, 2, 1, 0]
    # Locked from the fifth on: until the first of the five leaves the 15-minute window.
    refused = attempt(demo_app, VENDOR, PASSWORD)
    assert isinstance(refused, login_limits.TooManyAttempts)
    assert refused.retry_at == T0 + timedelta(minutes=15)
    assert refused.retry_after == 10 * 60  # the clock stands at T0 + 5 min
    assert refused.headers == {"Retry-After": "600"}
    with demo_app.test_request_context("/?lang=en"):
        assert "20:15" in str(refused.message) and "in 10 min" in str(refused.message)
        assert "locked for a while" in str(answers[0].warning)
        assert "4" in str(answers[0].warning)


def test_the_lock_ends_when_the_window_has_passed(demo_app, at):
    fail_times(demo_app, VENDOR, 5)
    at.advance(minutes=15)  # the failures at T0 are out of (T0, T0 + 15 min]
    at.advance(seconds=1)
    assert attempt(demo_app, VENDOR, PASSWORD) == VENDOR
    with demo_app.app_context():  # and the success cleared the phone's count
        assert db.session.scalar(select(func.count()).where(LoginFailure.key == "p:" + VENDOR)) == 0


def test_just_before_the_window_ends_it_is_still_locked(demo_app, at):
    fail_times(demo_app, VENDOR, 5)
    at.advance(minutes=14, seconds=59)
    assert isinstance(attempt(demo_app, VENDOR, PASSWORD), login_limits.TooManyAttempts)


def test_a_success_clears_the_phone_count(demo_app, at):
    fail_times(demo_app, VENDOR, 4)
    assert attempt(demo_app, VENDOR, PASSWORD) == VENDOR
    answers = fail_times(demo_app, VENDOR, 4)
    assert [a.tries_left for a in answers] == [4, 3, 2, 1]
    assert attempt(demo_app, VENDOR, PASSWORD) == VENDOR


def test_one_phone_locked_does_not_lock_another_on_the_same_wifi(demo_app, at):
    fail_times(demo_app, VENDOR, 5)
    assert isinstance(attempt(demo_app, VENDOR, PASSWORD), login_limits.TooManyAttempts)
    assert attempt(demo_app, OTHER, PASSWORD) == OTHER  # same address


def test_the_locked_phone_is_locked_from_every_address(demo_app, at):
    fail_times(demo_app, VENDOR, 5, address=HERE)
    assert isinstance(attempt(demo_app, VENDOR, PASSWORD, THERE), login_limits.TooManyAttempts)


def test_an_address_locks_after_its_own_higher_limit(demo_app, at):
    limit = demo_app.config["LOGIN_ADDRESS_LIMIT"]
    assert limit > demo_app.config["LOGIN_PHONE_LIMIT"]
    for n in range(limit):  # a new phone each time: no phone reaches its own limit
        answer = attempt(demo_app, f"139{n:08d}", "wrong-pass")
        assert isinstance(answer, login_limits.WrongCredentials)
    with demo_app.test_request_context("/?lang=en"):  # the last one says what it locked
        assert "from this network" in str(answer.warning)
    refused = attempt(demo_app, VENDOR, PASSWORD, HERE)
    assert isinstance(refused, login_limits.TooManyAttempts)
    assert attempt(demo_app, VENDOR, PASSWORD, THERE) == VENDOR  # another address


def test_unknown_phones_count_like_known_ones(demo_app, at):
    answers = fail_times(demo_app, "13999999999", 5)
    assert [a.tries_left for a in answers] == [4, 3, 2, 1, 0]
    assert isinstance(attempt(demo_app, "13999999999", "x"), login_limits.TooManyAttempts)


def test_failures_are_audited_under_the_user_and_organisation(demo_app, at):
    fail_times(demo_app, VENDOR, 5)
    fail_times(demo_app, "13999999999", 1)
    attempt(demo_app, VENDOR, PASSWORD)  # refused: not another failure
    with demo_app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("user.login_%")).order_by(AuditEvent.id)
        ).all()
        assert [e.action for e in events] == ["user.login_failed"] * 4 + [
            "user.login_locked",
            "user.login_failed",
        ]
        mine = events[0]
        assert mine.object_type == "users" and mine.ip == HERE
        assert mine.organization_id is not None
        assert '"phone": "138****0003"' in mine.detail and VENDOR not in mine.detail
        assert '"failures": 5' in events[4].detail
        unknown = events[5]
        assert unknown.object_type == "none" and unknown.organization_id is None


def test_two_app_instances_share_the_count(demo_app, at, tmp_path):
    """Two gunicorn workers are two apps on one database: five wrong in all, not five each."""
    second = create_app(
        base_config(tmp_path / "second", demo_app.config["SQLALCHEMY_DATABASE_URI"])
    )
    second.config["CLOCK"] = at
    try:
        fail_times(demo_app, VENDOR, 3)
        answers = fail_times(second, VENDOR, 2)
        assert [a.tries_left for a in answers] == [1, 0]
        assert isinstance(attempt(demo_app, VENDOR, PASSWORD), login_limits.TooManyAttempts)
        assert isinstance(attempt(second, VENDOR, PASSWORD), login_limits.TooManyAttempts)
    finally:
        with second.app_context():
            db.engine.dispose()


# -- With Redis ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def own_redis():
    """A redis-server of this test's own (never the machine's on 6379)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed for these tests (apt-get install redis-server)"
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _with_redis(app, url, clock):
    app.config.update(
        REDIS_URL=url, LOGIN_LIMIT_REDIS_PREFIX=f"test:{uuid.uuid4().hex}:", CLOCK=clock
    )
    return app


def test_with_redis_the_count_is_kept_there_and_shared(demo_app, at, own_redis, tmp_path):
    _with_redis(demo_app, own_redis, at)
    second = create_app(
        base_config(tmp_path / "second", demo_app.config["SQLALCHEMY_DATABASE_URI"])
    )
    second.config.update(
        REDIS_URL=own_redis,
        LOGIN_LIMIT_REDIS_PREFIX=demo_app.config["LOGIN_LIMIT_REDIS_PREFIX"],
        CLOCK=at,
    )
    try:
        fail_times(demo_app, VENDOR, 3)
        assert [a.tries_left for a in fail_times(second, VENDOR, 2)] == [1, 0]
        refused = attempt(demo_app, VENDOR, PASSWORD)
        assert isinstance(refused, login_limits.TooManyAttempts)
        assert refused.retry_at == T0 + timedelta(minutes=15)
        with demo_app.app_context():  # nothing went to the database
            assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0
        at.advance(minutes=15, seconds=1)
        assert attempt(second, VENDOR, PASSWORD) == VENDOR
    finally:
        with second.app_context():
            db.engine.dispose()


def test_when_redis_fails_the_database_counts(demo_app, at):
    port = _free_port()  # nothing listens there
    _with_redis(demo_app, f"redis://127.0.0.1:{port}/0", at)
    answers = fail_times(demo_app, VENDOR, 5)
    assert [a.tries_left for a in answers] == [4, 3, 2, 1, 0]
    assert isinstance(attempt(demo_app, VENDOR, PASSWORD), login_limits.TooManyAttempts)
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 10
