"""Login limits as a vendor meets them: the tries left after a wrong password, then a page in
Chinese saying when to try again; the API answers the same in JSON with Retry-After."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from market import create_app
from market.extensions import db
from market.models import Organization
from market.services.common.clock import FixedClock
from tests.conftest import Auth, base_config, csrf_from

VENDOR, OTHER = "13800000003", "13800000004"
T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # 20:00 on the market's clock


@pytest.fixture
def clock(demo_app):
    demo_app.config["CLOCK"] = FixedClock(T0)
    return demo_app.config["CLOCK"]


def login(client, phone, password, lang="zh"):
    """The login form posted as a phone sends it, in the language asked (which sticks)."""
    page = client.get(f"/login?lang={lang}")
    data = {"phone": phone, "password": password, "csrf_token": csrf_from(page.text)}
    return client.post(f"/login?lang={lang}", data=data)


def test_a_wrong_password_says_how_many_tries_are_left(client, clock):
    r = login(client, VENDOR, "wrong-pass", "en")
    assert r.status_code == 401
    assert "Wrong phone number or password." in r.text
    assert "4 tries left before this phone is locked for a while." in r.text
    assert "3 tries left" in login(client, VENDOR, "wrong-pass", "en").text


def test_the_fifth_says_locked_and_the_sixth_is_a_page_with_the_time(client, clock):
    for _ in range(4):
        login(client, VENDOR, "wrong-pass")
    clock.advance(minutes=3)
    fifth = login(client, VENDOR, "wrong-pass", "en")
    assert fifth.status_code == 401
    # Locked until the first of the five (at 20:00) leaves the 15 minutes: 20:15.
    assert "Try again after 20:15 (in 12 min)." in fifth.text
    english = login(client, VENDOR, "demo1234", "en")  # the right password waits too
    assert english.status_code == 429
    assert english.headers["Retry-After"] == str(12 * 60)
    assert "Too many wrong passwords for this phone number." in english.text
    assert "Try again after 20:15 (in 12 min)." in english.text
    sixth = login(client, VENDOR, "demo1234", "zh")
    assert sixth.status_code == 429
    assert "尝试次数过多" in sixth.text and "20:15" in sixth.text
    assert 'lang="zh-CN"' in sixth.text and 'href="/login"' in sixth.text


def test_the_new_words_read_in_chinese(client, clock):
    """The lock's words are in the Chinese catalog, not left in English."""
    assert "还可以尝试 4 次" in login(client, VENDOR, "wrong-pass").text
    for _ in range(4):
        login(client, VENDOR, "wrong-pass")
    page = login(client, VENDOR, "demo1234").text
    assert "请在 20:15（15 分钟后）再试" in page


def test_a_locked_phone_leaves_the_next_vendor_on_the_same_wifi_alone(client, auth, clock):
    for _ in range(5):
        auth.login(VENDOR, "wrong-pass")
    assert auth.login(VENDOR, "demo1234").status_code == 429
    assert auth.login(OTHER, "demo1234").status_code == 302  # same client address


def test_the_lock_holds_across_two_workers(demo_app, clock, tmp_path):
    """`make run` has two workers: two apps on one database see one count."""
    second = create_app(
        base_config(tmp_path / "second", demo_app.config["SQLALCHEMY_DATABASE_URI"])
    )
    second.config["CLOCK"] = clock
    try:
        one, two = Auth(demo_app.test_client()), Auth(second.test_client())
        statuses = [(one if n % 2 else two).login(VENDOR, "wrong").status_code for n in range(6)]
        assert statuses == [401] * 5 + [429]
        assert one.login(VENDOR, "demo1234").status_code == 429
        assert two.login(VENDOR, "demo1234").status_code == 429
    finally:
        with second.app_context():
            db.engine.dispose()


def test_the_api_answers_429_json_with_retry_after(client, clock):
    body = {"phone": VENDOR, "password": "wrong-pass"}
    first = client.post("/api/v1/auth/token?lang=en", json=body)
    assert first.status_code == 401
    assert first.json["error"]["code"] == "invalid_credentials"
    assert "4 tries left" in first.json["error"]["message"]
    for _ in range(4):
        client.post("/api/v1/auth/token", json=body)
    r = client.post("/api/v1/auth/token?lang=en", json={**body, "password": "demo1234"})
    assert r.status_code == 429
    assert r.json["error"]["code"] == "too_many_attempts"
    assert "20:15" in r.json["error"]["message"]
    assert r.headers["Retry-After"] == "900"


def test_failed_logins_are_in_the_cadres_audit_log(demo_app, client, auth):
    auth.login(VENDOR, "wrong-pass")
    auth.login("13800000001")  # the demo's cadre
    with demo_app.app_context():
        org_id = db.session.scalar(select(Organization.id))
    page = client.get(f"/reports/organizations/{org_id}/audit?lang=en", follow_redirects=True)
    assert page.status_code == 200
    assert "Wrong password at login" in page.text and "138****0003" in page.text
