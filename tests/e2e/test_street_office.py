"""The street office as its people use it: the supervisor sees both communities side by side
with 渡口's two flags, opens its unreconciled days read-only, asks a question; 渡口's cadre
finds it in 等我处理 on her phone and answers; the supervisor accepts."""

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, shot
from tests.e2e.test_foundation import assert_fits_phone, login

SUPERVISOR, DUKOU_CADRE = "13800000007", "13800000008"


def test_supervisor_asks_and_the_community_answers(browser, server):
    desk = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    sup = desk.new_page()
    login(sup, server, SUPERVISOR)
    expect(sup.get_by_role("heading", name="炳草岗街道")).to_be_visible()
    table = sup.locator("table.area-table")
    expect(table.get_by_role("link", name="金汇")).to_be_visible()
    expect(table.get_by_role("link", name="渡口")).to_be_visible()
    dukou = sup.locator("section.flags", has=sup.get_by_role("heading", name="渡口"))
    expect(dukou.get_by_text("天后仍未核对")).to_be_visible()
    expect(dukou.get_by_text("相差超过 ¥20")).to_be_visible()
    shot(sup, "area-dashboard-desktop")

    # 渡口's days to reconcile, read-only: the list is there, the buttons are not.
    dukou.get_by_role("link", name="对账与结账").click()
    expect(sup.get_by_role("heading", name="待对账场次")).to_be_visible()
    expect(sup.get_by_text("标记为已对账", exact=True).first).to_be_hidden()
    sup.go_back()

    unreconciled = dukou.locator("li", has_text="天后仍未核对")
    unreconciled.get_by_role("link", name="质询").click()
    sup.get_by_label("您的问题").fill("上月的早市为什么还没核对？请说明原因。")
    sup.get_by_role("button", name="发出质询").click()
    expect(sup.get_by_text("等待社区答复")).to_be_visible()
    question_url = sup.url

    cadre_ctx = browser.new_context(**PHONE)
    cadre = cadre_ctx.new_page()
    login(cadre, server, DUKOU_CADRE)
    cadre.get_by_role("link", name="街道提出的质询待答复").click()
    cadre.get_by_text("上月的早市为什么还没核对").click()
    assert_fits_phone(cadre)
    cadre.get_by_label("给街道的答复").fill("收款员请假，本周补核。")
    cadre.get_by_role("button", name="发送答复").click()
    expect(cadre.get_by_text("答复已发送给街道")).to_be_visible()
    shot(cadre, "question-answered-phone")

    sup.goto(question_url)
    expect(sup.get_by_text("收款员请假，本周补核。")).to_be_visible()
    sup.get_by_role("button", name="接受答复").click()
    expect(sup.get_by_text("已接受答复")).to_be_visible()

    # On the supervisor's phone the dashboard and the thread fit the screen.
    phone_ctx = browser.new_context(**PHONE)
    small = phone_ctx.new_page()
    login(small, server, SUPERVISOR)
    assert_fits_phone(small)
    shot(small, "area-dashboard-phone")
    small.goto(question_url)
    assert_fits_phone(small)
    for ctx in (desk, cadre_ctx, phone_ctx):
        ctx.close()
