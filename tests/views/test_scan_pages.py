"""The vendor's scan page of a free stall is drawn once per what it shows (checkin.scan_pages),
shared by the stalls of a zone: each vendor still gets their own stall, CSRF token and nonce,
and anything shown that changes is drawn again at once."""

import re

from sqlalchemy import update

from market.extensions import db
from market.models import Stall
from tests.conftest import Auth, csrf_from

NONCE = re.compile(r'name="nonce" type="hidden" value="([0-9a-f]{32})"')


def _vendor(app, phone):
    client = app.test_client()
    Auth(client).login(phone)
    return client


def _pages(app):
    return app.extensions["scan_pages"]


def _fields(page: str) -> dict:
    return {"csrf_token": csrf_from(page), "nonce": NONCE.search(page).group(1)}


def test_a_drawn_page_serves_the_next_vendor_with_their_own_stall_token_and_nonce(
    demo_app, evening
):
    food, goods = _vendor(demo_app, "13800000003"), _vendor(demo_app, "13800000004")
    first = food.get(f"/s/{evening['C-01']}").text
    second = goods.get(f"/s/{evening['C-02']}").text
    assert len(_pages(demo_app)) == 1  # the second was not drawn again
    assert '<h1 class="stall-code">C-02</h1>' in second and "C-01" not in second
    assert f'action="/s/{evening["C-02"]}/checkin"' in second
    a, b = _fields(first), _fields(second)
    assert a["csrf_token"] != b["csrf_token"] and a["nonce"] != b["nonce"]

    def plain(page, fields, code):
        page = page.replace(fields["csrf_token"], "T").replace(fields["nonce"], "N")
        return page.replace(evening[code], "S").replace(code, "C")

    assert plain(first, a, "C-01") == plain(second, b, "C-02")  # else the very same page
    # Each token is its own browser's: both check in with the page they got.
    for client, code, fields in ((food, "C-01", a), (goods, "C-02", b)):
        r = client.post(f"/s/{evening[code]}/checkin", data=fields)
        assert r.status_code == 303 and "/receipts/" in r.headers["Location"]
        assert code in client.get(r.headers["Location"]).text


def test_what_the_page_shows_changing_draws_it_again(demo_app, evening):
    vendor = _vendor(demo_app, "13800000003")
    token = evening["C-03"]
    assert '<h1 class="stall-code">C-03</h1>' in vendor.get(f"/s/{token}").text
    with demo_app.app_context():
        db.session.execute(update(Stall).where(Stall.qr_token == token).values(code="C<3>"))
        db.session.commit()
    renamed = vendor.get(f"/s/{token}").text
    assert '<h1 class="stall-code">C&lt;3&gt;</h1>' in renamed and "C<3>" not in renamed
    assert len(_pages(demo_app)) == 1  # the code is filled in, not drawn
    english = vendor.get(f"/s/{token}?lang=en").text
    assert "Confirm check-in" in english and "确认入场" not in english
    outlet = vendor.get(f"/s/{evening['A-03']}").text  # another zone and fee, an outlet
    assert "¥15.00" in outlet and "+¥3.00" in outlet
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
