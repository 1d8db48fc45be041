"""The vendor's evening in three taps, through the pages: scan, confirm, receipt, pay."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from market.extensions import db
from market.models import Charge, CheckIn, Market
from market.services.common.clock import FixedClock, now
from tests.conftest import csrf_from


def confirm(client, token, **extra):
    page = client.get(f"/s/{token}")
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]{32})"', page.text).group(1)
    data = {"csrf_token": csrf_from(page.text), "nonce": nonce, **extra}
    return client.post(f"/s/{token}/checkin", data=data), nonce, data


def test_scan_confirm_receipt(demo_app, client, auth, evening):
    auth.login("13800000003")
    page = client.get(f"/s/{evening['A-01']}")
    assert "本场摊位费" in page.text and "¥15.00" in page.text and "确认入场" in page.text
    assert "本场用电" in page.text  # A-01 has an outlet: electricity is an option
    r, nonce, data = confirm(client, evening["A-01"])
    assert r.status_code == 303
    receipt = client.get(r.headers["Location"])
    assert "缴费凭证" in receipt.text and "A-01" in receipt.text and "¥15.00" in receipt.text
    # A double tap (the same form sent again) lands on the same receipt, one charge.
    again = client.post(f"/s/{evening['A-01']}/checkin", data=data)
    assert again.headers["Location"] == r.headers["Location"]
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Charge)) == 1
    assert "您已在这个摊位入场" in client.get(f"/s/{evening['A-01']}").text
    # Back to the sent form, electricity ticked, sent: the page's words, not the API's.
    changed = client.post(f"/s/{evening['A-01']}/checkin", data={**data, "uses_power": "y"})
    assert changed.status_code == 422
    assert "这份表单已经提交过一次" in changed.text and "Idempotency" not in changed.text


def test_taken_stall_offers_stalls_for_what_the_vendor_sells_with_their_fee(
    demo_app, client, auth, evening
):
    """A goods vendor at a taken cooked-food stall is offered goods stalls (zone C, ¥10), each
    with its fee, and a tap opens that stall's own confirm step: no check-in in one tap."""
    auth.login("13800000003")
    confirm(client, evening["A-01"])
    auth.logout()
    auth.login("13800000004")  # sells daily goods
    page = client.get(f"/s/{evening['A-01']}").text
    assert "A-01 已被占用" in page and "附近的空摊位" in page
    offered = re.findall(
        r'<a class="btn btn-block alt-btn" href="/s/([^"]+)">\s*'
        r'<span class="alt-line"><span>选 ([A-Z]-\d+)</span>\s*<strong class="alt-fee">([^<]+)<',
        page,
    )
    assert offered and all(code.startswith("C-") for _, code, _ in offered)
    assert all(fee == "¥10.00" for _, _, fee in offered)  # the goods fee, not the ¥15 food fee
    assert not re.search(r"action=\"[^\"]*/checkin\"", page)  # nothing here checks in
    token, code, _ = offered[0]
    there = client.get(f"/s/{token}").text
    assert "确认入场" in there and '<p class="fee-amount">¥10.00</p>' in there
    r, _, _ = confirm(client, token)
    assert r.status_code == 303
    receipt = client.get(r.headers["Location"]).text
    assert code in receipt and "¥10.00" in receipt and "¥15.00" not in receipt


def test_electricity_extra(demo_app, client, auth, evening):
    auth.login("13800000003")
    page = client.get(f"/s/{evening['A-03']}").text
    assert "+¥3.00" in page and "含用电共 ¥18.00" in page  # priced before it is ticked
    r, _, _ = confirm(client, evening["A-03"], uses_power="y")
    assert "¥18.00" in client.get(r.headers["Location"]).text


def test_checking_out_asks_once_more_and_coming_back_costs_nothing_new(
    demo_app, client, auth, evening
):
    auth.login("13800000004")
    r, _, _ = confirm(client, evening["A-02"])
    receipt = client.get(r.headers["Location"]).text
    leave = receipt[receipt.index('<details class="confirm-step">') :]
    assert "<summary" in leave and "确定离场" in leave and "还需缴纳 ¥15.00" in leave
    action = re.search(r'action="([^"]+/checkout)"', leave).group(1)
    assert client.post(action, data={"csrf_token": csrf_from(receipt)}).status_code == 303
    page = client.get(f"/s/{evening['A-02']}").text
    assert "欢迎回来" in page and "不再收费" in page and "¥15.00" in page
    r2, _, _ = confirm(client, evening["A-02"])
    assert r2.headers["Location"] == r.headers["Location"]  # the same receipt
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Charge)) == 1
        assert db.session.scalar(select(CheckIn.state)) == "active"


def test_states_pending_vendor_and_closed_market(demo_app, client, auth, evening):
    auth.login("13800000005")  # pending approval
    page = client.get(f"/s/{evening['B-01']}")
    assert "还没有通过审核" in page.text and "确认入场" not in page.text
    r, _, _ = confirm(client, evening["B-01"]) if "nonce" in page.text else (None, None, None)
    assert r is None
    auth.logout()
    demo_app.config["CLOCK"] = FixedClock(now() + timedelta(days=3, hours=7))
    with demo_app.app_context():
        db.session.execute(CheckIn.__table__.delete())
        db.session.commit()
    auth.login("13800000004")
    page = client.get(f"/s/{evening['B-01']}?lang=en")
    assert "Check-in opens when the market opens." in page.text


def test_guide_records_cash_and_the_receipt_says_so(demo_app, client, auth, evening):
    auth.login("13800000004")
    r, _, _ = confirm(client, evening["C-02"])
    receipt_url = r.headers["Location"]
    auth.logout()
    auth.login("13800000002")  # the guide
    page = client.get(receipt_url)
    assert "登记现金" in page.text
    bad = client.post(
        receipt_url + "/cash", data={"csrf_token": csrf_from(page.text), "cash-amount": "10.005"}
    )
    assert bad.status_code == 422 and "两位小数" in bad.text
    over = client.post(
        receipt_url + "/cash", data={"csrf_token": csrf_from(page.text), "cash-amount": "99"}
    )
    assert over.status_code == 422 and "超过了应付金额" in over.text
    ok = client.post(
        receipt_url + "/cash", data={"csrf_token": csrf_from(page.text), "cash-amount": "10"}
    )
    assert ok.status_code == 303
    text = client.get(receipt_url).text
    assert "现金交给 李秀英" in text and "已付清" in text


def test_vendor_reports_collection_code_and_cannot_confirm_it(demo_app, client, auth, evening):
    auth.login("13800000004")
    r, _, _ = confirm(client, evening["C-03"])
    receipt_url = r.headers["Location"]
    page = client.get(receipt_url)
    ok = client.post(
        receipt_url + "/pay",
        data={"csrf_token": csrf_from(page.text), "pay-amount": "10", "pay-reference": "8812"},
    )
    assert ok.status_code == 303
    with demo_app.app_context():
        payment_id = db.session.scalar(
            select(db.func.max(db.text("id"))).select_from(db.text("payments"))
        )
    page = client.get(receipt_url)
    assert "等待确认" in page.text
    assert client.post(
        f"/payments/{payment_id}/confirm", data={"csrf_token": csrf_from(page.text)}
    ).status_code in (403, 404)
    auth.logout()
    auth.login("13800000002")
    page = client.get(receipt_url)
    assert (
        client.post(
            f"/payments/{payment_id}/confirm", data={"csrf_token": csrf_from(page.text)}
        ).status_code
        == 303
    )
    assert "由 李秀英 确认" in client.get(receipt_url).text


def test_other_peoples_receipts_are_not_found(demo_app, client, auth, evening):
    auth.login("13800000004")
    r, _, _ = confirm(client, evening["C-04"])
    receipt_url = r.headers["Location"]
    auth.logout()
    auth.login("13800000003")
    assert client.get(receipt_url).status_code == 404
    with demo_app.app_context():
        other = Market(organization_id=1, name="别处", slug="elsewhere-x")
        db.session.add(other)
        db.session.commit()
    assert client.get("/receipts/99999999").status_code == 404


def test_unknown_and_malformed_tokens(client):
    for token in ("short", "x" * 22, "ÿ" * 22):
        assert client.get(f"/s/{token}").status_code == 404
    assert client.post("/s/nope/checkin").status_code in (400, 302, 303, 404)


def test_position_from_the_page_flags_a_far_check_in(demo_app, client, auth, evening):
    auth.login("13800000003")
    page = client.get(f"/s/{evening['A-06']}")
    assert "js/geo." in page.text and "data-geo" in page.text  # the demo market has a geofence
    r, _, _ = confirm(client, evening["A-06"], latitude="26.9", longitude="101.9")
    assert r.status_code == 303
    with demo_app.app_context():
        ci = db.session.scalar(select(CheckIn).order_by(CheckIn.id.desc()))
        assert ci.outside_geofence is True
    auth.logout()
    auth.login("13800000004")
    r, _, _ = confirm(client, evening["A-07"], latitude="26.5824", longitude="101.7187")
    with demo_app.app_context():
        ci = db.session.scalar(select(CheckIn).order_by(CheckIn.id.desc()))
        assert ci.outside_geofence is False
    r, _, _ = confirm(client, evening["A-08"], latitude="north", longitude="east")
    assert r.status_code == 400  # not numbers: refused, nothing written


def test_the_vendor_home_lists_receipts_with_tonights_first(demo_app, client, auth, evening):
    auth.login("13800000004")
    assert "我的缴费凭证" not in client.get("/vendors/home").text  # nothing yet: no empty list
    r, _, _ = confirm(client, evening["A-05"])
    home = client.get("/vendors/home").text
    assert "本场 A-05 摊位：查看凭证" in home
    assert f'href="{r.headers["Location"].removeprefix("http://localhost")}"' in home
    assert "未付 ¥15.00" in home
