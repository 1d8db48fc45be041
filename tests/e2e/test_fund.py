"""Done means, on a phone: a resident scans the QR on a ballot slip, votes, changes the vote and
sees the turnout; a second slip's code used twice is refused the second time; the vote closes
on time (a scheduler tick) and the project is approved; the cadre's expense above the budget is
refused; the public fund page shows it all."""

import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from bench.server import running_server
from tests.e2e.conftest import PHONE, shot
from tests.e2e.test_foundation import assert_fits_phone, login

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def town():
    env: dict = {}
    with running_server(workers=2, env_out=env) as url:
        yield url, env


def _reissue(cadre, server) -> tuple[str, str]:
    """The cadre voids a household's slip and prints a new one: (the code, the QR's URL)."""
    cadre.goto(f"{server}/fund/votes/1?lang=en")
    cadre.get_by_role("button", name="Lost: void and reissue").last.click()
    code = cadre.locator(".code").inner_text()
    png = cadre.locator(".qr svg").screenshot()
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return code, found.text


def test_a_household_vote_from_slip_to_money(browser, town):
    server, env = town
    cadre_ctx = browser.new_context(**PHONE)
    cadre = cadre_ctx.new_page()
    login(cadre, server, "13800000001")
    code, url = _reissue(cadre, server)
    assert url.endswith(f"?code={code}") and "/p/jinhui/fund/vote/1" in url
    shot(cadre, "fund-slip")

    resident_ctx = browser.new_context(**PHONE)
    resident = resident_ctx.new_page()
    resident.goto(url.replace(url.split("/p/")[0], server) + "&lang=en")
    expect(resident.get_by_label("The code on your household’s slip")).to_have_value(code)
    resident.get_by_label("For", exact=True).check()
    resident.get_by_role("button", name="Send my vote").click()
    expect(resident.get_by_text("Your vote is counted.")).to_be_visible()
    expect(resident.get_by_text("8 of 200 households voted (4%).")).to_be_visible()
    assert_fits_phone(resident)
    shot(resident, "fund-voted")
    resident.get_by_label("Against", exact=True).check()
    resident.get_by_role("button", name="Send my vote").click()
    expect(resident.get_by_text("Your vote is changed.")).to_be_visible()
    expect(resident.get_by_text("8 of 200 households voted (4%).")).to_be_visible()

    # A second slip: voted on one phone, then the same code on another phone is refused.
    second, _url = _reissue(cadre, server)
    first_phone = browser.new_context(**PHONE).new_page()
    other_phone = browser.new_context(**PHONE).new_page()
    for page in (first_phone, other_phone):
        page.goto(f"{server}/p/jinhui/fund/vote/1?lang=en&code={second}")
        page.get_by_label("For", exact=True).check()
        page.get_by_role("button", name="Send my vote").click()
    expect(first_phone.get_by_text("Your vote is counted.")).to_be_visible()
    expect(other_phone.get_by_text("This slip has already voted.")).to_be_visible()

    # The vote closes at its time: the scheduler's tick counts it (5 for, 3 against, 1 abstain).
    after = (datetime.now(UTC) + timedelta(days=8)).isoformat()
    flask = [
        sys.executable,
        "-m",
        "flask",
        "--app",
        "app",
        "market",
        "tick",
        "--now",
        after,
        "--force",
    ]
    out = subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    assert "fund vote 1 closed: approved" in out.stdout + out.stderr
    resident.goto(f"{server}/p/jinhui/fund/vote/1?lang=en")
    expect(resident.get_by_text("5 for, 3 against, 1 abstaining.")).to_be_visible()

    # The cadre spends: above the approved ¥8,000 is refused.
    cadre.goto(f"{server}/fund/projects/2?lang=en")
    cadre.get_by_label("Amount (yuan)").fill("8000.01")
    cadre.get_by_label("What was bought or paid").fill("健身器材 8 件")
    cadre.get_by_role("button", name="Record expense").click()
    expect(cadre.get_by_text("Spending more needs a new deliberation")).to_be_visible()
    shot(cadre, "fund-over-budget")

    resident.goto(f"{server}/p/jinhui/fund?lang=en")
    expect(resident.get_by_text("decided by a household vote")).to_be_visible()
    expect(resident.get_by_text("decided by the representatives’ meeting")).to_be_visible()
    assert_fits_phone(resident)
    shot(resident, "fund-public")
