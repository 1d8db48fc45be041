"""A new vendor registers from a stall poster on a phone; the cadre approves on a phone; the
vendor's pass identifies them to a guide."""

import io
import json
import re
import urllib.request
from datetime import UTC, datetime, timedelta

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, sees, shot
from tests.e2e.test_foundation import assert_fits_phone, login


def api(server, path, token=None, payload=None):
    request = urllib.request.Request(
        server + path,
        data=json.dumps(payload).encode() if payload is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as r:  # loopback only
        return json.loads(r.read())


def stall_url(server, code):
    token = api(
        server, "/api/v1/auth/token", payload={"phone": "13800000001", "password": "demo1234"}
    )
    stalls = api(server, "/api/v1/markets/1/stalls?per_page=100", token["access_token"])
    return next(s["qr_url"] for s in stalls["items"] if s["code"] == code)


def test_register_approve_and_identify(browser, server):
    vendor_ctx = browser.new_context(**PHONE)
    vendor = vendor_ctx.new_page()
    vendor.goto(stall_url(server, "B-05"))
    assert vendor.locator("h1").inner_text() == "B-05"
    vendor.get_by_role("link", name="新摊主？在这里注册").click()
    vendor.get_by_label("姓名").fill("周阿姨")
    vendor.get_by_label("手机号").fill("13655550001")
    vendor.get_by_label("设置密码").fill("mango-2026")
    vendor.get_by_label("经营类别").select_option(label="农户自产")
    vendor.get_by_label("卖什么").fill("自家种的芒果")
    shot(vendor, "vendor-register")
    assert_fits_phone(vendor)
    vendor.get_by_label("我已阅读并同意市场规则").check()
    vendor.get_by_role("button", name="注册").click()
    vendor.wait_for_url(f"{server}/vendors/home*")
    sees(vendor, "等待社区审核")
    shot(vendor, "vendor-pending")

    cadre_ctx = browser.new_context(**PHONE)
    cadre = cadre_ctx.new_page()
    login(cadre, server, "13800000001")
    cadre.goto(f"{server}/vendors/queue")
    card = cadre.locator("article", has_text="周阿姨")
    assert "136****0001" in card.inner_text()
    shot(cadre, "cadre-queue")
    card.get_by_role("button", name="通过", exact=True).click()
    # Waits for the page after the redirect: content() read mid-navigation once gave ''.
    expect(cadre.locator("main")).to_contain_text("周阿姨已通过审核，现在可以入场。")

    vendor.reload()
    sees(vendor, "已通过审核")
    shot(vendor, "vendor-approved")
    image = Image.open(io.BytesIO(vendor.locator(".pass-qr").screenshot()))
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1 and "/guide/pass/" in decoded[0].text

    guide_ctx = browser.new_context(**PHONE)
    guide = guide_ctx.new_page()
    login(guide, server, "13800000002")
    guide.goto(decoded[0].text)
    assert guide.locator("h1").inner_text() == "周阿姨"
    sees(guide, "136****0001")
    for ctx in (vendor_ctx, cadre_ctx, guide_ctx):
        ctx.close()


def test_expired_certificate_is_refused_with_the_form_kept(phone, server):
    phone.goto(f"{server}/vendors/register?market=jinhui&lang=en")
    phone.get_by_label("Your name").fill("Old Chen")
    phone.get_by_label("Mobile number").fill("13655550002")
    phone.get_by_label("Choose a password").fill("mango-2026")
    phone.get_by_label("What do you sell?").select_option(label="Cooked food")
    phone.get_by_label("Your goods").fill("noodles")
    phone.get_by_label("I sell food").check()
    phone.get_by_label("Health certificate number (健康证)").fill("CERT-2020-1")
    past = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    phone.locator("#health_cert_expires").fill(past)
    phone.get_by_label("I have read and agree to the market rules").check()
    phone.get_by_role("button", name="Register").click()
    assert "has expired" in phone.locator("#health_cert_expires-error").inner_text()
    assert phone.get_by_label("Your goods").input_value() == "noodles"
    shot(phone, "vendor-register-error-en")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "#fde68a").save(buffer, format="PNG")
    return buffer.getvalue()


def test_guide_registers_a_vendor_and_stays_on_her_board(phone, server):
    """帮摊主登记 at 390×844: the guide registers a vendor without a smartphone, sees the
    code and the pass to print, and is still herself on her board."""
    login(phone, server, "13800000002")
    phone.goto(f"{server}/guide/markets/1/board?lang=en")
    phone.get_by_role("link", name="Register a vendor").click()
    phone.wait_for_url("**/guide/markets/1/vendors/new")
    form_url = phone.url
    phone.get_by_label("Vendor's name").fill("孙阿婆")
    phone.get_by_label("Vendor's mobile number").fill("13655550009")
    category = phone.get_by_label("What do you sell?")
    assert category.input_value() == ""  # nothing chosen for her
    category.select_option(label="Cooked food")
    phone.get_by_label("Your goods").fill("手工凉粉")
    phone.get_by_label("I have read the market rules to the vendor and they agree").check()
    phone.get_by_role("button", name="Register the vendor").click()
    # Cooked food without a certificate: refused, on the form's own URL, what was typed kept.
    expect(phone.locator("#health_cert_no-error")).to_contain_text("health certificate")
    assert phone.url == form_url
    assert phone.get_by_label("Vendor's name").input_value() == "孙阿婆"
    phone.get_by_label("What do you sell?").select_option(label="Cooked food")
    phone.get_by_label("Health certificate number (健康证)").fill("川攀健2026-909")
    later = (datetime.now(UTC).date() + timedelta(days=300)).isoformat()
    phone.locator("#health_cert_expires").fill(later)
    phone.locator("#health_cert_photo").set_input_files(
        files=[{"name": "cert.png", "mimeType": "image/png", "buffer": _png()}]
    )
    phone.get_by_label("I have read the market rules to the vendor and they agree").check()
    shot(phone, "guide-register-vendor")
    assert_fits_phone(phone)
    phone.get_by_role("button", name="Register the vendor").click()
    phone.wait_for_url(re.compile(r".*/guide/markets/1/vendors/\d+$"))
    expect(phone.locator("h1")).to_have_text("孙阿婆")
    code = phone.locator(".code-big").inner_text()
    assert len(code.replace(" ", "")) == 8 and code.replace(" ", "").isdigit()
    shot(phone, "guide-registered-vendor")
    assert_fits_phone(phone)
    result_url = phone.url

    # Back never asks to resubmit a form: the pages behind are GETs.
    phone.go_back()
    expect(phone.get_by_role("heading", name="Register a vendor")).to_be_visible()
    phone.goto(result_url)
    assert phone.locator(".code-big").count() == 0  # shown once

    phone.get_by_role("link", name="Print the vendor pass").click()
    expect(phone.locator(".pass-qr svg")).to_be_visible()
    shot(phone, "guide-vendor-pass")
    image = Image.open(io.BytesIO(phone.locator(".pass-qr").screenshot()))
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1 and "/guide/pass/" in decoded[0].text

    phone.goto(f"{server}/guide/markets/1/board?lang=en")
    expect(phone.locator("h1")).to_have_text("金汇潮汐市场")
    expect(phone.get_by_role("link", name="Register a vendor")).to_be_visible()
    phone.goto(decoded[0].text)  # her own scan of the printed pass finds the new vendor
    expect(phone.locator("h1")).to_have_text("孙阿婆")
