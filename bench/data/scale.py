"""A busy evening at any size, for the scale benchmark: the demo market grown to `stalls`
stalls, a session open now, and most stalls taken by vendors with their charges and payments
(some paid in cash, some reported by collection code and waiting, some unpaid).

Vendors and their evening go in with bulk inserts: the benchmark times the pages that read
them, not the thousands of check-ins that made them."""

from datetime import timedelta

from sqlalchemy import func, insert, select

from bench.data import rush
from market.extensions import db
from market.models import Charge, CheckIn, Market, Payment, Stall, User, Vendor
from market.services.common.clock import now as clock_now

PHONE_PREFIX = "135"  # 135 0000 0001 …: never a demo, rush or year-data login


def _vendors(market, count: int) -> list[int]:
    """`count` approved goods vendors of the market's organization (no logins: nobody signs in
    as them), their ids in order."""
    have = db.session.scalar(select(func.count()).select_from(User).where(User.phone.like("135%")))
    if have < count:
        stamp = clock_now()
        db.session.execute(
            insert(User),
            [
                {
                    "phone": f"{PHONE_PREFIX}{n:08d}",
                    "name": f"夜市摊主{n}",
                    "password_hash": "!",  # no password: these vendors never log in
                    "created_at": stamp,
                }
                for n in range(have + 1, count + 1)
            ],
        )
        users = db.session.execute(
            select(User.id).where(User.phone.like(f"{PHONE_PREFIX}%")).order_by(User.phone)
        ).scalars()
        taken = set(db.session.scalars(select(Vendor.user_id)))
        db.session.execute(
            insert(Vendor),
            [
                {
                    "organization_id": market.organization_id,
                    "market_id": market.id,
                    "user_id": uid,
                    "status": "approved",
                    "category": "goods",
                    "goods": "百货",
                }
                for uid in users
                if uid not in taken
            ],
        )
    return list(
        db.session.scalars(
            select(Vendor.id)
            .join(User, User.id == Vendor.user_id)
            .where(User.phone.like(f"{PHONE_PREFIX}%"))
            .order_by(User.phone)
            .limit(count)
        )
    )


def evening(stalls: int, occupancy: float = 0.8, login_vendors: int = 0) -> dict:
    """The demo market with `stalls` stalls and a session open now, `occupancy` of its stalls
    taken (every tenth unpaid, every tenth waiting for a collection-code confirmation, the
    rest paid in cash), and `login_vendors` rush vendors (rush.rush_phone) with nothing yet.
    Returns the market, session and guide ids and the free stalls' QR tokens."""
    made = rush.prepare(stalls=stalls, vendors=login_vendors)
    market_id, session_id = made["market_id"], made["session_id"]
    market = db.session.get(Market, market_id)
    stall_ids = list(
        db.session.scalars(
            select(Stall.id)
            .where(Stall.market_id == market_id, Stall.status == "active")
            .order_by(Stall.code)
        )
    )
    taken = stall_ids[: int(len(stall_ids) * occupancy)]
    vendor_ids = _vendors(market, len(taken))
    guide_id = db.session.scalar(select(User.id).where(User.phone == "13800000002"))
    arrived = clock_now() - timedelta(minutes=5)
    next_id = {
        t: (db.session.scalar(select(func.max(t.id))) or 0) + 1 for t in (CheckIn, Charge, Payment)
    }
    checkins, charges, payments = [], [], []
    for n, (stall_id, vendor_id) in enumerate(zip(taken, vendor_ids, strict=True)):
        ci, ch = next_id[CheckIn] + n, next_id[Charge] + n
        checkins.append(
            {
                "id": ci,
                "market_id": market_id,
                "session_id": session_id,
                "stall_id": stall_id,
                "vendor_id": vendor_id,
                "state": "active",
                "arrived_at": arrived,
                "outside_geofence": n % 50 == 0,
                "created_at": arrived,
            }
        )
        charges.append(
            {
                "id": ch,
                "checkin_id": ci,
                "base_fen": 1000,
                "amount_fen": 1000,
                "created_at": arrived,
            }
        )
        if n % 10 == 0:
            continue  # unpaid
        pending = n % 10 == 1
        payments.append(
            {
                "id": next_id[Payment] + len(payments),
                "charge_id": ch,
                "method": "collection_code" if pending else "cash",
                "amount_fen": 1000,
                "status": "pending" if pending else "confirmed",
                "recorded_by_id": guide_id,
                "recorded_at": arrived,
                "confirmed_by_id": None if pending else guide_id,
                "confirmed_at": None if pending else arrived,
            }
        )
    for table, rows in ((CheckIn, checkins), (Charge, charges), (Payment, payments)):
        if rows:
            db.session.execute(insert(table.__table__), rows)
    _move_sequences()
    free = db.session.scalars(
        select(Stall.qr_token)
        .where(Stall.market_id == market_id, Stall.id.not_in(taken), Stall.status == "active")
        .order_by(Stall.code)
    ).all()
    return {"market_id": market_id, "session_id": session_id, "free_tokens": list(free)}


def _move_sequences() -> None:
    """PostgreSQL: the id sequences past the ids given here, so the services can insert."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for name in ("checkins", "charges", "payments"):
        db.session.execute(
            select(
                func.setval(
                    func.pg_get_serial_sequence(name, "id"),
                    select(
                        func.coalesce(func.max(db.metadata.tables[name].c.id), 1)
                    ).scalar_subquery(),
                )
            )
        )
