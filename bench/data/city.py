"""A city's worth of markets for the city bench (bench/city.py) and its fault test: the demo
market scaled by `rush.prepare`, then more communities, each with one market laid out like the
demo's (zones, fee and relief rules, session templates), `stalls` stalls, `vendors` approved
vendors and a session open now.

Rows go in with SQLAlchemy Core, a statement per table for all markets (100 markets × 300
stalls and vendors: 120,000 rows in seconds, where ORM objects one by one took minutes); the
one exception is each community's chart of accounts, made by the ledger's own `ensure_chart`.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import insert, select, update
from werkzeug.security import generate_password_hash

from bench.data import rush
from market.demo import load as demo
from market.extensions import db
from market.models import (
    FeeRule,
    Market,
    MarketSession,
    Organization,
    ReliefRule,
    Role,
    RoleGrant,
    SessionState,
    SessionTemplate,
    Stall,
    User,
    Vendor,
    Zone,
    new_stall_token,
)
from market.services.common.clock import now as clock_now
from market.services.ledger import entries as ledger
from market.services.sessions import tide

SLUG = "city{:03d}"
TEMPLATES = [  # as the demo market's: every night, and weekend mornings
    ("夜市", "night", 127, time(18, 0), time(22, 30)),
    ("周末早市", "morning", 32 | 64, time(6, 0), time(8, 30)),
]


def vendor_phone(market_number: int, n: int) -> str:
    """13 + the market's number + the vendor's: 13002000001 … (the demo market keeps 137…)."""
    return f"13{market_number:03d}{n:06d}"


def _ids(model, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    table = model.__table__
    query = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(db.session.connection().scalars(query, rows))


def _put(model, rows: list[dict]) -> None:
    # Plain executemany (psycopg pipelines it): 5 × quicker here than RETURNING's batches.
    if rows:
        db.session.connection().execute(insert(model.__table__), rows)


def _communities(numbers: list[int], now: datetime) -> tuple[list[int], list[int]]:
    orgs = _ids(
        Organization,
        [
            {"name": f"城区第{i:03d}社区股份经济合作社", "short_name": f"第{i:03d}社区",
             "created_at": now}
            for i in numbers
        ],
    )  # fmt: skip
    markets = _ids(
        Market,
        [
            {"organization_id": org, "name": f"第{i:03d}社区潮汐市场", "slug": SLUG.format(i),
             "timezone": "Asia/Shanghai", "rules_text": demo.RULES, "created_at": now}
            for i, org in zip(numbers, orgs, strict=True)
        ],
    )  # fmt: skip
    return orgs, markets


def _layout(market_id: int, since: datetime) -> dict[str, list[dict]]:
    """The rows of one market that don't depend on ids made in the same batch."""
    return {
        "templates": [
            {"market_id": market_id, "name": name, "kind": kind, "weekdays": days,
             "start_local": start, "end_local": end, "cutoff_minutes": 30,
             "valid_from": date(2026, 1, 1), "created_at": since}
            for name, kind, days, start, end in TEMPLATES
        ],
        "relief": [
            {"market_id": market_id, "relief_kind": kind, "percent_off": pct,
             "effective_from": since, "created_at": since}
            for kind, pct in demo.RELIEF
        ],
    }  # fmt: skip


def _zones_and_fees(market_ids: list[int], since: datetime) -> dict[int, int]:
    """The demo's zones and fee rules in every market; returns market id → zone C's id."""
    rows = [
        {"market_id": m, "code": code, "name": name, "color": color, "categories": cats,
         "sort_order": sort, "is_active": True}
        for m in market_ids
        for sort, (code, name, color, cats, _count, _col) in enumerate(demo.ZONES)
    ]  # fmt: skip
    zone_ids = _ids(Zone, rows)
    by_code = {(r["market_id"], r["code"]): z for r, z in zip(rows, zone_ids, strict=True)}
    _put(
        FeeRule,
        [
            {"market_id": m, "zone_id": by_code.get((m, zone)), "session_kind": kind,
             "base_fen": base, "power_fen": power, "effective_from": since, "created_at": since}
            for m in market_ids
            for zone, kind, base, power in demo.FEES
        ],
    )  # fmt: skip
    return {m: by_code[(m, "C")] for m in market_ids}


def _stalls(zone_c: dict[int, int], count: int, now: datetime) -> None:
    _put(
        Stall,
        [
            {"market_id": m, "zone_id": zone, "code": f"S-{n:03d}", "grid_row": n // 30,
             "grid_col": n % 30, "qr_token": new_stall_token(), "status": "active",
             "width_cm": 200, "depth_cm": 200, "has_power": False, "grid_w": 1, "grid_h": 1,
             "created_at": now}
            for m, zone in zone_c.items()
            for n in range(count)
        ],
    )  # fmt: skip


def _vendors(places: list[tuple[int, int, int]], count: int, now: datetime) -> None:
    """`count` approved goods vendors per (number, org, market), one password hash for all."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    password = generate_password_hash(demo.DEMO_PASSWORD, method=method)
    people = [(i, org, m, n) for i, org, m in places for n in range(1, count + 1)]
    _put(
        User,
        [
            {"phone": vendor_phone(i, n), "name": f"摊主{i:03d}-{n}", "password_hash": password,
             "is_active": True, "token_version": 0, "created_at": now}
            for i, _org, _m, n in people
        ],
    )  # fmt: skip
    phones = [vendor_phone(i, n) for i, _org, _m, n in people]
    by_phone = {}
    for start in range(0, len(phones), 5000):
        chunk = phones[start : start + 5000]
        by_phone.update(
            db.session.execute(select(User.phone, User.id).where(User.phone.in_(chunk))).all()
        )
    users = [by_phone[p] for p in phones]
    _put(
        RoleGrant,
        [
            {"user_id": u, "organization_id": org, "role": Role.VENDOR, "created_at": now}
            for u, (_i, org, _m, _n) in zip(users, people, strict=True)
        ],
    )
    _put(
        Vendor,
        [
            {"organization_id": org, "user_id": u, "market_id": m, "status": "approved",
             "category": "goods", "goods": "百货", "sells_food": False, "relief_status": "none",
             "rules_accepted_at": now, "decided_at": now, "created_at": now}
            for u, (_i, org, m, _n) in zip(users, people, strict=True)
        ],
    )  # fmt: skip


def _open_sessions(market_ids: list[int], at: datetime) -> None:
    start = at - timedelta(minutes=10)
    day = start.astimezone(ZoneInfo("Asia/Shanghai")).date()
    _put(
        MarketSession,
        [
            {"market_id": m, "kind": "night", "is_manual": True, "state": SessionState.OPEN,
             "business_date": day, "starts_at": start, "ends_at": at + timedelta(hours=4),
             "opened_at": start, "created_at": at}
            for m in market_ids
        ],
    )  # fmt: skip


def prepare(markets: int, stalls: int, vendors: int) -> list[int]:
    """`markets` markets in all (the demo market first), each with `stalls` stalls, `vendors`
    approved vendors and a session open now. Returns the market ids, the demo market first.
    Markets already made are kept, so running it again adds only what is missing."""
    first = rush.prepare(stalls, vendors)["market_id"]
    made = set(db.session.scalars(select(Market.slug).where(Market.slug.like("city%"))))
    numbers = [i for i in range(2, markets + 1) if SLUG.format(i) not in made]
    now = clock_now()
    since = datetime(2026, 1, 1, tzinfo=UTC)
    orgs, market_ids = _communities(numbers, now)
    layouts = [_layout(m, since) for m in market_ids]
    for key, model in (("templates", SessionTemplate), ("relief", ReliefRule)):
        rows = [row for layout in layouts for row in layout[key]]
        _put(model, rows)
    if market_ids:
        _stalls(_zones_and_fees(market_ids, since), stalls, now)
        _vendors(list(zip(numbers, orgs, market_ids, strict=True)), vendors, now)
        _open_sessions(market_ids, now)
    for org in db.session.scalars(select(Organization).where(Organization.id.in_(orgs))):
        ledger.ensure_chart(org)
    db.session.flush()
    city = db.session.scalars(
        select(Market.id).where(Market.slug.like("city%")).order_by(Market.id)
    ).all()
    return [first, *city[: markets - 1]]


def rushers(market_id: int, count: int) -> list[tuple[str, str]]:
    """(phone, scan path) of the market's first `count` rush vendors and stalls, in pairs."""
    slug = db.session.scalar(select(Market.slug).where(Market.id == market_id))
    prefix = rush.RUSH_PHONE_PREFIX if slug == demo.MARKET_SLUG else f"13{int(slug[4:]):03d}"
    phones = db.session.scalars(
        select(User.phone)
        .join(Vendor, Vendor.user_id == User.id)
        .where(Vendor.market_id == market_id, User.phone.like(f"{prefix}%"))
        .order_by(User.phone)
        .limit(count)
    ).all()
    tokens = db.session.scalars(
        select(Stall.qr_token).where(Stall.market_id == market_id).order_by(Stall.id).limit(count)
    ).all()
    return [(phone, f"/s/{token}") for phone, token in zip(phones, tokens, strict=True)]


def new_sessions(market_ids: list[int]) -> list[int]:
    """Close each market's open session (as the scheduler would) and open another, so that
    the same vendors can rush again: a bench round. Returns the new sessions' ids."""
    at = clock_now()
    start = at - timedelta(minutes=10)
    made = []
    for market_id in market_ids:
        open_ids = db.session.scalars(
            select(MarketSession.id).where(
                MarketSession.market_id == market_id, MarketSession.state == SessionState.OPEN
            )
        ).all()
        for session_id in open_ids:
            tide.end_session(tide.locked(session_id), at)
        session = MarketSession(
            market_id=market_id,
            kind="night",
            is_manual=True,
            state=SessionState.OPEN,
            business_date=start.astimezone(ZoneInfo("Asia/Shanghai")).date(),
            starts_at=start,
            ends_at=at + timedelta(hours=4),
            opened_at=start,
        )
        db.session.add(session)
        # What app processes cache per market is checked against this version.
        db.session.execute(
            update(Market)
            .where(Market.id == market_id)
            .values(data_version=Market.data_version + 1)
        )
        db.session.flush()
        made.append(session.id)
    return made
