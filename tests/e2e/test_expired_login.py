"""An expired login never loses work, in a browser on a phone: the vendor's check-in comes
back to its confirm step after logging in, and the guide's board says the login expired in
one line while the incident note stays typed in its form."""

import re

import pytest
from playwright.sync_api import expect

from bench.server import running_server
from tests.e2e.conftest import ARTIFACTS, PHONE, sees, shot
from tests.e2e.test_foundation import assert_fits_phone, login
from tests.e2e.test_vendors import stall_url

# The new line is English until its translation is merged; either reads right.
EXPIRED = re.compile("登录已过期，请重新登录|Your login has expired, please log in again.")
NOTE = "A-04 门口地面有积水，已提醒摊主"


@pytest.fixture(scope="module")
def evening():
    with running_server(
        workers=2, setup=[["market", "rush", "--stalls", "40", "--vendors", "1"]]
    ) as url:
        yield url


def test_expired_login_at_the_stall_comes_back_to_the_confirm_step(browser, evening):
    server = evening
    context = browser.new_context(**PHONE)
    page = context.new_page()
    stall = stall_url(server, "A-07")
    login(page, server, "13800000003")
    page.goto(stall)
    confirm = page.get_by_role("button", name="确认入场")
    confirm.wait_for()

    context.clear_cookies()  # the login expired while the page stayed open
    confirm.click()
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    expect(page.get_by_text(EXPIRED)).to_be_visible()  # the flash, not "400 请求有误"
    assert "请求有误" not in page.content()
    shot(page, "expired-checkin-login")
    assert_fits_phone(page)

    page.get_by_label("手机号").fill("13800000003")
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(stall)
    assert "¥15.00" in page.locator(".fee-amount").inner_text()  # the confirm step again
    shot(page, "expired-checkin-back")
    page.get_by_role("button", name="确认入场").click()
    page.wait_for_url(f"{server}/receipts/*")
    sees(page, "缴费凭证", "A-07")
    context.close()


def test_expired_login_on_the_board_keeps_the_incident_note(browser, evening):
    server = evening
    context = browser.new_context(**PHONE)
    guide = context.new_page()
    login(guide, server, "13800000002")
    guide.goto(f"{server}/guide/")
    guide.get_by_role("link", name="金汇潮汐市场").click()
    guide.wait_for_url(f"{server}/guide/markets/*/board")
    board_url = guide.url
    guide.locator("#board-live svg a").filter(has_text="A-04").click()
    panel = guide.locator("#panel")
    panel.get_by_text("记录事件").click()  # open the <details>
    panel.get_by_label("卫生").check()
    panel.get_by_label("备注").fill(NOTE)

    context.clear_cookies()
    panel.get_by_role("button", name="记录", exact=True).click()
    line = guide.locator("#hx-status")
    line.get_by_text(EXPIRED).wait_for()
    assert guide.url == board_url
    assert panel.get_by_label("备注").input_value() == NOTE  # what was typed is still there
    assert panel.get_by_label("卫生").is_checked()
    expect(guide.locator("#board-live")).to_be_visible()  # the board, not a page pasted in
    assert guide.locator("main").count() == 1 and guide.locator("#panel h1").count() == 0
    link = line.get_by_role("link")
    assert "/login?next=/guide/markets/" in link.get_attribute("href")
    line.scroll_into_view_if_needed()
    shot(guide, "expired-board-line")
    guide.screenshot(path=str(ARTIFACTS / "expired-board-screen.png"))  # what the phone shows
    assert_fits_phone(guide)

    # Log in from the line, back on the board; the note comes back when the stall opens.
    link.click()
    guide.get_by_label("手机号").fill("13800000002")
    guide.get_by_label("密码").fill("demo1234")
    guide.get_by_role("button", name="登录").click()
    guide.wait_for_url(board_url)
    guide.locator("#board-live svg a").filter(has_text="A-04").click()
    panel.get_by_label("备注").wait_for()
    assert panel.get_by_label("备注").input_value() == NOTE
    panel.get_by_role("button", name="记录", exact=True).click()
    panel.locator(".flash-success").wait_for()
    assert guide.locator("#hx-status").inner_text() == ""
    shot(guide, "expired-board-logged")
    context.close()
