"""The street office in the demo: 炳草岗街道 over 金汇 and a second community, 渡口, whose
morning market has a few mornings of trade made through the services, left as a busy office
leaves them: last month's mornings not reconciled, and one hand-over ¥25 short. So the
supervisor (13800000007) sees two flags raised honestly."""

from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import (
    FeeRule,
    LedgerEntry,
    Market,
    Organization,
    Role,
    SessionTemplate,
    Stall,
    Vendor,
    VendorStatus,
    Zone,
)
from ..services.areas import membership
from ..services.auth import accounts
from ..services.common import clock
from ..services.ledger import entries as ledger
from .activity import _days, _evening, _handover

AREA_NAME = "炳草岗街道"
ORG_NAME = "渡口社区股份经济合作社"
SUPERVISOR = ("13800000007", "钟监督")
STAFF = [("13800000008", "渡口干部", Role.CADRE), ("13800000009", "渡口引导员", Role.GUIDE)]
VENDORS = [
    (f"138000000{n}", name) for n, name in zip(range(21, 29), "甲乙丙丁戊己庚辛", strict=True)
]
SHORT_FEN = 2500


def _get_or_create(model, defaults=None, **keys):
    obj = db.session.scalar(select(model).filter_by(**keys))
    if obj is None:
        obj = model(**keys, **(defaults or {}))
        db.session.add(obj)
        db.session.flush()
    return obj


def _user(phone, name, password):
    user = accounts.user_by_phone(phone) or accounts.create_user(
        phone, name, password, check_strength=False
    )
    db.session.flush()
    return user


def load_area(jinhui: Organization, password: str) -> None:
    area = membership.create_area(AREA_NAME)
    org = _get_or_create(
        Organization,
        name=ORG_NAME,
        defaults={"short_name": "渡口社区", "address": "四川省攀枝花市东区渡口社区"},
    )
    for o in (jinhui, org):
        membership.attach(area, o)
    membership.grant_supervisor(_user(*SUPERVISOR, password), area)
    market = _get_or_create(
        Market,
        slug="dukou",
        defaults={
            "organization_id": org.id,
            "name": "渡口早市",
            "address": "渡口路菜市场外侧",
            "timezone": "Asia/Shanghai",
            "public_notice": "每天早上06:00开市，08:30闭市。",
        },
    )
    zone = _get_or_create(
        Zone,
        market_id=market.id,
        code="A",
        defaults={"name": "早市", "color": "#2b7a4b", "categories": "produce,goods"},
    )
    for i in range(20):
        _get_or_create(
            Stall,
            market_id=market.id,
            code=f"A-{i + 1:02d}",
            defaults={"zone_id": zone.id, "grid_row": 0 if i < 10 else 2, "grid_col": i % 10},
        )
    _get_or_create(
        SessionTemplate,
        market_id=market.id,
        name="早市",
        defaults={
            "kind": "morning",
            "weekdays": 127,
            "start_local": time(6, 0),
            "end_local": time(8, 30),
            "cutoff_minutes": 30,
            "valid_from": date(2026, 1, 1),
        },
    )
    _get_or_create(
        FeeRule,
        market_id=market.id,
        zone_id=None,
        session_kind=None,
        defaults={
            "base_fen": 1000,
            "power_fen": 0,
            "effective_from": datetime(2026, 1, 1, tzinfo=UTC),
        },
    )
    for phone, name, role in STAFF:
        accounts.grant_role(
            _user(phone, name, password), org, role, market=market if role == Role.GUIDE else None
        )
    for phone, name in VENDORS:
        user = _user(phone, f"渡口摊主{name}", password)
        accounts.grant_role(user, org, Role.VENDOR)
        _get_or_create(
            Vendor,
            organization_id=org.id,
            user_id=user.id,
            defaults={
                "status": VendorStatus.APPROVED,
                "category": "produce",
                "goods": "自家蔬菜",
                "sells_food": False,
                "rules_accepted_at": datetime(2026, 1, 1, tzinfo=UTC),
                "decided_at": datetime(2026, 1, 1, tzinfo=UTC),
            },
        )
    db.session.flush()
    ledger.ensure_chart(org)
    if not db.session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.organization_id == org.id).limit(1)
    ):
        real_clock = current_app.config.get("CLOCK")
        try:
            _mornings(org, market)
        finally:
            current_app.config["CLOCK"] = real_clock


def _mornings(org, market) -> None:
    today = ledger.org_today(org, clock.now())
    guide = accounts.user_by_phone(STAFF[1][0])
    cadre = accounts.user_by_phone(STAFF[0][0])
    template = db.session.scalar(
        select(SessionTemplate).where(SessionTemplate.market_id == market.id)
    )
    vendors = list(
        db.session.scalars(
            select(Vendor).where(Vendor.organization_id == org.id).order_by(Vendor.id)
        )
    )
    stalls = list(
        db.session.scalars(select(Stall).where(Stall.market_id == market.id).order_by(Stall.id))
    )[: len(vendors)]
    for n, day in enumerate(_days(today)):
        session = _evening(market, template, day, stalls, vendors, guide, cadre)
        short = SHORT_FEN if n == 0 else 0  # counted ¥25 short, the first morning
        _handover(market, guide, cadre, session.ends_at + timedelta(minutes=30), short)
    db.session.flush()
