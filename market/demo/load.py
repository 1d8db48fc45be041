"""The demo community of INTERFACE.md: loaded by `flask market demo`, idempotent."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    FeeRule,
    Market,
    Organization,
    ReliefRule,
    Role,
    RoleGrant,
    SessionTemplate,
    Stall,
    User,
    Vendor,
    VendorStatus,
    Zone,
    utcnow,
)
from ..services.auth import accounts
from ..services.ledger import entries as ledger

ORG_NAME = "金汇社区股份经济合作社"
MARKET_SLUG = "jinhui"
DEMO_PASSWORD = "demo1234"  # noqa: S105  demo logins are printed in the README

# code, name, colour, categories, stall count, first grid column
ZONES = [
    ("A", "熟食", "#C2410C", "cooked_food,snacks", 14, 0),
    ("B", "果蔬", "#15803D", "produce,farmer", 14, 8),
    ("C", "百货", "#1D4ED8", "goods,clothing,toys", 12, 16),
]
RULES = (
    "1. 按划定摊位经营，不得占用消防通道和人行道。\n"
    "2. 开市前30分钟内入场，闭市后30分钟内清场，垃圾带走。\n"
    "3. 熟食摊位须持有效健康证，佩戴口罩和帽子。\n"
    "4. 明码标价，诚信经营，服从引导员管理。"
)
# zone code (None: every zone), session kind (None: every kind), base fee, electricity (fen)
FEES = [
    (None, None, 1000, 300),
    ("A", "night", 1500, 300),
    ("B", "morning", 800, 0),
]
# relief kind, percent off the base fee once a cadre confirms the claim
RELIEF = [
    ("low_income", 50),
    ("disability", 100),
    ("veteran", 50),
    ("poverty_alleviated", 50),
    ("farmer", 50),
]
# phone, name, role
STAFF = [
    ("13800000001", "张建国", Role.ADMIN),
    ("13800000002", "李秀英", Role.GUIDE),
]
# phone, name, status, category, goods, sells food
VENDORS = [
    ("13800000003", "王德华", VendorStatus.APPROVED, "cooked_food", "烧烤、炸洋芋", True),
    ("13800000004", "刘桂芳", VendorStatus.APPROVED, "goods", "袜子、手套、日用小百货", False),
    ("13800000005", "陈志强", VendorStatus.PENDING, "produce", "自家种的芒果、枇杷", False),
]


def _get_or_create(model, defaults=None, **keys):
    obj = db.session.scalar(select(model).filter_by(**keys))
    if obj is None:
        obj = model(**keys, **(defaults or {}))
        db.session.add(obj)
        db.session.flush()
    return obj


def _user(phone: str, name: str) -> User:
    user = accounts.user_by_phone(phone)
    if user is None:
        user = accounts.create_user(phone, name, DEMO_PASSWORD, check_strength=False)
        db.session.flush()
    return user


def load_demo(activity: bool = False) -> bool:
    """Create what is missing of the demo data. Returns True when anything was added.
    `activity`: also a few evenings of trade and their ledger (market.demo.activity)."""
    before = _row_count()
    org = _get_or_create(
        Organization,
        name=ORG_NAME,
        defaults={
            "short_name": "金汇社区",
            "contact_phone": "0812-3335566",
            "address": "四川省攀枝花市东区金汇社区服务中心",
        },
    )
    market = _get_or_create(
        Market,
        slug=MARKET_SLUG,
        defaults={
            "organization_id": org.id,
            "name": "金汇潮汐市场",
            "address": "金汇路（社区服务中心至农贸市场段）",
            "timezone": "Asia/Shanghai",
            "latitude": 26.5823,
            "longitude": 101.7186,
            "geofence_radius_m": 300,
            "rules_text": RULES,
            "public_notice": "每晚18:00开市，22:30闭市；周末早市06:00—08:30。",
        },
    )
    for sort, (code, name, color, categories, count, col0) in enumerate(ZONES):
        zone = _get_or_create(
            Zone,
            market_id=market.id,
            code=code,
            defaults={"name": name, "color": color, "categories": categories, "sort_order": sort},
        )
        per_row = (count + 1) // 2
        for i in range(count):
            # Two rows of stalls facing each other across the walkway (grid row 1).
            _get_or_create(
                Stall,
                market_id=market.id,
                code=f"{code}-{i + 1:02d}",
                defaults={
                    "zone_id": zone.id,
                    "grid_row": 0 if i < per_row else 2,
                    "grid_col": col0 + i % per_row,
                    "has_power": code == "A",
                },
            )
    every_day, weekend = 127, 32 | 64
    for name, kind, days, start, end in [
        ("夜市", "night", every_day, time(18, 0), time(22, 30)),
        ("周末早市", "morning", weekend, time(6, 0), time(8, 30)),
    ]:
        _get_or_create(
            SessionTemplate,
            market_id=market.id,
            name=name,
            defaults={
                "kind": kind,
                "weekdays": days,
                "start_local": start,
                "end_local": end,
                "cutoff_minutes": 30,
                "valid_from": date(2026, 1, 1),
            },
        )
    since = datetime(2026, 1, 1, tzinfo=UTC)
    zone_ids = {z.code: z.id for z in market.zones}
    for zone_code, kind, base, power in FEES:
        _get_or_create(
            FeeRule,
            market_id=market.id,
            zone_id=zone_ids.get(zone_code),
            session_kind=kind,
            defaults={"base_fen": base, "power_fen": power, "effective_from": since},
        )
    for relief_kind, percent in RELIEF:
        _get_or_create(
            ReliefRule,
            market_id=market.id,
            relief_kind=relief_kind,
            defaults={"percent_off": percent, "effective_from": since},
        )
    for phone, name, role in STAFF:
        user = _user(phone, name)
        accounts.grant_role(user, org, role, market=market if role == Role.GUIDE else None)
    for phone, name, status, category, goods, food in VENDORS:
        user = _user(phone, name)
        accounts.grant_role(user, org, Role.VENDOR)
        now = utcnow()
        _get_or_create(
            Vendor,
            organization_id=org.id,
            user_id=user.id,
            defaults={
                "status": status,
                "category": category,
                "goods": goods,
                "sells_food": food,
                "health_cert_no": "川攀健2026-018833" if food else None,
                "health_cert_expires": (now + timedelta(days=300)).date() if food else None,
                "rules_accepted_at": now,
                "decided_at": now if status == VendorStatus.APPROVED else None,
            },
        )
    db.session.flush()
    added = ledger.ensure_chart(org)
    if activity:
        from .activity import load_activity

        added = load_activity(org, market, DEMO_PASSWORD) or added
        from .area import load_area

        load_area(org, DEMO_PASSWORD)  # the street office and its second community
        from .fund import load_fund

        added = load_fund(org, market) or added  # the governance fund's projects and vote
        from .draws import load_draws

        added = load_draws(org, market, DEMO_PASSWORD) or added  # a drawn round, an open one
    return _row_count() != before or added


def _row_count() -> int:
    tables = (Organization, Market, Zone, Stall, SessionTemplate, User, Vendor, RoleGrant, FeeRule)
    return sum(db.session.scalar(select(func.count()).select_from(t)) for t in tables)
