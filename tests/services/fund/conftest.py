import io
from datetime import timedelta

import pytest
from PIL import Image

from market.services.fund import ballots, decisions, projects
from tests.ledger_helpers import NOW, community


@pytest.fixture
def w(ctx):
    return community()


def photo():
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buf, format="JPEG")
    buf.seek(0)
    return buf


def new_project(w, budget_fen=320_000, title="小区路灯维修", publish=True):
    p = projects.create_project(
        w["org"],
        w["cadre"],
        title=title,
        place="3栋到5栋之间的路灯",
        reason="晚上太黑，老人走路不安全",
        budget_fen=budget_fen,
        at=NOW,
    )
    if publish:
        projects.publish(p, w["cadre"], at=NOW)
    return p


def approved(w, budget_fen=320_000):
    p = new_project(w, budget_fen)
    decisions.record_meeting(
        p,
        w["cadre"],
        held_on=NOW.date(),
        total=30,
        present=25,
        votes_for=20,
        votes_against=3,
        votes_abstain=2,
        at=NOW,
    )
    assert p.state == "approved"
    return p


def open_ballot(w, households="1-1-101 1-1-102 1-1-201 1-1-202", hours=48):
    p = new_project(w, 800_000, "健身器材更新")
    ballots.register_households(w["org"], w["cadre"], households, at=NOW)
    vote = ballots.open_vote(p, w["cadre"], closes_at=NOW + timedelta(hours=hours), at=NOW)
    slips = ballots.issue_slips(vote, w["cadre"], at=NOW)
    return p, vote, slips
