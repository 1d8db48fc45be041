"""Stall draws through the pages: a cadre announces, vendors apply (and are refused clearly),
the tick draws, the public page and JSON prove it, the winner sees the stall."""

import json
import re
import subprocess
import sys
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from market.extensions import db
from market.models import DrawRound
from market.services.common.clock import FixedClock, now
from tests.conftest import Auth, csrf_from
from tests.services.draws.test_canonical import SCRIPT

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(at) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def clock(demo_app):
    fixed = FixedClock(now().replace(second=0, microsecond=0))
    demo_app.config["CLOCK"] = fixed
    yield fixed
    demo_app.config.pop("CLOCK", None)


def market_id(demo_app):
    from market.models import Market

    with demo_app.app_context():
        return db.session.scalar(db.select(Market.id).where(Market.slug == "jinhui"))


def announce(client, demo_app, clock, **change):
    page = client.get(f"/draws/markets/{market_id(demo_app)}?lang=en")
    assert page.status_code == 200
    start = clock()
    month = (start.astimezone(SHANGHAI).replace(day=1) + timedelta(days=32)).strftime("%Y-%m")
    data = {
        "csrf_token": csrf_from(page.text),
        "title": "Fixed stalls C",
        "zone_id": "",
        "stall_codes": "C-11, C-12",
        "period": month,
        "months": "1",
        "fee": "300",
        "opens_at": local(start - timedelta(hours=1)),
        "closes_at": local(start + timedelta(hours=1)),
        "draw_at": local(start + timedelta(hours=2)),
        "priority_kinds": ["veteran"],
        "quota_percent": "50",
        "ranked": "y",
    }
    data.update(change)
    return client.post(f"/draws/markets/{market_id(demo_app)}?lang=en", data=data)


def apply(client, round_id, **prefs):
    page = client.get(f"/draws/{round_id}?lang=en")
    data = {"csrf_token": csrf_from(page.text), "first": "", "second": "", "third": ""}
    data.update(prefs)
    return client.post(f"/draws/{round_id}?lang=en", data=data)


def test_the_whole_round_through_the_pages(client, demo_app, clock, runner, tmp_path):
    auth = Auth(client)
    auth.login()
    made = announce(client, demo_app, clock)
    assert made.status_code == 302, made.text
    round_id = int(re.search(r"/draws/rounds/(\d+)", made.location).group(1))
    auth.logout()

    auth.login("13800000004")  # goods vendor
    home = client.get("/vendors/home?lang=en")
    assert "Fixed stalls C" in home.text and "Apply for a fixed stall" in home.text
    assert apply(client, round_id, first="C-12").status_code == 302
    again = apply(client, round_id)
    assert again.status_code == 409 and "already applied" in again.text
    assert "Applied, no. 1" in client.get("/vendors/home?lang=en").text
    auth.logout()

    auth.login("13800000003")  # food vendor: the goods zone is not for them
    wrong = apply(client, round_id)
    assert wrong.status_code == 422 and "other kinds of goods" in wrong.text
    auth.logout()

    # Before the draw: the public page has the commitment, no list, no secret.
    public = client.get(f"/p/jinhui/draws/{round_id}?lang=en")
    assert public.status_code == 200
    # A copy is always checked first: unchanged costs a 304, the draw changes the tag.
    assert public.headers["Cache-Control"] == "public, no-cache" and public.headers["ETag"]
    before_draw = {"If-None-Match": public.headers["ETag"]}
    assert client.get(f"/p/jinhui/draws/{round_id}", headers=before_draw).status_code == 304
    with demo_app.app_context():
        rnd = db.session.get(DrawRound, round_id)
        commitment, sealed = rnd.commitment, rnd.sealed_secret
    assert commitment in public.text and sealed not in public.text
    assert commitment in client.get("/p/jinhui?lang=en").text
    assert json.loads(client.get(f"/p/jinhui/draws/{round_id}.json").text)["secret"] is None

    # Too late to apply once the window closed, even before the scheduler froze the list.
    clock.advance(hours=1, minutes=5)
    auth.login("13800000004")
    page = client.get(f"/draws/{round_id}?lang=en")
    assert "Applications are closed" not in page.text  # they applied: their state shows
    # Logged in, the public page carries their menu and a CSRF token: no shared copy.
    mine = client.get(f"/p/jinhui/draws/{round_id}")
    assert mine.headers["Cache-Control"] == "private, no-cache"
    auth.logout()

    at = (clock() + timedelta(hours=1)).isoformat()
    out = runner.invoke(args=["market", "tick", "--now", at])
    assert out.exit_code == 0 and f"draw {round_id}: drawn" in out.output, out.output

    after = client.get(f"/p/jinhui/draws/{round_id}", headers=before_draw)
    assert after.status_code == 200 and 'id="secret"' in after.text
    proof = client.get(f"/p/jinhui/draws/{round_id}.json")
    path = tmp_path / "draw.json"
    path.write_bytes(proof.data)
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0 and run.stdout.startswith("一致"), run.stdout
    doc = proof.get_json()
    doc["list"] = doc["list"].replace("**", "*X")
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 1 and "不一致" in run.stdout

    page = client.get(f"/p/jinhui/draws/{round_id}?lang=en")
    assert "No. 1 → stall C-12" in page.text
    # No phone numbers. The seed and digests are hex, so a run of digits inside one of them
    # is not a phone number: only a standalone run counts.
    assert re.search(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])", page.text) is None
    assert "13800000004" not in page.text
    auth.login("13800000004")
    assert "You won stall C-12" in client.get("/vendors/home?lang=en").text


def test_bad_rounds_get_the_form_back_with_a_message(client, demo_app, clock):
    Auth(client).login()
    bad = announce(client, demo_app, clock, stall_codes="C-99", draw_at="soon")
    assert bad.status_code in (400, 422)
    assert "Enter a date and time" in bad.text or "Not an active stall" in bad.text
    assert announce(client, demo_app, clock, fee="-3").status_code == 422
    assert announce(client, demo_app, clock, period="2026-13").status_code in (400, 422)
    assert announce(client, demo_app, clock, period="0000-01").status_code == 422
    assert announce(client, demo_app, clock, opens_at="0001-01-01T00:00").status_code == 422
    with demo_app.app_context():
        assert db.session.scalar(db.select(db.func.count(DrawRound.id))) == 0


def test_who_may_see_what(client, demo_app, clock):
    auth = Auth(client)
    auth.login("13800000004")
    assert client.get(f"/draws/markets/{market_id(demo_app)}").status_code == 403
    assert client.get("/draws/999999").status_code == 404
    assert client.get("/p/jinhui/draws/999999").status_code == 404
    assert client.get("/p/nowhere/draws/1.json").status_code == 404
    script = client.get("/draws/verify_draw.py")
    assert script.status_code == 200 and b"def recompute" in script.data
    script.close()
