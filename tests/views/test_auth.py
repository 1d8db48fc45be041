"""Logging in and out, rate limits, password changes, CSRF and cookies."""

from datetime import timedelta

import pytest

from tests.conftest import csrf_from

HOMES = {
    "13800000001": "/admin/",
    "13800000002": "/guide/",
    "13800000003": "/vendors/home",
    "13800000004": "/vendors/home",
    "13800000005": "/vendors/home",
}


@pytest.mark.parametrize("phone", list(HOMES))
def test_each_demo_user_lands_on_their_home(client, auth, phone):
    r = auth.login(phone)
    assert r.status_code == 302
    r = client.get(r.headers["Location"])
    assert r.status_code == 302 and r.headers["Location"] == HOMES[phone]
    assert client.get(HOMES[phone]).status_code == 200


def test_wrong_password_is_401_with_message_and_phone_kept(client, auth):
    r = auth.login("13800000001", "wrong-password")
    assert r.status_code == 401
    assert "手机号或密码错误" in r.text
    assert 'value="13800000001"' in r.text


def test_unknown_phone_is_the_same_answer(client, auth):
    r = auth.login("13999999999", "whatever-pass")
    assert r.status_code == 401 and "手机号或密码错误" in r.text


def test_phone_with_country_code_and_spaces_logs_in(client, auth):
    assert auth.login("+86 138 0000 0001").status_code == 302


def test_logout(client, auth):
    auth.login()
    r = auth.logout()
    assert r.status_code == 302
    assert client.get("/admin/").status_code == 302  # back to the login page


def test_sixth_wrong_try_in_a_minute_is_429(client, auth):
    for _ in range(5):
        assert auth.login("13800000001", "wrong-password").status_code == 401
    r = auth.login("13800000001", "wrong-password")
    assert r.status_code == 429
    assert "尝试次数过多" in r.text
    # Even the right password waits now.
    assert auth.login("13800000001", "demo1234").status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(client, auth):
    for _ in range(7):
        assert auth.login().status_code == 302
        auth.logout()


def test_post_without_csrf_token_is_400(client):
    r = client.post("/login", data={"phone": "13800000001", "password": "demo1234"})
    assert r.status_code == 400
    assert "页面已过期" in r.text


def test_logout_without_csrf_token_is_400(client, auth):
    auth.login()
    assert client.post("/logout").status_code == 400
    assert client.get("/admin/").status_code == 200  # still logged in


def test_next_goes_to_local_paths_only(client, auth):
    page = client.get("/login")
    token = csrf_from(page.text)
    data = {"phone": "13800000001", "password": "demo1234", "csrf_token": token}
    r = client.post("/login?next=https://evil.example/", data=data)
    assert r.headers["Location"] == "/"
    auth.logout()
    page = client.get("/login")
    data["csrf_token"] = csrf_from(page.text)
    r = client.post("/login?next=/guide/markets/1/board", data=data)
    assert r.headers["Location"] == "/guide/markets/1/board"


def test_anonymous_is_sent_to_login_and_back(client):
    r = client.get("/admin/")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login?next=")


def test_session_cookie_flags(client, auth):
    r = auth.login()
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_an_unchanged_session_cookie_is_renewed_once_a_day(demo_app, client, auth, monkeypatch):
    from market import security

    auth.login()
    client.get("/vendors/home")  # shows (and so removes) the login's flashed message
    r = client.get("/vendors/home")  # the cookie signed a moment ago: nothing to send
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    # The same session a day and a minute later: it goes on, in a freshly signed cookie.
    later = security._now() + timedelta(days=1, minutes=1)
    monkeypatch.setattr(security, "_now", lambda: later)
    r = client.get("/vendors/home")
    assert r.status_code == 200
    assert "market_session=" in r.headers["Set-Cookie"] and "Expires=" in r.headers["Set-Cookie"]
    assert client.get("/vendors/home").status_code == 200  # still logged in, with the new one


def test_session_cookie_secure_over_https(demo_app):
    client = demo_app.test_client()
    page = client.get("/login", base_url="https://localhost")
    r = client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},  # CSRF checks it over HTTPS
        data={"phone": "13800000001", "password": "demo1234", "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 302
    assert "Secure" in r.headers["Set-Cookie"]


def test_change_password_logs_out_other_browsers(demo_app):
    first, second = demo_app.test_client(), demo_app.test_client()
    for c in (first, second):
        page = c.get("/login")
        c.post(
            "/login",
            data={
                "phone": "13800000004",
                "password": "demo1234",
                "csrf_token": csrf_from(page.text),
            },
        )
    page = first.get("/password")
    r = first.post(
        "/password",
        data={
            "current": "demo1234",
            "new": "a-better-pass-9",
            "confirm": "a-better-pass-9",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 302
    assert first.get("/vendors/home").status_code == 200  # this browser stays in
    assert second.get("/vendors/home").status_code == 302  # the other is logged out
    page = second.get("/login")
    r = second.post(
        "/login",
        data={
            "phone": "13800000004",
            "password": "a-better-pass-9",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong-one", "a-better-pass-9", "a-better-pass-9", "当前密码不正确"),
        ("demo1234", "short", "short", "至少需要 8 个字符"),
        ("demo1234", "12345678", "12345678", "密码太简单"),
        ("demo1234", "x13800000004y", "x13800000004y", "不要包含手机号"),
        ("demo1234", "a-better-pass-9", "a-better-pass-8", "两次输入的新密码不一致"),
    ],
)
def test_change_password_rejects(client, auth, current, new, confirm, message):
    auth.login("13800000004")
    page = client.get("/password")
    r = client.post(
        "/password",
        data={
            "current": current,
            "new": new,
            "confirm": confirm,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert 400 <= r.status_code < 500
    assert message in r.text
    auth.logout()
    assert auth.login("13800000004", "demo1234").status_code == 302  # unchanged


def test_next_that_a_browser_reads_as_another_host_is_refused():
    from market.auth.views import safe_next

    for target in ("/\\evil.example", "/\\/evil.example", "//evil.example", "/\tevil", "http:/x"):
        assert safe_next(target) is None, target
    assert safe_next("/s/abc?x=1") == "/s/abc?x=1"
