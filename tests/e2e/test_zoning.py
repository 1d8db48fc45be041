"""The cadre lays out a zone on a phone and prints posters whose codes scan to the right stall."""

import io
import re

import zxingcpp
from PIL import Image

from tests.e2e.conftest import ARTIFACTS, sees, shot
from tests.e2e.test_foundation import assert_fits_phone, login


def test_cadre_adds_a_zone_and_ten_stalls_on_a_phone(phone, server):
    login(phone, server, "13800000001")
    phone.get_by_role("link", name="片区和摊位").first.click()
    assert phone.locator("svg.map-svg rect").count() >= 40
    shot(phone, "zoning-market")
    phone.get_by_role("link", name="添加片区").click()
    phone.get_by_label("编号").fill("E")
    phone.get_by_label("名称").fill("手作")
    phone.get_by_role("button", name="保存").click()
    sees(phone, "片区已添加")
    phone.get_by_role("link", name="批量添加摊位").click()
    phone.get_by_label("片区").select_option(label="E 手作")
    phone.get_by_label("摊位编号").fill("E-01..E-10")
    phone.get_by_label("起始行").fill("6")
    shot(phone, "zoning-bulk-form")
    phone.get_by_role("button", name="添加这些摊位").click()
    sees(phone, "已添加 10 个摊位")
    assert phone.locator("svg.map-svg text", has_text="E-10").count() == 1
    assert_fits_phone(phone)


def test_bad_range_is_explained_next_to_the_field(phone, server):
    login(phone, server, "13800000001")
    phone.goto(f"{server}/zoning/markets/1/stalls/bulk")
    phone.get_by_label("摊位编号").fill("A-10..A-02")
    phone.get_by_role("button", name="添加这些摊位").click()
    error = phone.locator("#codes-error")
    assert "范围写反了" in error.inner_text()
    assert phone.get_by_label("摊位编号").input_value() == "A-10..A-02"
    shot(phone, "zoning-bulk-error")


def test_printed_poster_scans_to_its_stall(desktop, server, browser):
    login(desktop, server, "13800000001")
    desktop.goto(f"{server}/zoning/markets/1/posters?per_page=1")
    first = desktop.locator("article.poster").first
    code = first.locator(".poster-code").inner_text()
    image = Image.open(io.BytesIO(first.locator(".poster-qr").screenshot()))
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1 and "/s/" in decoded[0].text
    pdf = desktop.pdf(format="A4", print_background=True)
    (ARTIFACTS / "posters.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == desktop.locator("article.poster").count()  # one A4 page per poster
    # A vendor's phone opens what the code says.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    vendor = context.new_page()
    vendor.goto(decoded[0].text)
    assert vendor.locator("h1").inner_text() == code
    shot(vendor, "scan-page")
    context.close()
