"""Done means, on a phone: a cadre announces a draw for stall C-08 this month; two vendors apply
from their home pages; the window closes; the scheduler draws at the set time (`tick --now`);
the winner sees the stall on the home page, the other vendor scanning C-08 is told it is held,
the winner checks in there with no daily fee; `verify_draw.py` on the public JSON prints 一致."""

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from bench.server import ROOT, running_server
from tests.e2e.conftest import PHONE, sees, shot
from tests.e2e.test_evening import flask
from tests.e2e.test_foundation import assert_fits_phone, login
from tests.e2e.test_vendors import stall_url

SHANGHAI = ZoneInfo("Asia/Shanghai")
SET_CUTOFF = """
from datetime import UTC, datetime, timedelta
from app import app
from market.extensions import db
from market.models import MarketSession
with app.app_context():
    s = db.session.scalar(db.select(MarketSession).where(MarketSession.state == "open"))
    s.cutoff_at = datetime.now(UTC) + timedelta(hours=1)
    db.session.commit()
"""


@pytest.fixture(scope="module")
def fair():
    env: dict = {}
    with running_server(
        workers=2, setup=[["market", "rush", "--stalls", "40", "--vendors", "1"]], env_out=env
    ) as url:
        # The rush's session has no cutoff: give it one an hour ahead, as a template would.
        subprocess.run([sys.executable, "-c", SET_CUTOFF], cwd=ROOT, env=env, check=True)
        yield url, env


def local(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def test_two_vendors_apply_the_scheduler_draws_the_winner_checks_in(browser, fair, tmp_path):
    server, env = fair
    pages = [browser.new_context(**PHONE).new_page() for _ in range(3)]
    cadre, first, second = pages
    now = datetime.now(UTC)

    # The draw's words are in English until the lead merges their Chinese (/tmp/po/draw.json):
    # every page after the login asks for English once (the choice is kept in a cookie).
    login(cadre, server, "13800000001")
    cadre.goto(f"{server}/draws/markets/1?lang=en")
    cadre.get_by_label("Title").fill("C-08 本月固定摊位")
    cadre.get_by_label("Or these stalls (codes, separated by commas)").fill("C-08")
    cadre.get_by_label("First month").fill(now.astimezone(SHANGHAI).strftime("%Y-%m"))
    cadre.get_by_label("Price per month (yuan)").fill("200")
    cadre.get_by_label("Applications open").fill(local(now - timedelta(hours=1)))
    cadre.get_by_label("Applications close").fill(local(now + timedelta(minutes=3)))
    cadre.get_by_label("Draw time (public)").fill(local(now + timedelta(minutes=4)))
    shot(cadre, "draw-announce")
    cadre.get_by_role("button", name="Announce the draw").click()
    expect(cadre.get_by_text("The draw is announced")).to_be_visible()
    round_id = int(cadre.url.rstrip("/").split("/")[-1])
    assert_fits_phone(cadre)

    for page, phone in ((first, "13800000004"), (second, "13800000011")):
        login(page, server, phone)
        page.goto(f"{server}/vendors/home?lang=en")
        page.get_by_role("link", name="C-08 本月固定摊位").click()
        page.get_by_role("button", name="Apply for a fixed stall").click()
        expect(page.get_by_text("Applied: your application number")).to_be_visible()
    shot(second, "draw-applied")
    assert_fits_phone(second)

    public = f"{server}/p/jinhui/draws/{round_id}"
    cadre.goto(public)
    expect(cadre.locator("#commitment")).to_be_visible()
    assert cadre.locator("#secret").count() == 0

    flask(env, "market", "tick", "--now", (now + timedelta(minutes=5)).isoformat())

    with urllib.request.urlopen(public + ".json", timeout=10) as r:  # loopback only
        proof = json.loads(r.read())
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(proof, ensure_ascii=False), encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "verify_draw.py"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0 and checked.stdout.startswith("一致"), checked.stdout
    winner_no = json.loads(proof["result"])["assignments"][0]["number"]
    winner, other = (first, second) if winner_no == 1 else (second, first)

    cadre.goto(public)
    expect(cadre.locator("#secret")).to_be_visible()
    assert_fits_phone(cadre)
    shot(cadre, "draw-public")

    winner.goto(f"{server}/vendors/home")
    expect(winner.get_by_text("You won stall C-08")).to_be_visible()
    shot(winner, "draw-won")
    other.goto(f"{server}/vendors/home")
    expect(other.get_by_text("no. 1 on the waiting list")).to_be_visible()

    c08 = stall_url(server, "C-08")
    other.goto(c08)
    expect(other.get_by_text("C-08 is held for its monthly-pass holder")).to_be_visible()
    shot(other, "draw-held")
    winner.goto(c08)
    winner.get_by_role("button", name="Confirm check-in").click()
    winner.wait_for_url(f"{server}/receipts/*")
    sees(winner, "C-08", "¥0.00")
    for page in pages:
        page.context.close()
