"""The guide's board through the pages: states, the poll that costs nothing, the stall panel."""

import re

import pytest
from sqlalchemy import func, select

from bench.data import rush
from market.extensions import db
from market.models import CheckIn, Incident, Payment, Stall
from market.services.common.clock import FixedClock, now
from tests.conftest import csrf_from
from tests.views.test_checkin import confirm

GUIDE = "13800000002"
CADRE = "13800000001"
EARLIER = "此摊位以前的事件"


@pytest.fixture
def evening(demo_app):
    demo_app.config["CLOCK"] = FixedClock(now())
    with demo_app.app_context():
        rush.prepare(stalls=40, vendors=0)
        db.session.commit()
        rows = db.session.execute(select(Stall.code, Stall.qr_token, Stall.id)).all()
    return {code: (token, sid) for code, token, sid in rows}


def _market_id(demo_app):
    with demo_app.app_context():
        return db.session.scalar(select(Stall.market_id).limit(1))


def _vendor_checks_in(client, auth, evening, code="A-01", phone="13800000003"):
    auth.login(phone)
    r, _, _ = confirm(client, evening[code][0])
    assert r.status_code == 303
    auth.logout()


def test_board_shows_the_states_and_counts(demo_app, client, auth, evening):
    _vendor_checks_in(client, auth, evening)
    auth.login(GUIDE)
    page = client.get(f"/guide/markets/{_market_id(demo_app)}/board")
    assert page.status_code == 200
    assert "st-unpaid" in page.text and "¥15.00" in page.text
    assert re.search(r"已占.*?1/\d+", page.text, re.S)
    listing = client.get(f"/guide/markets/{_market_id(demo_app)}/board?view=list&sort=zone")
    assert "未缴费" in listing.text or "已占用，未缴" in listing.text
    bad = client.get(f"/guide/markets/{_market_id(demo_app)}/board?view=<x>&sort=zzz")
    assert bad.status_code == 200


def test_a_fee_reported_by_collection_code_reads_to_confirm(demo_app, client, auth, evening):
    """Still unpaid (red) until a guide checks the statement, but the map tells the guide
    to confirm rather than to collect: ¥15.00 only while nothing was reported."""
    from market.services.checkin import payments

    _vendor_checks_in(client, auth, evening)
    auth.login(GUIDE)
    mid = _market_id(demo_app)
    before = client.get(f"/guide/markets/{mid}/board").text
    assert ">¥15.00</text>" in before and ">待确认</text>" not in before
    with demo_app.app_context():
        ci = db.session.scalar(select(CheckIn).where(CheckIn.stall_id == evening["A-01"][1]))
        payments.report_collection_code(ci.charge, 1500, "4200001234", ci.vendor.user)
        db.session.commit()
    after = client.get(f"/guide/markets/{mid}/board").text
    assert "st-unpaid" in after and ">待确认</text>" in after and ">¥15.00</text>" not in after
    listing = client.get(f"/guide/markets/{mid}/board?view=list").text
    assert "待确认 ¥15.00" in listing


def test_poll_is_204_when_unchanged_and_full_when_changed(demo_app, client, auth, evening):
    auth.login(GUIDE)
    mid = _market_id(demo_app)
    first = client.get(f"/guide/markets/{mid}/board/live", headers={"HX-Request": "true"})
    assert first.status_code == 200
    version = first.headers["ETag"].strip('"')
    same = client.get(f"/guide/markets/{mid}/board/live?v={version}")
    assert same.status_code == 204 and same.data == b""
    cached = client.get(
        f"/guide/markets/{mid}/board/live", headers={"If-None-Match": f'"{version}"'}
    )
    assert cached.status_code == 304
    auth.logout()
    _vendor_checks_in(client, auth, evening)
    auth.login(GUIDE)
    changed = client.get(f"/guide/markets/{mid}/board/live?v={version}")
    assert changed.status_code == 200 and "st-unpaid" in changed.text


def test_guide_records_cash_in_the_panel_once(demo_app, client, auth, evening):
    _vendor_checks_in(client, auth, evening)
    auth.login(GUIDE)
    sid = evening["A-01"][1]
    panel = client.get(f"/guide/stalls/{sid}")
    assert panel.status_code == 200 and "登记现金" in panel.text
    nonce = re.search(r'name="cash-nonce" type="hidden" value="([0-9a-f]{32})"', panel.text)[1]
    data = {"csrf_token": csrf_from(panel.text), "cash-nonce": nonce, "cash-amount": "15"}
    r = client.post(f"/guide/stalls/{sid}/cash", data=data)
    assert r.status_code == 303
    again = client.post(f"/guide/stalls/{sid}/cash", data=data, headers={"HX-Request": "true"})
    assert again.status_code == 200 and again.headers["HX-Trigger"] == "board-changed"
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    board = client.get(f"/guide/markets/{_market_id(demo_app)}/board")
    assert "st-paid" in board.text


def test_a_changed_resend_is_refused_in_the_panels_words_and_sent_again(
    demo_app, client, auth, evening
):
    """The back button to a sent cash form, another amount: refused as a form already sent
    (not the API's "Idempotency-Key"), with a fresh nonce, so sending it again records it."""
    _vendor_checks_in(client, auth, evening)
    auth.login(GUIDE)
    sid = evening["A-01"][1]
    panel = client.get(f"/guide/stalls/{sid}?lang=en")
    nonce = re.search(r'name="cash-nonce" type="hidden" value="([0-9a-f]{32})"', panel.text)[1]
    data = {"csrf_token": csrf_from(panel.text), "cash-nonce": nonce, "cash-amount": "10"}
    assert client.post(f"/guide/stalls/{sid}/cash", data=data).status_code == 303
    changed = client.post(f"/guide/stalls/{sid}/cash", data={**data, "cash-amount": "5"})
    assert changed.status_code == 422
    assert "This form was already sent once" in changed.text
    assert "Idempotency" not in changed.text
    fresh = re.search(r'name="cash-nonce" type="hidden" value="([0-9a-f]{32})"', changed.text)[1]
    assert fresh != nonce
    again = {**data, "cash-nonce": fresh, "cash-amount": "5"}
    assert client.post(f"/guide/stalls/{sid}/cash", data=again).status_code == 303
    with demo_app.app_context():
        paid = db.session.scalars(select(Payment.amount_fen).order_by(Payment.id)).all()
    assert paid == [1000, 500]


def test_bad_cash_amount_keeps_the_panel_with_a_message(demo_app, client, auth, evening):
    _vendor_checks_in(client, auth, evening)
    auth.login(GUIDE)
    sid = evening["A-01"][1]
    panel = client.get(f"/guide/stalls/{sid}")
    nonce = re.search(r'name="cash-nonce" type="hidden" value="([0-9a-f]{32})"', panel.text)[1]
    for amount in ("-3", "1.234", "99"):
        data = {"csrf_token": csrf_from(panel.text), "cash-nonce": nonce, "cash-amount": amount}
        r = client.post(f"/guide/stalls/{sid}/cash", data=data)
        assert r.status_code in (400, 422)
        assert 'class="error"' in r.text
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_incident_flags_the_stall_and_resolving_clears_it(demo_app, client, auth, evening):
    auth.login(GUIDE)
    sid = evening["A-03"][1]
    panel = client.get(f"/guide/stalls/{sid}")
    nonce = re.search(r'name="incident-nonce" type="hidden" value="([0-9a-f]{32})"', panel.text)[1]
    data = {
        "csrf_token": csrf_from(panel.text),
        "incident-nonce": nonce,
        "incident-kind": "smoke",
        "incident-note": "<script>alert(1)</script>",
    }
    assert client.post(f"/guide/stalls/{sid}/incidents", data=data).status_code == 303
    assert client.post(f"/guide/stalls/{sid}/incidents", data=data).status_code == 303
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 1
        incident_id = db.session.scalar(select(Incident.id))
    board = client.get(f"/guide/markets/{_market_id(demo_app)}/board")
    assert "st-flagged" in board.text
    panel = client.get(f"/guide/stalls/{sid}")
    assert "<script>alert(1)</script>" not in panel.text and "&lt;script&gt;" in panel.text
    assert EARLIER not in panel.text  # the open incident is listed once, as open
    r = client.post(
        f"/guide/incidents/{incident_id}/resolve",
        data={
            "csrf_token": csrf_from(panel.text),
            "resolve-nonce": "a" * 32,
            "resolve-resolution": "已劝导关小火",
        },
    )
    assert r.status_code == 303
    board = client.get(f"/guide/markets/{_market_id(demo_app)}/board")
    assert "st-flagged" not in board.text.split("state-legend")[0]
    earlier = client.get(f"/guide/stalls/{sid}").text
    assert EARLIER in earlier and "已劝导关小火" in earlier.split(EARLIER)[1]


def test_guide_checks_in_a_vendor_without_a_phone(demo_app, client, auth, evening):
    auth.login(GUIDE)
    sid = evening["B-01"][1]
    found = client.get(f"/guide/stalls/{sid}?q=0004")
    assert "在 B-01 入场" in found.text or "B-01" in found.text
    vendor_id = re.search(r'name="ci-vendor_id" value="(\d+)"', found.text)[1]
    data = {"csrf_token": csrf_from(found.text), "ci-nonce": "b" * 32, "ci-vendor_id": vendor_id}
    assert client.post(f"/guide/stalls/{sid}/checkin", data=data).status_code == 303
    assert client.post(f"/guide/stalls/{sid}/checkin", data=data).status_code == 303
    with demo_app.app_context():
        ci = db.session.scalars(select(CheckIn)).one()
        assert ci.stall_id == sid and ci.checked_in_by_id is not None


def test_vendor_pass_opens_identify_and_checks_in(demo_app, client, auth, evening):
    from market.models import User, Vendor
    from market.services.vendors import passes as vendor_pass

    with demo_app.app_context():
        vendor = db.session.scalar(
            select(Vendor).join(User, Vendor.user_id == User.id).where(User.phone == "13800000004")
        )
        token = vendor_pass.pass_token(vendor)
    auth.login(GUIDE)
    page = client.get(f"/guide/pass/{token}")
    assert page.status_code == 200 and "入场摊位" in page.text
    assert "138****0004" in page.text and "13800000004" not in page.text
    data = {
        "csrf_token": csrf_from(page.text),
        "ci-nonce": re.search(r'name="ci-nonce" value="([0-9a-f]{32})"', page.text)[1],
        "ci-vendor_id": re.search(r'name="ci-vendor_id" value="(\d+)"', page.text)[1],
        "stall": str(evening["C-02"][1]),
    }
    r = client.post("/guide/pass/checkin", data=data)
    assert r.status_code == 303 and r.headers["Location"].endswith(
        f"/guide/stalls/{evening['C-02'][1]}"
    )
    assert "st-unpaid" in client.get(f"/guide/markets/{_market_id(demo_app)}/board").text
    assert client.get("/guide/pass/not-a-pass").status_code == 404
    bad = dict(data, stall="999999", **{"ci-nonce": "c" * 32})
    assert client.post("/guide/pass/checkin", data=bad).status_code == 404
