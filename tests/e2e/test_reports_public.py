"""The public notice board and the cadre's reports in a real browser on a phone: they fit
390 px, need no script, the A4 notice is one page and its QR code opens the live board."""

import io
import re

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, docs_shot, shot
from tests.e2e.test_foundation import assert_fits_phone, login


def test_public_board_on_a_phone_without_javascript(browser, server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{server}/p/jinhui")
    assert page.locator("h1").inner_text() == "金汇潮汐市场"
    assert page.locator("svg.map-svg rect").count() >= 40
    expect(page.get_by_role("heading", name="钱用到了哪里")).to_be_visible()
    assert_fits_phone(page)
    shot(page, "public-board")
    docs_shot(page, "public")
    context.close()


def test_a4_notice_is_one_page_and_scans_to_the_board(desktop, server, browser):
    desktop.goto(f"{server}/p/jinhui/print")
    image = Image.open(io.BytesIO(desktop.locator(".qr-box .qr-code").screenshot()))
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1 and decoded[0].text.endswith("/p/jinhui")
    pdf = desktop.pdf(format="A4", print_background=True)
    (ARTIFACTS / "notice-board.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    resident = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = resident.new_page()
    page.goto(decoded[0].text)
    assert page.locator("h1").inner_text() == "金汇潮汐市场"
    resident.close()


def test_reports_fit_a_phone(phone, server):
    login(phone, server, "13800000001")
    phone.get_by_role("link", name="报表").first.click()
    expect(phone.get_by_role("heading", name="每日收入")).to_be_visible()
    for path, name in [
        ("/reports/markets/1/monthly", "report-monthly"),
        ("/reports/markets/1/occupancy", "report-occupancy"),
        ("/reports/markets/1/handovers", "report-handovers"),
        ("/reports/organizations/1/audit", "audit-log"),
    ]:
        phone.goto(f"{server}{path}")
        assert_fits_phone(phone)
        shot(phone, name)
    phone.goto(f"{server}/reports/markets/1/monthly?month=2026-13")
    assert "YYYY-MM" in phone.content()
