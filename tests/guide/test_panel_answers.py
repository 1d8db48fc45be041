"""The stall panel tells the guide why an action was refused and what to do instead: a vendor
already at another stall, a search for "%", a collection-code report to confirm or reject,
and what is still owed at check-out."""

import re

from sqlalchemy import select

from market.extensions import db
from market.models import CheckIn, Payment, Vendor
from market.services.checkin import payments
from market.services.vendors import registry as vendors
from tests.conftest import csrf_from
from tests.guide.test_board_views import GUIDE, _market_id, _vendor_checks_in, evening  # noqa: F401

HX = {"HX-Request": "true"}


def _checkin_at(demo_app, stall_id):
    with demo_app.app_context():
        return db.session.scalar(select(CheckIn).where(CheckIn.stall_id == stall_id))


def test_checking_in_a_vendor_who_holds_another_stall_says_where_and_offers_the_move(
    demo_app,
    client,
    auth,
    evening,  # noqa: F811
):
    _vendor_checks_in(client, auth, evening, "A-01", "13800000003")  # 王德华 at A-01
    auth.login(GUIDE)
    here = evening["A-05"][1]
    found = client.get(f"/guide/stalls/{here}?q=王德华", headers=HX)
    assert "在 A-05 入场" in found.text
    action = re.search(r'action="(/guide/stalls/\d+/checkin[^"]*)"', found.text)[1]
    data = {
        "csrf_token": csrf_from(found.text),
        "ci-nonce": "d" * 32,
        "ci-vendor_id": re.search(r'name="ci-vendor_id" value="(\d+)"', found.text)[1],
    }
    refused = client.post(action.replace("&amp;", "&"), data=data, headers=HX)
    assert refused.status_code == 409
    assert "王德华 本场已在 A-01 入场" in refused.text  # the guide's wording, not the vendor's
    assert "在 A-05 入场" in refused.text  # the search stays: the panel does not reset
    assert "换到这里" in refused.text
    move = re.search(r'action="(/guide/stalls/\d+/move-here[^"]*)"', refused.text)[1]
    moved = client.post(
        move.replace("&amp;", "&"),
        data={
            "csrf_token": csrf_from(refused.text),
            "mh-nonce": re.search(r'name="mh-nonce" value="([0-9a-f]{32})"', refused.text)[1],
            "mh-vendor_id": data["ci-vendor_id"],
        },
        headers=HX,
    )
    assert moved.status_code == 200 and "A-01" in moved.text and "A-05" in moved.text
    assert _checkin_at(demo_app, here) is not None
    assert _checkin_at(demo_app, evening["A-01"][1]) is None


def test_a_huge_vendor_id_is_a_400_not_a_500(demo_app, client, auth, evening):  # noqa: F811
    auth.login(GUIDE)
    sid = evening["B-01"][1]
    page = client.get(f"/guide/stalls/{sid}")
    data = {"csrf_token": csrf_from(page.text), "ci-nonce": "e" * 32, "ci-vendor_id": "9" * 20}
    assert client.post(f"/guide/stalls/{sid}/checkin", data=data).status_code == 400


def test_like_wildcards_are_searched_as_characters(demo_app, client, auth, evening):  # noqa: F811
    with demo_app.app_context():
        org_ids = [db.session.scalar(select(Vendor.organization_id).limit(1))]
        assert vendors.search(org_ids, q="王")[1] >= 1
        for q in ("%", "_", "%%", "王%", "1380000000_"):
            assert vendors.search(org_ids, q=q) == ([], 0), q
    auth.login(GUIDE)
    panel = client.get(f"/guide/stalls/{evening['B-01'][1]}?q=%25")
    assert "没有找到摊主" in panel.text and 'name="ci-vendor_id"' not in panel.text


def _report_code_payment(demo_app, stall_id, fen=1500):
    with demo_app.app_context():
        ci = db.session.scalar(select(CheckIn).where(CheckIn.stall_id == stall_id))
        payment = payments.report_collection_code(ci.charge, fen, "4200001234", ci.vendor.user)
        db.session.commit()
        return payment.id


def test_panel_reads_to_confirm_as_the_map_and_can_reject_the_report(
    demo_app,
    client,
    auth,
    evening,  # noqa: F811
):
    _vendor_checks_in(client, auth, evening)
    sid = evening["A-01"][1]
    payment_id = _report_code_payment(demo_app, sid)
    auth.login(GUIDE)
    panel = client.get(f"/guide/stalls/{sid}")
    badge = re.search(r'<span class="badge st-unpaid">([^<]*)</span>', panel.text)[1]
    assert badge == "待确认"  # as the map says, not 已占，未缴费
    listing = client.get(f"/guide/markets/{_market_id(demo_app)}/board?view=list").text
    assert '<span class="badge st-unpaid">待确认</span>' in listing
    assert "登记现金" not in panel.text and "驳回这笔上报" in panel.text
    reject = f"/guide/stalls/{sid}/payments/{payment_id}/reject"
    data = {"csrf_token": csrf_from(panel.text), "reject-nonce": "f" * 32, "reject-reason": ""}
    empty = client.post(reject, data=data, headers=HX)
    assert empty.status_code == 400 and "请说明作废原因" in empty.text
    data["reject-reason"] = "流水里没有这笔"
    rejected = client.post(reject, data=data, headers=HX)
    assert rejected.status_code == 200 and "A-01" in rejected.text
    assert "登记现金" in rejected.text and "驳回这笔上报" not in rejected.text
    assert re.search(r'<span class="badge st-unpaid">已占，未缴费</span>', rejected.text)
    with demo_app.app_context():
        reversal = db.session.scalar(select(Payment).where(Payment.reverses_id == payment_id))
        assert reversal is not None and reversal.note == "流水里没有这笔"
    again = client.post(reject, data=dict(data, **{"reject-nonce": "a" * 32}), headers=HX)
    assert again.status_code == 409


def test_checkout_question_says_what_is_still_owed(demo_app, client, auth, evening):  # noqa: F811
    _vendor_checks_in(client, auth, evening)
    auth.login(GUIDE)
    sid = evening["A-01"][1]
    owed = client.get(f"/guide/stalls/{sid}").text
    assert 'data-hx-confirm="现在为 A-01 办理离场？还欠 ¥15.00。"' in owed
    _report_code_payment(demo_app, sid, 1000)
    partly = client.get(f"/guide/stalls/{sid}").text
    assert "还欠 ¥15.00（其中 ¥10.00 已报收款码付款，待确认）" in partly


def test_free_text_on_guide_pages_wraps_anywhere():
    """A complaint pasted as one long word made /guide/stalls/<id> 5,000px wide on a phone
    (measured in Chromium at 390px: 4486 before, 390 after)."""
    from pathlib import Path

    css = (Path(__file__).parents[2] / "static/css/app.css").read_text(encoding="utf-8")
    rules = dict(re.findall(r"^([^{}\n]+?)\s*\{([^}]*)\}", css, re.M))
    for selector in (".note", ".panel", ".facts dd"):
        assert "overflow-wrap: anywhere" in rules.get(selector, ""), selector
    assert "min-width: 0" in rules[".facts dd"]  # a grid column shrinks below its longest word


def test_a_rejected_report_cannot_be_confirmed_from_a_stale_panel(
    demo_app,
    client,
    auth,
    evening,  # noqa: F811
):
    _vendor_checks_in(client, auth, evening)
    sid = evening["A-01"][1]
    payment_id = _report_code_payment(demo_app, sid)
    auth.login(GUIDE)
    stale = client.get(f"/guide/stalls/{sid}").text
    token = csrf_from(stale)
    reject = {"csrf_token": token, "reject-nonce": "b" * 32, "reject-reason": "没到账"}
    client.post(f"/guide/stalls/{sid}/payments/{payment_id}/reject", data=reject, headers=HX)
    confirm = {"csrf_token": token, "act-nonce": "c" * 32}
    r = client.post(f"/guide/stalls/{sid}/payments/{payment_id}/confirm", data=confirm)
    assert r.status_code == 409 and "这笔付款已经作废" in r.text
    with demo_app.app_context():
        assert db.session.get(Payment, payment_id).status == "pending"
