"""The governance fund in the demo: 200 households; 小区路灯维修 (¥3,200) approved by a
representatives' meeting, spent in two expenses with receipts and done; 健身器材更新 (¥8,000)
under a household vote that is open, with a few votes cast. Loaded through the services, once."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..extensions import db
from ..models import FundProject, User
from ..services.common import clock
from ..services.fund import ballots, decisions, money, projects
from ..services.ledger import entries as ledger
from ..services.ledger import expenses as ledger_expenses
from .activity import _receipt

LIGHTS = "小区路灯维修"
OPENING_FEN = 1_500_000
GYM = "健身器材更新"


def household_labels() -> list[str]:
    """10 buildings × 2 units × 5 floors × 2 doors = 200 households."""
    return [
        f"{b}-{u}-{f}0{d}"
        for b in range(1, 11)
        for u in (1, 2)
        for f in range(1, 6)
        for d in (1, 2)
    ]


def load_fund(org, market) -> bool:
    if db.session.scalar(
        select(FundProject.id).where(
            FundProject.organization_id == org.id, FundProject.title == LIGHTS
        )
    ):
        return False
    cadre = db.session.scalar(select(User).where(User.phone == "13800000001"))
    second = db.session.scalar(select(User).where(User.phone == "13800000006"))
    now = clock.now()
    today = ledger.org_today(org, now)
    ballots.register_households(org, cadre, " ".join(household_labels()), at=now)
    _opening_balance(org, cadre, now, today)
    _lights(org, cadre, second, now, today)
    _gym(org, market, cadre, now)
    return True


def _opening_balance(org, cadre, now, today):
    """What earlier years' closes set aside before the system was used: without it the demo's
    fund, which closes no month, would show the street lights' spending as a debt."""
    day = ledger.open_day(org.id, today - timedelta(days=20))
    ledger.post_fund_opening(org, cadre, day, OPENING_FEN, at=now)


def _lights(org, cadre, second, now, today):
    p = projects.create_project(
        org,
        cadre,
        title=LIGHTS,
        place="3 栋至 6 栋之间的小区道路，12 盏路灯",
        reason="路灯坏了大半，晚上老人回家看不清台阶，已有人摔倒。",
        budget_fen=320_000,
        at=now,
    )
    projects.publish(p, cadre, at=now)
    decisions.record_meeting(
        p,
        cadre,
        held_on=today - timedelta(days=10),
        total=30,
        present=24,
        votes_for=21,
        votes_against=2,
        votes_abstain=1,
        at=now,
    )
    day = ledger.open_day(org.id, today)
    for fen, what in ((180_000, "LED 路灯灯具 12 套"), (140_000, "路灯安装及线路维修人工")):
        e = money.record_project_expense(
            p,
            cadre,
            amount_fen=fen,
            spent_on=day,
            description=what,
            paid_from="bank",
            receipt=_receipt(),
            at=now,
        )
        if second is not None and e.state == "pending":
            ledger_expenses.approve_expense(e, second, at=now, acknowledge_negative=True)
    projects.finish(p, cadre, "12 盏路灯已全部换成 LED 灯并通电，线路已检修。", at=now)


def _gym(org, market, cadre, now):
    p = projects.create_project(
        org,
        cadre,
        title=GYM,
        place="社区小广场的健身器材（8 件）",
        reason="现有器材锈蚀松动，存在安全隐患，居民希望更换。",
        budget_fen=800_000,
        at=now,
    )
    projects.publish(p, cadre, at=now)
    tz = ZoneInfo(market.timezone)
    local_day = now.astimezone(tz).date() + timedelta(days=7)
    closes = datetime.combine(local_day, time(20, 0), tzinfo=tz)
    vote = ballots.open_vote(p, cadre, closes_at=closes, at=now)
    slips = ballots.issue_slips(vote, cadre, at=now)
    # A few households have voted (their codes are not kept: only their hashes are).
    for slip, choice in zip(
        slips[:7], ("for", "for", "against", "for", "abstain", "for", "against"), strict=True
    ):
        ballots.cast(vote, slip.code, choice, at=now)
