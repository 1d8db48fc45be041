"""Done means, in a browser: vendor 13800000003 scans A-01, sees ¥15, confirms, sees the receipt;
vendor 13800000004 (daily goods) scans A-01, is told it is taken and offered goods stalls with
their fee, picks one and confirms it there; the guide records cash and the receipt says so.
A vendor pays by collection code typed as "10元", reads "awaiting confirmation", the guide turns
it down with a reason, the vendor reads the reason and what to do."""

import pytest
from playwright.sync_api import expect

from bench.server import running_server
from tests.e2e.conftest import PHONE, docs_shot, sees, shot
from tests.e2e.test_foundation import assert_fits_phone, login
from tests.e2e.test_vendors import api, stall_url


@pytest.fixture(scope="module")
def evening():
    with running_server(
        workers=2, setup=[["market", "rush", "--stalls", "40", "--vendors", "2"]]
    ) as url:
        yield url


def test_three_taps_taken_stall_and_cash(browser, evening):
    server = evening
    a01 = stall_url(server, "A-01")
    first_ctx, second_ctx, guide_ctx = (browser.new_context(**PHONE) for _ in range(3))
    first, second, guide = first_ctx.new_page(), second_ctx.new_page(), guide_ctx.new_page()

    login(first, server, "13800000003")
    first.goto(a01)
    assert "¥15.00" in first.locator(".fee-amount").inner_text()
    shot(first, "checkin-confirm")
    docs_shot(first, "scan")
    assert_fits_phone(first)
    first.get_by_role("button", name="确认入场").click()
    first.wait_for_url(f"{server}/receipts/*")
    sees(first, "缴费凭证", "A-01")
    shot(first, "checkin-receipt")

    login(second, server, "13800000004")
    second.goto(a01)
    expect(second.get_by_text("A-01 已被占用")).to_be_visible()
    offers = second.locator(".alt-btn")
    # A goods vendor is offered goods stalls (zone C) at their fee, not the ¥15 food row.
    assert offers.count() and all(
        t.startswith("选 C-") and "¥10.00" in t for t in offers.all_inner_texts()
    )
    assert_fits_phone(second)
    shot(second, "checkin-taken")
    code = offers.first.inner_text().split()[1]
    offers.first.click()  # the same confirm step as scanning that stall
    assert second.locator("h1").inner_text() == code
    assert "¥10.00" in second.locator(".fee-amount").inner_text()
    second.get_by_role("button", name="确认入场").click()
    second.wait_for_url(f"{server}/receipts/*")
    receipt = second.url
    sees(second, code)

    login(guide, server, "13800000002")
    guide.goto(receipt)
    guide.get_by_label("金额（元）").fill("10")
    guide.get_by_role("button", name="登记现金").click()
    guide.get_by_text("已付清").first.wait_for()  # the redirect back to the same receipt
    sees(guide, "现金交给 李秀英", "已付清")
    shot(guide, "checkin-guide-cash")

    second.reload()
    sees(second, "现金交给 李秀英")
    for ctx in (first_ctx, second_ctx, guide_ctx):
        ctx.close()


def test_the_phone_position_reaches_the_check_in(browser, evening):
    """geo.js asks for the position on the tap: far from the market, the check-in is flagged."""
    server = evening
    ctx = browser.new_context(
        **PHONE, geolocation={"latitude": 27.2, "longitude": 102.3}, permissions=["geolocation"]
    )
    page = ctx.new_page()
    login(page, server, "13700000001")
    page.goto(stall_url(server, "A-09"))
    page.get_by_role("button", name="确认入场").click()
    page.wait_for_url(f"{server}/receipts/*")
    checkin_id = page.url.rsplit("/", 1)[1]
    token = api(
        server, "/api/v1/auth/token", payload={"phone": "13700000001", "password": "demo1234"}
    )
    body = api(server, f"/api/v1/checkins/{checkin_id}", token["access_token"])
    assert body["outside_geofence"] is True
    ctx.close()


def _stall_id(server, code):
    token = api(
        server, "/api/v1/auth/token", payload={"phone": "13800000001", "password": "demo1234"}
    )
    stalls = api(server, "/api/v1/markets/1/stalls?per_page=100", token["access_token"])
    return next(s["id"] for s in stalls["items"] if s["code"] == code)


def test_pay_by_code_wait_for_the_guide_and_read_why_it_was_turned_down(browser, evening):
    server = evening
    vendor_ctx, guide_ctx = browser.new_context(**PHONE), browser.new_context(**PHONE)
    vendor, guide = vendor_ctx.new_page(), guide_ctx.new_page()
    c05 = stall_url(server, "C-05")
    login(vendor, server, "13700000002")
    vendor.goto(c05)
    vendor.get_by_role("button", name="确认入场").click()
    vendor.wait_for_url(f"{server}/receipts/*")
    receipt = vendor.url
    amount = vendor.get_by_label("金额（元）")
    assert amount.input_value() == "10.00"  # prefilled with what is unpaid
    amount.fill("10元")
    vendor.get_by_role("button", name="我已付款").click()
    vendor.locator(".awaiting-line").wait_for()
    assert "¥10.00" in vendor.locator(".awaiting-line").inner_text()
    assert vendor.locator(".money tr.owing").count() == 0  # no red "unpaid" to pay twice
    shot(vendor, "paycode-receipt-pending")
    vendor.goto(c05)  # scanning the stall again tells the same
    assert "¥10.00" in vendor.locator(".awaiting-line").inner_text()
    assert_fits_phone(vendor)
    shot(vendor, "paycode-scan-pending")

    login(guide, server, "13800000002")
    guide.goto(f"{server}/guide/stalls/{_stall_id(server, 'C-05')}")
    guide.locator("details.spaced summary").first.click()
    guide.locator("input[name=reject-reason]").fill("商户账单里没有这笔")
    guide.locator("details.spaced form button[type=submit]").first.click()
    guide.wait_for_load_state("networkidle")

    vendor.goto(receipt)
    turned_down = vendor.locator(".rejected")
    turned_down.wait_for()
    assert "商户账单里没有这笔" in turned_down.inner_text() and "¥10.00" in turned_down.inner_text()
    assert "李秀英" in turned_down.inner_text()
    assert vendor.locator(".money tr.owing").count() == 1  # owed again
    assert vendor.get_by_label("金额（元）").input_value() == "10.00"
    assert "等待确认" not in vendor.content()
    shot(vendor, "paycode-receipt-rejected")
    vendor.goto(c05)
    assert "商户账单里没有这笔" in vendor.locator(".rejected").inner_text()
    assert_fits_phone(vendor)
    shot(vendor, "paycode-scan-rejected")
    for ctx in (vendor_ctx, guide_ctx):
        ctx.close()
