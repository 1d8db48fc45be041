"""A vendor who forgot the password is back in within a minute: the guide checks the phone's
last four digits and reads out a code, the vendor sets a new password on her own phone.
And a copied session cookie stops working once its browser logs out."""

import re

from tests.e2e.conftest import PHONE, shot
from tests.e2e.test_foundation import assert_fits_phone, login

GUIDE = "13800000002"
VENDOR = "13800000013"  # 周玉兰, of the demo's evening: no other browser test logs her in
NEW_PASSWORD = "chaoxi-2026"


def test_guide_issues_a_code_and_the_vendor_resets_on_her_phone(browser, server):
    guide = browser.new_context(**PHONE).new_page()
    login(guide, server, GUIDE)
    guide.wait_for_url(f"{server}/guide/")
    guide.locator('a[href="/reset-codes"]').click()
    guide.locator("#q").fill(VENDOR[-4:])
    guide.locator("#q").press("Enter")
    shot(guide, "reset-find")
    guide.locator(".reset-candidates a").first.click()
    guide.wait_for_url(re.compile(r".*/users/\d+/reset-code.*"))
    guide.locator("#phone_last4").fill(VENDOR[-4:])
    shot(guide, "reset-code-form")
    guide.locator("form.card button[type=submit]").click()
    guide.wait_for_url(re.compile(r".*/reset-code/issued.*"))
    shown = guide.locator(".reset-code").inner_text()
    assert re.fullmatch(r"\d{4} \d{4}", shown)
    box = guide.locator(".reset-code").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, "the code must fit the screen"
    assert_fits_phone(guide)
    shot(guide, "reset-code-issued")
    guide.context.close()

    vendor = browser.new_context(**PHONE).new_page()
    vendor.goto(f"{server}/login")
    shot(vendor, "login-forgot")
    vendor.locator('a[href="/login/reset"]').click()
    vendor.wait_for_url(f"{server}/login/reset")
    vendor.get_by_label("手机号").fill(VENDOR)
    vendor.locator("#code").fill(shown)  # as read out, with the space
    vendor.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    vendor.get_by_label("再输一次新密码").fill(NEW_PASSWORD)
    assert_fits_phone(vendor)
    shot(vendor, "reset-password")
    vendor.get_by_role("button", name="保存新密码").click()
    vendor.wait_for_url(f"{server}/vendors/home*")
    assert_fits_phone(vendor)
    shot(vendor, "reset-done")
    vendor.get_by_role("button", name="退出").click()
    login(vendor, server, VENDOR, NEW_PASSWORD)
    vendor.wait_for_url(f"{server}/vendors/home*")
    vendor.context.close()


def test_a_copied_cookie_stops_working_after_logout(browser, server):
    owner = browser.new_context(**PHONE).new_page()
    login(owner, server, "13800000004")
    owner.wait_for_url(f"{server}/vendors/home*")
    copy = browser.new_context(**PHONE)
    copy.add_cookies(owner.context.cookies())
    thief = copy.new_page()
    thief.goto(f"{server}/vendors/home")
    assert thief.url.startswith(f"{server}/vendors/home")
    owner.get_by_role("button", name="退出").click()
    owner.wait_for_url(f"{server}/")
    thief.goto(f"{server}/vendors/home")
    assert "/login" in thief.url
    owner.context.close()
    copy.close()
