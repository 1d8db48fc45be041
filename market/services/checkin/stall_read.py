"""Everything a vendor's scan or confirm needs about one stall tonight, in one statement: the
stall, its zone and market (with the market's data version), the vendor record of the user in
the market's organization, the session open now, the vendor's check-in of that session (the
active one, else the last), whether another check-in holds the stall, the stall's monthly
pass, and the stored answer of an idempotency key. The rest (hours, sessions ahead, fee and
relief rules) comes from the worker's market_cache.

Rows are small frozen dataclasses, not ORM objects: nothing is loaded twice, nothing flushed.
The statements are built once; SQLAlchemy compiles each once per dialect and caches it."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, bindparam, case, literal_column, or_, select

from ...extensions import db
from ...models import (
    CheckIn,
    CheckInState,
    IdempotencyRecord,
    Market,
    MarketSession,
    MonthlyPass,
    SessionState,
    Stall,
    Vendor,
    Zone,
)
from .market_cache import SessionRow


@dataclass(frozen=True)
class StallRow:
    id: int
    market_id: int
    zone_id: int
    code: str
    has_power: bool
    grid_row: int
    grid_col: int
    status: str
    disabled_reason: str | None
    qr_token: str


@dataclass(frozen=True)
class ZoneRow:
    id: int
    code: str
    name: str
    color: str
    categories: str
    is_active: bool


@dataclass(frozen=True)
class MarketRow:
    id: int
    organization_id: int
    name: str
    slug: str
    address: str | None
    timezone: str
    latitude: float | None
    longitude: float | None
    geofence_radius_m: int | None
    is_active: bool
    data_version: int


@dataclass(frozen=True)
class VendorRow:
    id: int
    organization_id: int
    user_id: int
    status: str
    category: str
    sells_food: bool
    health_cert_expires: date | None
    relief_kind: str | None
    relief_status: str


@dataclass(frozen=True)
class OwnStall:
    code: str


@dataclass(frozen=True)
class OwnCheckIn:
    """The vendor's check-in of the session (what the move page names: `.stall.code`)."""

    id: int
    stall_id: int
    state: str
    stall: OwnStall

    @property
    def is_active(self) -> bool:
        return self.state == CheckInState.ACTIVE


@dataclass(frozen=True)
class Stored:
    request_hash: str
    status: int
    body: str


@dataclass(frozen=True)
class AtStall:
    stall: StallRow
    zone: ZoneRow
    market: MarketRow
    vendor: VendorRow | None
    session: SessionRow | None  # open now
    own: OwnCheckIn | None  # the vendor's check-in of that session
    taken_id: int | None  # an active check-in on this stall
    pass_vendor_id: int | None  # the holder of the stall's monthly pass that day
    stored: Stored | None  # the first answer of the idempotency key given


def _fields(table, row_type):
    return [table.c[name] for name in row_type.__dataclass_fields__]


def _build():
    # Core tables, not ORM entities: the rows are read as plain tuples, and the statement
    # skips the ORM's per-execution setup.
    stalls, zones, markets = Stall.__table__, Zone.__table__, Market.__table__
    vendors, checkins, sessions = Vendor.__table__, CheckIn.__table__, MarketSession.__table__
    passes, ir = MonthlyPass.__table__, IdempotencyRecord.__table__
    cur, own, own_stall = sessions.alias("cur"), checkins.alias("own"), stalls.alias("own_stall")
    now = bindparam("now")
    current = (
        select(sessions.c.id)
        .where(
            sessions.c.market_id == stalls.c.market_id,
            sessions.c.ends_at > now,
            or_(
                sessions.c.state == SessionState.OPEN,
                and_(sessions.c.state == SessionState.SCHEDULED, sessions.c.starts_at <= now),
            ),
        )
        .order_by(sessions.c.starts_at, sessions.c.id)
        .limit(1)
        .correlate(stalls)
        .scalar_subquery()
    )
    tonights = (
        select(checkins.c.id)
        .where(checkins.c.session_id == cur.c.id, checkins.c.vendor_id == vendors.c.id)
        .order_by(case((checkins.c.state == CheckInState.ACTIVE, 0), else_=1), checkins.c.id.desc())
        .limit(1)
        .correlate(cur, vendors)
        .scalar_subquery()
    )
    # Joined, not scalar subqueries in the column list: SQLite ran those ten times slower.
    taken = checkins.alias("taken")
    held = passes.alias("held")
    holder = (
        select(passes.c.id)
        .where(
            passes.c.stall_id == stalls.c.id,
            passes.c.status == "active",
            passes.c.valid_from <= cur.c.business_date,
            passes.c.valid_until >= cur.c.business_date,
        )
        .order_by(passes.c.id)
        .limit(1)
        .correlate(cur, stalls)
        .scalar_subquery()
    )
    query = (
        select(
            *_fields(stalls, StallRow),
            *_fields(zones, ZoneRow),
            *_fields(markets, MarketRow),
            *_fields(vendors, VendorRow),
            *_fields(cur, SessionRow),
            own.c.id,
            own.c.stall_id,
            own.c.state,
            own_stall.c.code,
            taken.c.id,
            held.c.vendor_id,
            ir.c.request_hash,
            ir.c.response_status,
            ir.c.response_body,
        )
        .select_from(stalls)
        .join(zones, zones.c.id == stalls.c.zone_id)
        .join(markets, markets.c.id == stalls.c.market_id)
        .outerjoin(
            vendors,
            and_(
                vendors.c.user_id == bindparam("user_id"),
                vendors.c.organization_id == markets.c.organization_id,
            ),
        )
        .outerjoin(cur, cur.c.id == current)
        .outerjoin(own, own.c.id == tonights)
        .outerjoin(own_stall, own_stall.c.id == own.c.stall_id)
        .outerjoin(
            taken,
            and_(
                taken.c.session_id == cur.c.id,
                taken.c.stall_id == stalls.c.id,
                # One at most: uq_checkins_active_stall, a partial index SQLite uses only
                # when the state is written out, not bound (ten times slower otherwise).
                taken.c.state == literal_column(f"'{CheckInState.ACTIVE}'"),
            ),
        )
        .outerjoin(held, held.c.id == holder)
        .outerjoin(
            ir,
            and_(
                ir.c.user_id == bindparam("user_id"),
                ir.c.scope == bindparam("scope"),
                ir.c.key == bindparam("key"),
            ),
        )
    )
    return (
        query.where(stalls.c.qr_token == bindparam("token")),
        query.where(stalls.c.id == bindparam("stall_id")),
    )


BY_TOKEN, BY_ID = _build()
SPANS = [len(t.__dataclass_fields__) for t in (StallRow, ZoneRow, MarketRow, VendorRow, SessionRow)]


def at_stall(
    now: datetime,
    *,
    token: str | None = None,
    stall_id: int | None = None,
    user_id: int | None = None,
    replay: tuple[str, str] | None = None,
) -> AtStall | None:
    """The stall by its poster's token or its id, as the user finds it at `now`; None for no
    such stall (the caller says why: unknown, or a replaced poster)."""
    scope, key = replay or (None, None)
    params = {"now": now, "user_id": user_id, "scope": scope, "key": key}
    db.session.flush()  # what this request added is read too (a Core statement won't flush)
    conn = db.session.connection()
    if token is not None:
        row = conn.execute(BY_TOKEN, {**params, "token": token}).first()
    else:
        row = conn.execute(BY_ID, {**params, "stall_id": stall_id}).first()
    if row is None:
        return None
    parts, at = [], 0
    for span in SPANS:
        parts.append(row[at : at + span])
        at += span
    stall, zone, market, vendor, session = parts
    own_id, own_stall_id, own_state, own_code, taken, held, digest, status, body = row[at:]
    return AtStall(
        stall=StallRow(*stall),
        zone=ZoneRow(*zone),
        market=MarketRow(*market),
        vendor=VendorRow(*vendor) if vendor[0] is not None else None,
        session=SessionRow(*session) if session[0] is not None else None,
        own=OwnCheckIn(own_id, own_stall_id, own_state, OwnStall(own_code))
        if own_id is not None
        else None,
        taken_id=taken,
        pass_vendor_id=held,
        stored=Stored(digest, status, body) if digest is not None else None,
    )
