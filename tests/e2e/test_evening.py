"""One whole evening, in browsers against a real gunicorn, as issue 10 tells it: a vendor checks
in and pays by collection code, a second vendor meets the taken stall and takes a suggested
one, the guide's board follows without a reload, the guide confirms the code payment, takes
cash and hands it over; the cadre counts it, closes the session with `market tick --now`,
reads the takings, downloads the Excel file, closes last month; the public board shows the
governance-fund share. First, while the session is open, the vendor's and guide's pages in
English."""

import io
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from bench.server import ROOT, running_server
from tests.e2e.conftest import PHONE, sees, shot
from tests.e2e.test_foundation import login
from tests.e2e.test_vendors import api, stall_url

POLL_MS = 5000


@pytest.fixture(scope="module")
def evening():
    env: dict = {}
    with running_server(
        workers=2, setup=[["market", "rush", "--stalls", "40", "--vendors", "1"]], env_out=env
    ) as url:
        yield url, env


def flask(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def wait_for_state(page, code, state):
    page.wait_for_function(
        """([code, state]) => {
            const a = [...document.querySelectorAll('#board-live svg a')]
                .find(x => x.textContent.includes(code));
            return a && a.querySelector('g').classList.contains('st-' + state);
        }""",
        arg=[code, state],
        timeout=POLL_MS * 2 + 3000,
    )


def test_the_same_pages_in_english(browser, evening):
    server, _env = evening
    ctx = browser.new_context(**{**PHONE, "locale": "en-US"})
    page = ctx.new_page()
    login_en = f"{server}/login?lang=en"
    page.goto(login_en)
    page.get_by_label("Mobile number").fill("13800000003")
    page.get_by_label("Password").fill("demo1234")
    with page.expect_navigation():  # the login lands before the next address is typed
        page.get_by_role("button", name="Log in").click()
    page.goto(stall_url(server, "A-07"))
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Confirm check-in").click()
    page.wait_for_url(f"{server}/receipts/*")
    sees(page, "Receipt")
    ctx.close()

    ctx = browser.new_context(**{**PHONE, "locale": "en-US"})
    guide = ctx.new_page()
    guide.goto(f"{server}/login?lang=en")
    guide.get_by_label("Mobile number").fill("13800000002")
    guide.get_by_label("Password").fill("demo1234")
    with guide.expect_navigation():  # the login lands before the next address is typed
        guide.get_by_role("button", name="Log in").click()
    guide.goto(f"{server}/guide/markets/1/board")
    sees(guide, "Vendors on site")
    wait_for_state(guide, "A-07", "unpaid")
    shot(guide, "evening-board-en")
    guide.goto(f"{server}/p/jinhui")
    sees(guide, "Public notice board")
    ctx.close()


def test_the_whole_evening(browser, evening):
    server, env = evening
    first_ctx, second_ctx, guide_ctx = (browser.new_context(**PHONE) for _ in range(3))
    cadre_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    first, second, guide = first_ctx.new_page(), second_ctx.new_page(), guide_ctx.new_page()
    cadre = cadre_ctx.new_page()

    login(guide, server, "13800000002")
    guide.goto(f"{server}/guide/markets/1/board")

    # The first vendor: scan, confirm, pay by the collection code.
    c05 = stall_url(server, "C-05")
    login(first, server, "13800000004")
    first.goto(c05)
    first.get_by_role("button", name="确认入场").click()
    first.wait_for_url(f"{server}/receipts/*")
    first.get_by_label("金额（元）").fill("10")
    first.get_by_label("付款单号（交易单号后几位）").fill("4711")
    first.get_by_role("button", name="我已付款").click()
    sees(first, "待确认")
    shot(first, "evening-vendor-reported")

    # The second vendor meets the taken stall, takes the suggestion and sees its fee first.
    login(second, server, "13700000001")
    second.goto(c05)
    expect(second.get_by_text("C-05 已被占用")).to_be_visible()
    second.locator(".alt-btn").filter(has_text="选 C-06").click()
    assert second.locator("h1").inner_text() == "C-06"
    second.get_by_role("button", name="确认入场").click()
    second.wait_for_url(f"{server}/receipts/*")

    # The guide's board follows without a reload.
    wait_for_state(guide, "C-06", "unpaid")
    guide.locator("#board-live svg a").filter(has_text="C-05").click()
    panel = guide.locator("#panel")
    panel.get_by_role("button", name="确认：账单上已到账").click()
    panel.get_by_text("已确认付款 ¥10.00").wait_for()
    wait_for_state(guide, "C-05", "paid")
    guide.locator("#board-live svg a").filter(has_text="C-06").click()
    panel.get_by_label("收到现金（元）").fill("10")
    panel.get_by_role("button", name="登记现金").click()
    wait_for_state(guide, "C-06", "paid")
    shot(guide, "evening-board-paid")
    first.reload()
    sees(first, "已付清")

    guide.goto(f"{server}/guide/shift")
    guide.get_by_role("button", name="交给干部").click()
    guide.get_by_text("等待干部清点").first.wait_for()  # the page reloads after the POST

    # The cadre counts the cash, closes the session, reads and downloads the takings.
    login(cadre, server, "13800000001")
    cadre.goto(f"{server}/guide/handovers")
    # Counted blind: the amount expected shows only after the count is entered.
    assert "¥10.00" not in cadre.locator("main").inner_text()
    cadre.get_by_label("实际点到的现金（元）").first.fill("10")
    cadre.get_by_role("button", name="下一步：与记录核对").first.click()
    cadre.get_by_role("button", name="确认清点").click()
    sees(cadre, "已清点")
    after_close = (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="minutes")
    flask(env, "market", "tick", "--now", after_close)
    session_day = api(
        server, "/api/v1/auth/token", payload={"phone": "13800000001", "password": "demo1234"}
    )
    token = session_day["access_token"]
    sessions = api(server, "/api/v1/markets/1/sessions?per_page=100", token)
    closed = [s for s in sessions["items"] if s["state"] == "closed"]
    day = max(s["business_date"] for s in closed)
    cadre.goto(f"{server}/reports/markets/1/daily?date={day}")
    report = cadre.locator("main").inner_text()
    assert "20.00" in report, report[:1500]
    shot(cadre, "evening-daily-report")
    xlsx = cadre.request.get(f"{server}/reports/markets/1/export/sessions.xlsx?from={day}&to={day}")
    assert xlsx.status == 200
    sheet = load_workbook(io.BytesIO(xlsx.body())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert any(isinstance(c, str) and "合计" in c for c in rows[-1] if c)
    assert 20.0 in [c for c in rows[-1] if isinstance(c, float | int)]

    cadre.goto(f"{server}/ledger/1/periods")
    closing = cadre.locator("details.confirm-step").filter(
        has=cadre.locator("summary", has_text=re.compile("^结账$"))
    )
    closing.locator("summary").click()
    closing.get_by_role("button").click()
    sees(cadre, "40%")
    verified = flask(env, "ledger", "verify")
    assert "ledger intact" in verified.stdout

    public = browser.new_context(**PHONE).new_page()
    public.goto(f"{server}/p/jinhui")
    board_text = public.locator("main").inner_text()
    assert "治理" in board_text and "已结账" in board_text, board_text[:2000]
    shot(public, "evening-public")
    for ctx in (first_ctx, second_ctx, guide_ctx, cadre_ctx, public.context):
        ctx.close()
