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
    hid = re.search(r'action="/guide/handovers/(\d+)/confirm"', page.text)[1]
    prefix = f"count{hid}"
    # A blind count: the field is empty and no amount of the hand-over is on the page yet.
    assert re.search(rf'<input[^>]*name="{prefix}-amount"[^>]*value=""', page.text)
    assert "¥15.00" not in page.text and "一张" not in page.text

    def post(**fields):
        form = {"csrf_token": csrf_from(page.text), f"{prefix}-nonce": _nonce(page.text, prefix)}
        form.update({f"{prefix}-{k}": v for k, v in fields.items()})
        return client.post(f"/guide/handovers/{hid}/confirm?lang=en", data=form)

    def state():
        with demo_app.app_context():
            return db.session.get(CashHandover, int(hid)).state

    empty = post(amount="")
    assert empty.status_code == 400 and 'class="error"' in empty.text and state() == "pending"
    bad = post(amount="abc")
    assert bad.status_code == 422 and 'class="error"' in bad.text
    # The count alone answers with the comparison: records, the guide's figure, the difference.
    compare = post(amount="14.5")
    assert compare.status_code == 200 and state() == "pending"
    assert "¥15.00" in compare.text and "¥14.50" in compare.text and "-¥0.50" in compare.text
    assert "¥0.50 short" in compare.text
    assert "&lt;b&gt;一张&lt;/b&gt;" in compare.text  # the guide's note, escaped
    assert f'name="{prefix}-compared" type="hidden" value="1"' in compare.text
    # Confirming a short count without saying why is refused; the comparison stays.
    unexplained = post(amount="14.5", compared="1")
    assert unexplained.status_code == 422 and state() == "pending"
    assert "¥0.50 short of the records" in unexplained.text and "¥15.00" in unexplained.text
    ok = post(amount="14.5", compared="1", note="少五毛硬币")
    assert ok.status_code == 303 and state() == "confirmed"
    counted = client.get("/guide/handovers").text
    assert "-¥0.50" in counted and "¥14.50" in counted and "少五毛硬币" in counted
    auth.logout()
    auth.login(GUIDE)
    assert "少五毛硬币" in client.get("/guide/shift").text  # on the guide's own list too
