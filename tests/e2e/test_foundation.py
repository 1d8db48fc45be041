"""Each demo user logs in on a phone and lands on their home page, in Chinese and English."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sees, shot

HOMES = [
    ("13800000001", "/admin/", "社区管理", "cadre-home"),
    ("13800000002", "/guide/", "我负责的市场", "guide-home"),
    ("13800000003", "/vendors/home", "已通过审核", "vendor-home"),
    ("13800000005", "/vendors/home", "等待社区审核", "vendor-pending"),
]


def login(page, server, phone, password="demo1234"):
    page.goto(f"{server}/login")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(password)
    # The form posts and the answer is a new page (home, or the form again with the error):
    # wait for it, so that what follows never reads the login page mid-navigation.
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def assert_fits_phone(page):
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide: sideways scrolling on a phone"


def test_login_page_on_a_phone(phone, server):
    phone.goto(f"{server}/login")
    assert phone.locator("html").get_attribute("lang") == "zh-CN"
    expect(phone.get_by_role("heading", name="登录")).to_be_visible()
    box = phone.get_by_role("button", name="登录").bounding_box()
    assert box["height"] >= 44, "touch target too small"
    assert_fits_phone(phone)
    shot(phone, "login-zh")


@pytest.mark.parametrize(("phone_no", "path", "text", "name"), HOMES)
def test_each_role_lands_home(phone, server, phone_no, path, text, name):
    login(phone, server, phone_no)
    phone.wait_for_url(f"{server}{path}")
    sees(phone, text)
    assert_fits_phone(phone)
    shot(phone, name)


def test_wrong_password_then_right(phone, server):
    login(phone, server, "13800000004", "not-the-password")
    expect(phone.get_by_text("手机号或密码错误")).to_be_visible()
    assert phone.get_by_label("手机号").input_value() == "13800000004"
    shot(phone, "login-error")
    phone.get_by_label("密码").fill("demo1234")
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url(f"{server}/vendors/home")


def test_english(phone, server):
    phone.goto(f"{server}/login?lang=en")
    assert phone.locator("html").get_attribute("lang") == "en"
    phone.get_by_label("Mobile number").fill("13800000002")
    phone.get_by_label("Password").fill("demo1234")
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_url(f"{server}/guide/")
    sees(phone, "My markets")
    phone.get_by_role("link", name="金汇潮汐市场").click()
    phone.wait_for_url(f"{server}/guide/markets/1/board")
    assert phone.title().startswith("Stall board")
    sees(phone, "Occupied")
    shot(phone, "guide-board-en")
    phone.get_by_role("button", name="Log out").click()
    sees(phone, "You have logged out.")


def test_cadre_dashboard_on_desktop(desktop, server):
    login(desktop, server, "13800000001")
    desktop.wait_for_url(f"{server}/admin/")
    sees(desktop, "金汇潮汐市场")
    shot(desktop, "cadre-dashboard-desktop")


def test_no_console_errors(phone, server):
    """CSP blocks inline scripts and styles: a violation would show up here."""
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(phone, server, "13800000001")
    phone.wait_for_url(f"{server}/admin/")
    phone.wait_for_load_state("networkidle")
    assert errors == []
