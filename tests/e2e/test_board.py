"""Done means for the guide's board, in a browser: the guide watches the board on a phone, a
vendor checks in from a second phone, and within one poll the stall shows occupied and unpaid;
the guide records cash from the stall's panel and the stall turns paid on both screens."""

import pytest
from playwright.sync_api import expect

from bench.server import running_server
from tests.e2e.conftest import PHONE, docs_shot, sees, shot
from tests.e2e.test_foundation import assert_fits_phone, login
from tests.e2e.test_vendors import stall_url

POLL_MS = 5000


@pytest.fixture(scope="module")
def evening():
    with running_server(
        workers=2, setup=[["market", "rush", "--stalls", "40", "--vendors", "1"]]
    ) as url:
        yield url


def stall_on_map(page, code):
    return page.locator("#board-live svg a").filter(has_text=code).locator("g")


def test_board_updates_without_reload_and_cash_turns_it_paid(browser, evening):
    server = evening
    guide_ctx, vendor_ctx = browser.new_context(**PHONE), browser.new_context(**PHONE)
    guide, vendor = guide_ctx.new_page(), vendor_ctx.new_page()

    login(guide, server, "13800000002")
    guide.goto(f"{server}/guide/")
    guide.get_by_role("link", name="金汇潮汐市场").click()
    guide.wait_for_url(f"{server}/guide/markets/*/board")
    assert "st-free" in stall_on_map(guide, "B-05").get_attribute("class")
    board_url = guide.url
    shot(guide, "board-empty")
    assert_fits_phone(guide)

    login(vendor, server, "13800000004")
    vendor.goto(stall_url(server, "B-05"))
    vendor.get_by_role("button", name="确认入场").click()
    vendor.wait_for_url(f"{server}/receipts/*")

    # No reload: the poll brings the change (one interval plus a margin).
    guide.wait_for_function(
        """() => {
            const a = [...document.querySelectorAll('#board-live svg a')]
                .find(x => x.textContent.includes('B-05'));
            return a && a.querySelector('g').classList.contains('st-unpaid');
        }""",
        timeout=POLL_MS * 2 + 2000,
    )
    assert guide.url == board_url
    assert "¥10.00" in guide.locator(".counts").inner_text()  # unpaid, B is 果蔬 at ¥10
    shot(guide, "board-occupied")
    docs_shot(guide, "board", show=stall_on_map(guide, "B-05"))

    guide.locator("#board-live svg a").filter(has_text="B-05").click()
    panel = guide.locator("#panel")
    panel.get_by_role("button", name="登记现金").wait_for()
    assert guide.url == board_url  # the panel opened in place
    shot(guide, "board-panel")
    panel.get_by_label("收到现金（元）").fill("10")
    panel.get_by_role("button", name="登记现金").click()
    panel.get_by_text("已记录 B-05 现金 ¥10.00").wait_for()
    guide.wait_for_function(
        """() => {
            const a = [...document.querySelectorAll('#board-live svg a')]
                .find(x => x.textContent.includes('B-05'));
            return a && a.querySelector('g').classList.contains('st-paid');
        }""",
        timeout=POLL_MS * 2 + 2000,
    )
    shot(guide, "board-paid")

    vendor.reload()
    sees(vendor, "现金交给 李秀英")

    guide.goto(f"{server}/guide/shift")
    sees(guide, "B-05", "¥10.00")
    shot(guide, "guide-shift")
    for ctx in (guide_ctx, vendor_ctx):
        ctx.close()


def test_board_works_without_javascript(browser, evening):
    ctx = browser.new_context(**PHONE, java_script_enabled=False)
    page = ctx.new_page()
    login(page, evening, "13800000002")
    page.goto(f"{evening}/guide/")
    page.get_by_role("link", name="金汇潮汐市场").click()
    page.get_by_role("link", name="按状态列表").click()
    expect(page.locator("table.board-list")).to_be_visible()
    page.get_by_role("link", name="A-03").click()
    page.get_by_role("heading", name="A-03").wait_for()
    expect(page.get_by_role("link", name="返回摊位看板").first).to_be_visible()
    shot(page, "board-nojs-panel")
    ctx.close()


def test_a_whole_row_of_the_list_opens_its_stall(browser, evening):
    """A thumb lands on the state or the empty vendor cell, not on the small stall code."""
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    login(page, evening, "13800000002")
    page.goto(f"{evening}/guide/")
    page.get_by_role("link", name="金汇潮汐市场").click()
    page.get_by_role("link", name="按状态列表").click()
    row = page.locator("table.board-list tbody tr").filter(has_text="A-04")
    box = row.locator("td").nth(2).bounding_box()  # the vendor cell: empty on a free stall
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator("#panel").get_by_role("heading", name="A-04").wait_for()
    assert_fits_phone(page)
    ctx.close()
