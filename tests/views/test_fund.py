"""The governance fund through the pages: the public fund page, a resident voting with a slip
(and changing the vote), a slip used twice, guessed codes, the vote closing on time, and a
cadre's expense above the budget refused."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from market.demo.fund import load_fund
from market.extensions import db
from market.models import FundProject, FundVote, Market, Organization, Role
from market.services.common import ticks
from market.services.common.clock import FixedClock, now
from market.services.fund import ballots
from tests import builders as b
from tests.conftest import Auth, csrf_from

MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


@pytest.fixture
def fund(demo_app):
    with demo_app.app_context():
        org = db.session.scalar(select(Organization).order_by(Organization.id))
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        b.user("13800000006", Role.CADRE, org, password="demo1234", name="赵会计")
        assert load_fund(org, market)
        db.session.commit()
        vote = db.session.scalar(select(FundVote))
        gym = vote.project
        return {"vote": vote.id, "gym": gym.id, "closes": vote.closes_at, "org": org.id}


def _slip(client, vote_id: int) -> str:
    """A cadre reissues a household's slip (one that has not voted): its code, as printed."""
    auth = Auth(client)
    auth.login()
    page = client.get(f"/fund/votes/{vote_id}")
    assert page.status_code == 200
    household = re.findall(r'/fund/votes/\d+/reissue/(\d+)"', page.text)[-1]
    printed = client.post(
        f"/fund/votes/{vote_id}/reissue/{household}", data={"csrf_token": csrf_from(page.text)}
    )
    assert printed.status_code == 200 and "<svg" in printed.text
    assert printed.headers["Cache-Control"] == "no-store"
    auth.logout()
    return re.search(r'class="code">([0-9A-Z-]+)<', printed.text).group(1)


def test_the_public_fund_page(demo_app, client, fund):
    page = client.get("/p/jinhui/fund?lang=en")
    assert page.status_code == 200 and len(page.data) < 50_000
    assert "小区路灯维修" in page.text and "健身器材更新" in page.text
    assert "7 of 200 households voted" in page.text
    assert "How the vote stays secret" in page.text and "<script" not in page.text
    assert not MOBILE.search(page.text)
    board = client.get("/p/jinhui?lang=en")
    assert "/p/jinhui/fund" in board.text
    printable = client.get("/p/jinhui/fund/print?lang=en")
    assert printable.status_code == 200 and "<svg" in printable.text
    with demo_app.app_context():
        lights = db.session.scalar(select(FundProject).where(FundProject.title == "小区路灯维修"))
        lights_id = lights.id
    shown = client.get(f"/p/jinhui/fund/projects/{lights_id}?lang=en")
    assert "¥3,200.00" in shown.text or "¥3200.00" in shown.text
    assert "representatives present" in shown.text and "LED 路灯灯具 12 套" in shown.text
    # Another community's slug does not show this project.
    assert client.get(f"/p/nowhere/fund/projects/{lights_id}").status_code == 404


def test_a_resident_votes_changes_the_vote_and_a_second_phone_is_refused(demo_app, client, fund):
    code = _slip(client, fund["vote"])
    url = f"/p/jinhui/fund/vote/{fund['vote']}"
    form = client.get(f"{url}?code={code}&lang=en")
    assert form.status_code == 200 and f'value="{code}"' in form.text
    token = csrf_from(form.text)
    cast = client.post(url, data={"csrf_token": token, "code": code, "choice": "against"})
    assert cast.status_code == 200 and "Your vote is counted" in cast.text
    assert "8 of 200 households voted" in cast.text
    changed = client.post(url, data={"csrf_token": token, "code": code, "choice": "for"})
    assert changed.status_code == 200 and "Your vote is changed" in changed.text
    assert "8 of 200 households voted" in changed.text
    # Another phone (no receipt cookie) with the same slip: refused.
    other = demo_app.test_client()
    page = other.get(f"{url}?lang=en")
    again = other.post(
        url, data={"csrf_token": csrf_from(page.text), "code": code, "choice": "against"}
    )
    assert again.status_code == 409 and "already voted" in again.text
    for guess in ("1234", "0000-0000-0000", "<script>"):
        wrong = other.post(
            url, data={"csrf_token": csrf_from(page.text), "code": guess, "choice": "for"}
        )
        assert wrong.status_code == 422
    with demo_app.app_context():
        tally = dict.fromkeys(ballots.CHOICES, 0)
        vote = db.session.get(FundVote, fund["vote"])
        tally.update(ballots._tally(vote))
        assert tally == {"for": 5, "against": 2, "abstain": 1}


def test_the_vote_closes_on_time_and_spending_above_the_budget_is_refused(demo_app, client, fund):
    with demo_app.app_context():
        after = fund["closes"] + timedelta(minutes=1)
        assert f"fund vote {fund['vote']} closed: approved" in ticks.run(after)
        db.session.commit()
    code_page = client.get(f"/p/jinhui/fund/vote/{fund['vote']}?lang=en")
    assert "The vote is closed" in code_page.text and "Approved" in code_page.text
    demo_app.config["CLOCK"] = FixedClock(fund["closes"] + timedelta(hours=1))
    auth = Auth(client)
    auth.login()
    page = client.get(f"/fund/projects/{fund['gym']}?lang=en")
    assert page.status_code == 200 and "Record an expense on this project" in page.text
    with demo_app.app_context():
        today = now().date().isoformat()
    over = client.post(
        f"/fund/projects/{fund['gym']}/expense?lang=en",
        data={
            "csrf_token": csrf_from(page.text),
            "amount": "8000.01",
            "spent_on": today,
            "description": "健身器材",
            "paid_from": "bank",
        },
    )
    assert over.status_code == 422
    assert "new deliberation" in over.text and "¥8,000.00" in over.text.replace(
        "¥8000.00", "¥8,000.00"
    )
    public = client.get("/p/jinhui/fund?lang=en")
    assert "Approved" in public.text


def test_a_resident_proposes_and_a_cadre_publishes(demo_app, client, fund):
    page = client.get("/p/jinhui/fund/propose?lang=en")
    sent = client.post(
        "/p/jinhui/fund/propose?lang=en",
        data={
            "csrf_token": csrf_from(page.text),
            "title": "市场东口增设长椅",
            "place": "东口公交站旁",
            "reason": "老人等车没有地方坐",
            "budget": "1500",
        },
    )
    assert sent.status_code == 200 and "Your proposal was received" in sent.text
    assert "市场东口增设长椅" not in client.get("/p/jinhui/fund").text  # not yet published
    bad = client.post(
        "/p/jinhui/fund/propose?lang=en",
        data={"csrf_token": csrf_from(page.text), "title": "", "budget": "abc"},
    )
    assert bad.status_code in (400, 422)
    Auth(client).login()
    with demo_app.app_context():
        p = db.session.scalar(select(FundProject).where(FundProject.title == "市场东口增设长椅"))
        assert p.state == "proposed" and p.proposed_by_id is None
        pid = p.id
    detail = client.get(f"/fund/projects/{pid}")
    done = client.post(f"/fund/projects/{pid}/publish", data={"csrf_token": csrf_from(detail.text)})
    assert done.status_code == 303
    assert "市场东口增设长椅" in client.get("/p/jinhui/fund").text


def test_guessing_codes_is_rate_limited_per_address(demo_app, client, fund):
    demo_app.config["FUND_VOTE_LIMIT"] = "3/minute"
    url = f"/p/jinhui/fund/vote/{fund['vote']}"
    token = csrf_from(client.get(url).text)
    answers = [
        client.post(url, data={"csrf_token": token, "code": "0000-0000-0000", "choice": "for"})
        for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [422, 422, 422, 429]
