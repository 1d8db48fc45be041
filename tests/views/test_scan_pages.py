"""The vendor's scan page of a free stall is drawn once per what it shows (checkin.scan_pages):
each vendor still gets their own CSRF token and nonce, and anything shown that changes is
drawn again at once."""

import re

import pytest
from sqlalchemy import select, update

from bench.data import rush
from market.extensions import db
from market.models import Stall
from market.services.common.clock import FixedClock, now
from tests.conftest import Auth, csrf_from

NONCE = re.compile(r'name="nonce" type="hidden" value="([0-9a-f]{32})"')


@pytest.fixture
def evening(demo_app):
    demo_app.config["CLOCK"] = FixedClock(now())
    with demo_app.app_context():
        rush.prepare(stalls=40, vendors=0)
        db.session.commit()
        return dict(db.session.execute(select(Stall.code, Stall.qr_token)).all())


def _vendor(app, phone):
    client = app.test_client()
    Auth(client).login(phone)
    return client


def _pages(app):
    return app.extensions["scan_pages"]


def _fields(page: str) -> dict:
    return {"csrf_token": csrf_from(page), "nonce": NONCE.search(page).group(1)}


def test_a_drawn_page_serves_the_next_vendor_with_their_own_token_and_nonce(demo_app, evening):
    food, goods = _vendor(demo_app, "13800000003"), _vendor(demo_app, "13800000004")
    token = evening["C-01"]
    first = food.get(f"/s/{token}").text
    second = goods.get(f"/s/{token}").text
    assert len(_pages(demo_app)) == 1  # the second was not drawn again
    a, b = _fields(first), _fields(second)
    assert a["csrf_token"] != b["csrf_token"] and a["nonce"] != b["nonce"]
    # Apart from those two, the very same page.
    same = first.replace(a["csrf_token"], "T").replace(a["nonce"], "N")
    assert same == second.replace(b["csrf_token"], "T").replace(b["nonce"], "N")
    # Each token is its own browser's: the second vendor checks in with the page it got ...
    r = goods.post(f"/s/{token}/checkin", data=b)
    assert r.status_code == 303 and "/receipts/" in r.headers["Location"]
    # ... and the first is told the stall went, not that the form is broken.
    late = food.post(f"/s/{token}/checkin", data=a)
    assert late.status_code == 409 and "C-01 已被占用" in late.text
    # The same page again gets a fresh nonce, so a resent form never replays another's.
    assert _fields(goods.get(f"/s/{evening['C-02']}").text)["nonce"] != b["nonce"]


def test_what_the_page_shows_changing_draws_it_again(demo_app, evening):
    vendor = _vendor(demo_app, "13800000003")
    token = evening["C-03"]
    assert '<h1 class="stall-code">C-03</h1>' in vendor.get(f"/s/{token}").text
    with demo_app.app_context():
        db.session.execute(update(Stall).where(Stall.qr_token == token).values(code="C-33"))
        db.session.commit()
    assert '<h1 class="stall-code">C-33</h1>' in vendor.get(f"/s/{token}").text
    english = vendor.get(f"/s/{token}?lang=en").text
    assert "Confirm check-in" in english and "确认入场" not in english
    assert len(_pages(demo_app)) == 3


def test_pages_with_a_message_are_drawn_for_their_reader(demo_app, evening):
    """A flashed line is shown once, to its reader, and never kept in a drawn page."""
    vendor = _vendor(demo_app, "13800000003")
    token = evening["C-04"]
    vendor.get(f"/s/{token}")
    with vendor.session_transaction() as browser:
        browser["_flashes"] = [("success", "flash-for-this-reader")]
    assert "flash-for-this-reader" in vendor.get(f"/s/{token}").text
    assert "flash-for-this-reader" not in vendor.get(f"/s/{token}").text
    other = _vendor(demo_app, "13800000004").get(f"/s/{token}").text
    assert "flash-for-this-reader" not in other
