"""Stall draws in the demo: a finished round over four stalls of zone A (熟食) for this month,
drawn with its public proof (six food vendors applied, one a confirmed veteran in the priority
group), and a round over four goods stalls of zone C for next month, open for applications.
Loaded through the services with the clock set back, once."""

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import DrawRound, User, Vendor, VendorStatus
from ..services.auth import accounts
from ..services.common import clock
from ..services.draws import applications, drawing, rounds
from ..services.sessions.plan import local_today

FINISHED = "熟食区固定摊位（本月）"
OPEN = "百货区固定摊位（下月）"
# phone, name, relief: food vendors who apply for the cooked-food stalls
FOOD_VENDORS = [
    ("13800000031", "李桂芳", None),
    ("13800000032", "陈志明", None),
    ("13800000033", "黄秀英", "veteran"),
    ("13800000034", "刘德胜", None),
    ("13800000035", "杨小红", None),
    ("13800000036", "马建国", None),
]
PREFERENCES = [["A-12"], ["A-12", "A-11"], [], ["A-14"], ["A-11"], []]


def _food_vendors(org, demo_password: str, now: datetime) -> list[Vendor]:
    found = []
    for phone, name, relief in FOOD_VENDORS:
        user = accounts.user_by_phone(phone) or accounts.create_user(
            phone, name, demo_password, check_strength=False
        )
        db.session.flush()
        accounts.grant_role(user, org, "vendor")
        vendor = db.session.scalar(select(Vendor).where(Vendor.user_id == user.id))
        if vendor is None:
            vendor = Vendor(
                organization_id=org.id,
                user_id=user.id,
                status=VendorStatus.APPROVED,
                category="cooked_food",
                goods="凉粉、烧烤",
                sells_food=True,
                health_cert_no=f"川攀健2026-0{phone[-4:]}",
                health_cert_expires=(now + timedelta(days=300)).date(),
                relief_kind=relief,
                relief_status="confirmed" if relief else "none",
                rules_accepted_at=now,
                decided_at=now,
            )
            db.session.add(vendor)
        found.append(vendor)
    db.session.flush()
    return found


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def load_draws(org, market, demo_password: str) -> bool:
    if db.session.scalar(select(DrawRound.id).where(DrawRound.market_id == market.id)):
        return False
    cadre = db.session.scalar(select(User).where(User.phone == "13800000001"))
    now = clock.now().replace(second=0, microsecond=0)
    today = local_today(market, now)
    vendors = _food_vendors(org, demo_password, now - timedelta(days=4))
    # The finished round: announced four days ago, drawn yesterday, for this month.
    start = now - timedelta(days=4)
    finished = rounds.create_round(
        market,
        rounds.RoundInput(
            title=FINISHED,
            stall_codes=["A-11", "A-12", "A-13", "A-14"],
            period_start=today.replace(day=1),
            months=1,
            fee_fen=30_000,
            opens_at=start,
            closes_at=start + timedelta(days=2),
            draw_at=start + timedelta(days=3),
            priority_kinds=["low_income", "disability", "veteran"],
            quota_percent=25,
            ranked=True,
        ),
        actor=cadre,
        now=start,
    )
    for i, (vendor, prefs) in enumerate(zip(vendors, PREFERENCES, strict=True)):
        applications.apply(
            finished, vendor, prefs, actor=vendor.user, now=start + timedelta(hours=i + 1)
        )
    saved = current_app.config.get("CLOCK")
    try:
        drawing.tick(start + timedelta(days=2, minutes=1))  # the list frozen
        drawing.tick(start + timedelta(days=3, minutes=1))  # the draw
    finally:
        current_app.config["CLOCK"] = saved
    # The open round: goods stalls for next month, applications this week.
    upcoming = rounds.create_round(
        market,
        rounds.RoundInput(
            title=OPEN,
            stall_codes=["C-09", "C-10", "C-11", "C-12"],
            period_start=_next_month(today),
            months=1,
            fee_fen=20_000,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=6),
            draw_at=now + timedelta(days=7),
            quota_percent=20,
        ),
        actor=cadre,
        now=now,
    )
    for phone in ("13800000011", "13800000012"):
        vendor = db.session.scalar(
            select(Vendor).join(User, Vendor.user_id == User.id).where(User.phone == phone)
        )
        if vendor is not None and vendor.status == VendorStatus.APPROVED:
            applications.apply(upcoming, vendor, [], actor=vendor.user, now=now)
    return True
