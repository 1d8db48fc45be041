"""The guide's shift page and the cadre's count, through the pages."""

import re

from sqlalchemy import select

from market.extensions import db
from market.models import CashHandover
from tests.conftest import csrf_from
from tests.guide.test_board_views import GUIDE, _vendor_checks_in, evening  # noqa: F401


def _nonce(html, prefix):
    return re.search(rf'name="{prefix}-nonce" type="hidden" value="([0-9a-f]{{32}})"', html)[1]


def test_shift_hand_over_and_count(demo_app, client, auth, evening):  # noqa: F811
    _vendor_checks_in(client, auth, evening)
    auth.login(GUIDE)
    sid = evening["A-01"][1]
    panel = client.get(f"/guide/stalls/{sid}")
    client.post(
        f"/guide/stalls/{sid}/cash",
        data={
            "csrf_token": csrf_from(panel.text),
            "cash-nonce": _nonce(panel.text, "cash"),
            "cash-amount": "15",
        },
    )
    shift = client.get("/guide/shift")
    assert "A-01" in shift.text and "¥15.00" in shift.text
    data = {
        "csrf_token": csrf_from(shift.text),
        "handover-nonce": _nonce(shift.text, "handover"),
        "handover-amount": "15",
        "handover-note": "<b>一张</b>",
    }
    market_id = re.search(r'action="/guide/markets/(\d+)/handover"', shift.text)[1]
    assert client.post(f"/guide/markets/{market_id}/handover", data=data).status_code == 303
    assert client.post(f"/guide/markets/{market_id}/handover", data=data).status_code == 303
    with demo_app.app_context():
        assert len(db.session.scalars(select(CashHandover)).all()) == 1
    assert "等待干部清点" in client.get("/guide/shift").text
    auth.logout()

    auth.login("13800000001")
    dash = client.get("/admin/")
    assert "等待清点的交接：1" in dash.text or "交接" in dash.text
    page = client.get("/guide/handovers")
    assert "&lt;b&gt;一张&lt;/b&gt;" in page.text
    hid = re.search(r'action="/guide/handovers/(\d+)/confirm"', page.text)[1]
    bad = client.post(
        f"/guide/handovers/{hid}/confirm",
        data={
            "csrf_token": csrf_from(page.text),
            "count-nonce": _nonce(page.text, "count"),
            "count-amount": "abc",
        },
    )
    assert bad.status_code == 422 and 'class="error"' in bad.text
    ok = client.post(
        f"/guide/handovers/{hid}/confirm",
        data={
            "csrf_token": csrf_from(page.text),
            "count-nonce": _nonce(page.text, "count"),
            "count-amount": "14.5",
        },
    )
    assert ok.status_code == 303
    counted = client.get("/guide/handovers").text
    assert "-¥0.50" in counted and "¥14.50" in counted
