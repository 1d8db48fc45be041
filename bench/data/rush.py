"""The opening rush, made on demand: the demo market scaled up, an evening session open now,
and approved vendors with known logins. Used by `make bench` and the load tests."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from market.demo.load import DEMO_PASSWORD, MARKET_SLUG
from market.extensions import db
from market.models import Market, MarketSession, Role, SessionState, Stall, Vendor, Zone
from market.services.auth import accounts
from market.services.common.clock import now as clock_now
from market.services.sessions import tide

RUSH_PHONE_PREFIX = "137"  # 137 0000 0001 … : never a demo or real login


def rush_phone(n: int) -> str:
    return f"{RUSH_PHONE_PREFIX}{n:08d}"


def add_stalls(market: Market, zone: Zone, total: int, prefix: str, first_row: int) -> None:
    """Stalls `<prefix>-000`… in rows of 30 from `first_row` down, until the market has
    `total`. Running it again adds only what is missing."""
    have = db.session.scalar(
        select(func.count()).select_from(Stall).where(Stall.market_id == market.id)
    )
    for n in range(have, total):
        db.session.add(
            Stall(
                market_id=market.id,
                zone_id=zone.id,
                code=f"{prefix}-{n:03d}",
                grid_row=first_row + n // 30,
                grid_col=n % 30,
            )
        )


def add_vendors(market: Market, count: int, phone_prefix: str, name: str) -> None:
    """Approved goods vendors `<phone_prefix>00000001`… with the demo password, those missing."""
    hash_ = None
    for n in range(1, count + 1):
        phone = f"{phone_prefix}{n:08d}"
        if accounts.user_by_phone(phone) is not None:
            continue
        user = accounts.create_user(phone, f"{name}{n}", DEMO_PASSWORD, check_strength=False)
        # One scrypt for all: the same password, the same cost, seconds instead of minutes.
        hash_ = hash_ or user.password_hash
        user.password_hash = hash_
        accounts.grant_role(user, market.organization, Role.VENDOR)
        db.session.add(
            Vendor(
                organization_id=market.organization_id,
                market_id=market.id,
                user=user,
                status="approved",
                category="goods",
                goods="百货",
            )
        )


def prepare(stalls: int, vendors: int, new_session: bool = False) -> dict:
    """At least `stalls` stalls and `vendors` approved vendors in the demo market, and a session
    open now. Idempotent: running it again adds only what is missing. `new_session` closes the
    open one first (as the scheduler would), so the same vendors can rush again: a bench round."""
    market = db.session.scalar(select(Market).where(Market.slug == MARKET_SLUG))
    zone = db.session.scalar(select(Zone).where(Zone.market_id == market.id, Zone.code == "C"))
    add_stalls(market, zone, stalls, "R", first_row=4)  # rows below the demo street
    add_vendors(market, vendors, RUSH_PHONE_PREFIX, "摊主")
    at = clock_now()
    session = db.session.scalar(
        select(MarketSession).where(
            MarketSession.market_id == market.id, MarketSession.state == SessionState.OPEN
        )
    )
    if session is not None and new_session:
        tide.end_session(tide.locked(session.id), at)
        session = None
    if session is None:
        start = at - timedelta(minutes=10)
        session = MarketSession(
            market=market,
            kind="night",
            is_manual=True,
            state=SessionState.OPEN,
            business_date=start.astimezone(ZoneInfo(market.timezone)).date(),
            starts_at=start,
            ends_at=at + timedelta(hours=4),
            opened_at=start,
        )
        db.session.add(session)
    db.session.flush()
    return {"market_id": market.id, "session_id": session.id}
