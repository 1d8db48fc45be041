"""Forgotten passwords on the pages: staff issue a code after the phone check, the code is
shown once, the person sets a new password on /login/reset and is logged in; logging out
(here, everywhere) ends the session on the server, copied cookies included."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import User, Vendor
from market.services.common.clock import FixedClock
from tests.conftest import Auth, csrf_from

GUIDE, ADMIN, VENDOR = "13800000002", "13800000001", "13800000003"
CODE_RE = re.compile(r'class="reset-code"[^>]*>(\d{4} \d{4})<')
NEW_PASSWORD = "new-secret-42"
COOKIE = "market_session"


def user_id(app, phone):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.phone == phone))


def issue(client, target_id, last4, lang="en"):
    page = client.get(f"/users/{target_id}/reset-code?lang={lang}")
    assert page.status_code == 200, page.text
    return client.post(
        f"/users/{target_id}/reset-code",
        data={"phone_last4": last4, "csrf_token": csrf_from(page.text)},
    )


def reset(client, phone, code, password=NEW_PASSWORD, confirm=None):
    page = client.get("/login/reset?lang=en")
    return client.post(
        "/login/reset",
        data={
            "phone": phone,
            "code": code,
            "new": password,
            "confirm": confirm or password,
            "csrf_token": csrf_from(page.text),
        },
    )


def copy_cookie(source, target):
    target.set_cookie(COOKIE, source.get_cookie(COOKIE).value)


def test_the_login_page_links_to_the_reset_page(client):
    page = client.get("/login?lang=en")
    assert 'href="/login/reset"' in page.text and "Forgot your password?" in page.text
    assert client.get("/login/reset").status_code == 200


def test_a_guide_issues_a_code_shown_once_and_the_vendor_resets(demo_app, client, auth):
    auth.login(GUIDE)
    found = client.get("/reset-codes?q=0003&lang=en")
    vendor_id = user_id(demo_app, VENDOR)
    assert f"/users/{vendor_id}/reset-code" in found.text
    answer = issue(client, vendor_id, VENDOR[-4:])
    assert answer.status_code == 303
    shown = client.get(answer.headers["Location"])
    assert shown.headers["Cache-Control"] == "no-store"
    code = CODE_RE.search(shown.text).group(1)
    again = client.get(answer.headers["Location"])  # reload, Back: never shown twice
    assert not CODE_RE.search(again.text) and "shown already" in again.text

    vendor = demo_app.test_client()
    done = reset(vendor, VENDOR, code)
    assert done.status_code == 303
    assert vendor.get("/vendors/home").status_code == 200  # logged in
    fresh = demo_app.test_client()
    assert Auth(fresh).login(VENDOR, "demo1234").status_code == 401
    assert Auth(fresh).login(VENDOR, NEW_PASSWORD).status_code == 302
    reused = reset(demo_app.test_client(), VENDOR, code, password="another-pass-7")
    assert reused.status_code == 401 and "used already" in reused.text


def test_wrong_last_four_digits_are_refused_on_the_form(demo_app, client, auth):
    auth.login(GUIDE)
    answer = issue(client, user_id(demo_app, VENDOR), "9999")
    assert answer.status_code == 422
    assert "not the last four digits" in answer.text
    assert not CODE_RE.search(answer.text)


def test_a_guide_cannot_issue_for_the_admin_and_the_admin_not_for_himself(demo_app, client, auth):
    auth.login(GUIDE)
    assert client.get(f"/users/{user_id(demo_app, ADMIN)}/reset-code").status_code == 404
    auth.logout()
    auth.login(ADMIN)
    own = client.get(f"/users/{user_id(demo_app, ADMIN)}/reset-code?lang=en")
    assert own.status_code == 403 and "another cadre" in own.text
    assert client.get(f"/users/{user_id(demo_app, GUIDE)}/reset-code").status_code == 200


def test_a_vendor_cannot_issue_codes(demo_app, client, auth):
    auth.login(VENDOR)
    assert client.get(f"/users/{user_id(demo_app, '13800000004')}/reset-code").status_code == 403


def test_staff_find_the_action_on_the_vendor_page(demo_app, client, auth):
    with demo_app.app_context():
        vendor = db.session.scalar(
            select(Vendor).join(User, Vendor.user_id == User.id).where(User.phone == VENDOR)
        )
        ids = vendor.id, vendor.user_id
    auth.login(ADMIN)
    page = client.get(f"/vendors/{ids[0]}?lang=en")
    assert f"/users/{ids[1]}/reset-code" in page.text and "Reset code" in page.text


def test_an_expired_code_is_refused(demo_app, client, auth):
    clock = FixedClock(datetime.now(UTC))
    demo_app.config["CLOCK"] = clock
    auth.login(GUIDE)
    answer = issue(client, user_id(demo_app, VENDOR), VENDOR[-4:])
    code = CODE_RE.search(client.get(answer.headers["Location"]).text).group(1)
    clock.advance(hours=24, minutes=1)
    late = reset(demo_app.test_client(), VENDOR, code)
    assert late.status_code == 401 and "expired" in late.text


def test_reset_ends_the_users_other_sessions(demo_app, client, auth):
    vendor = demo_app.test_client()
    Auth(vendor).login(VENDOR)
    assert vendor.get("/vendors/home").status_code == 200
    auth.login(GUIDE)
    answer = issue(client, user_id(demo_app, VENDOR), VENDOR[-4:])
    code = CODE_RE.search(client.get(answer.headers["Location"]).text).group(1)
    assert reset(demo_app.test_client(), VENDOR, code).status_code == 303
    assert vendor.get("/vendors/home").status_code == 302


def test_mismatched_new_passwords_keep_the_code(demo_app, client, auth):
    auth.login(GUIDE)
    answer = issue(client, user_id(demo_app, VENDOR), VENDOR[-4:])
    code = CODE_RE.search(client.get(answer.headers["Location"]).text).group(1)
    vendor = demo_app.test_client()
    assert reset(vendor, VENDOR, code, confirm="not-the-same-1").status_code == 400
    assert reset(vendor, VENDOR, code).status_code == 303


def test_a_copied_cookie_stops_working_after_logout(demo_app, client, auth):
    auth.login(VENDOR)
    thief = demo_app.test_client()
    copy_cookie(client, thief)
    assert thief.get("/vendors/home").status_code == 200
    auth.logout()
    assert thief.get("/vendors/home").status_code == 302


def test_logging_out_one_browser_leaves_the_others(demo_app, client, auth):
    auth.login(VENDOR)
    other = demo_app.test_client()
    Auth(other).login(VENDOR)
    auth.logout()
    assert other.get("/vendors/home").status_code == 200


@pytest.mark.parametrize("how", ["everywhere", "password"])
def test_log_out_everywhere_and_password_change_end_other_browsers_and_tokens(
    demo_app, client, auth, how
):
    auth.login(VENDOR)
    other = demo_app.test_client()
    Auth(other).login(VENDOR)
    copy = demo_app.test_client()
    copy_cookie(other, copy)
    token = client.post("/api/v1/auth/token", json={"phone": VENDOR, "password": "demo1234"})
    bearer = {"Authorization": f"Bearer {token.json['access_token']}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    page = client.get("/password?lang=en")
    assert "Log out everywhere" in page.text
    if how == "everywhere":
        r = client.post("/logout/everywhere", data={"csrf_token": csrf_from(page.text)})
        assert r.status_code == 302
        assert client.get("/vendors/home").status_code == 302  # this browser too
    else:
        r = client.post(
            "/password",
            data={
                "current": "demo1234",
                "new": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
                "csrf_token": csrf_from(page.text),
            },
        )
        assert r.status_code == 302
        assert client.get("/vendors/home").status_code == 200  # this browser stays
    assert other.get("/vendors/home").status_code == 302
    assert copy.get("/vendors/home").status_code == 302
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_log_out_everywhere_needs_the_form_token(client, auth):
    auth.login(VENDOR)
    assert client.post("/logout/everywhere").status_code == 400
    assert client.get("/vendors/home").status_code == 200
