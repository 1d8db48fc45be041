"""Done means, in a browser: vendor 13800000003 scans A-01, sees ¥15, confirms, sees the receipt;
vendor 13800000004 scans A-01, is told it is taken, takes A-02 in one tap; the guide records
cash for A-02 and the receipt says so."""

import pytest

from bench.server import running_server
from tests.e2e.conftest import PHONE, shot
from tests.e2e.test_foundation import assert_fits_phone, login
from tests.e2e.test_vendors import api, stall_url


@pytest.fixture(scope="module")
def evening():
    with running_server(
        workers=2, setup=[["market", "rush", "--stalls", "40", "--vendors", "1"]]
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
    assert_fits_phone(first)
    first.get_by_role("button", name="确认入场").click()
    first.wait_for_url(f"{server}/receipts/*")
    assert "缴费凭证" in first.content() and "A-01" in first.content()
    shot(first, "checkin-receipt")

    login(second, server, "13800000004")
    second.goto(a01)
    assert second.get_by_text("A-01 已被占用").is_visible()
    shot(second, "checkin-taken")
    second.get_by_role("button", name="选 A-02").click()
    second.wait_for_url(f"{server}/receipts/*")
    receipt = second.url
    assert "A-02" in second.content()

    login(guide, server, "13800000002")
    guide.goto(receipt)
    guide.get_by_label("金额（元）").fill("15")
    guide.get_by_role("button", name="登记现金").click()
    guide.get_by_text("已付清").first.wait_for()  # the redirect back to the same receipt
    assert "现金交给 李秀英" in guide.content() and "已付清" in guide.content()
    shot(guide, "checkin-guide-cash")

    second.reload()
    assert "现金交给 李秀英" in second.content()
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
