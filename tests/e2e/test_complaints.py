"""Done means, in a browser with no login: scan A-01's poster, see tonight's licensed vendor
(masked), report a problem with a photo, get a tracking link; the guide sees the stall's
complaint, answers it, and the tracking page shows the answer."""

import pytest
from PIL import Image
from playwright.sync_api import expect

from bench.server import running_server
from tests.e2e.conftest import PHONE, sees, shot
from tests.e2e.test_foundation import assert_fits_phone, login
from tests.e2e.test_vendors import api, stall_url


@pytest.fixture(scope="module")
def evening():
    with running_server(
        workers=2, setup=[["market", "rush", "--stalls", "40", "--vendors", "1"]]
    ) as url:
        yield url


def test_scan_complain_answer(browser, evening, tmp_path):
    server = evening
    a01 = stall_url(server, "A-01")
    token = api(
        server, "/api/v1/auth/token", payload={"phone": "13800000003", "password": "demo1234"}
    )["access_token"]
    api(server, "/api/v1/checkins", token, {"stall_token": a01.rsplit("/", 1)[1]})

    shopper_ctx, guide_ctx = browser.new_context(**PHONE), browser.new_context(**PHONE)
    shopper, guide = shopper_ctx.new_page(), guide_ctx.new_page()
    shopper.goto(a01)
    assert shopper.locator(".vendor-name").inner_text() == "王**"
    expect(shopper.get_by_text("健康证有效")).to_be_visible()
    assert "王德华" not in shopper.content()
    expect(shopper.get_by_role("link", name="我是摊主：登录入场")).to_be_visible()
    assert_fits_phone(shopper)
    shot(shopper, "complaint-card")

    shopper.get_by_role("link", name="举报这个摊位的问题").click()
    shopper.get_by_label("短斤少两").check()
    shopper.get_by_label("发生了什么？").fill("买了一斤苹果，回家称只有八两。")
    photo = tmp_path / "scale.jpg"
    Image.new("RGB", (320, 240), "orange").save(photo)
    shopper.set_input_files("input[type=file]", str(photo))
    box = shopper.get_by_role("button", name="提交反映").bounding_box()
    assert box["height"] >= 48
    assert_fits_phone(shopper)
    shopper.get_by_role("button", name="提交反映").click()
    shopper.wait_for_url(f"{server}/c/*")
    track = shopper.url
    expect(shopper.get_by_text("正在处理")).to_be_visible()
    shot(shopper, "complaint-tracking")

    login(guide, server, "13800000002")
    guide.goto(f"{server}/complaints/markets/1")
    sees(guide, "摊位 A-01", "回家称只有八两")
    guide.get_by_label("处理结果（投诉人会看到）").first.fill("已核秤，摊主退还差价。")
    guide.get_by_role("button", name="标记已处理并答复").first.click()
    expect(guide.get_by_text("已答复")).to_be_visible()

    shopper.goto(track)
    expect(shopper.get_by_text("已核秤，摊主退还差价。")).to_be_visible()
    assert "八两" not in shopper.content()
    shot(shopper, "complaint-answered")
