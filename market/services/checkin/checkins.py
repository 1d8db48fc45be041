"""Checking in at a stall: one vendor per stall and one stall per vendor in a session, one
charge per check-in, whatever the number of phones and retries. The database's unique indexes
decide races; this module turns their verdict into a clear answer with nearby free stalls."""

import math
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...models import (
    Charge,
    CheckIn,
    CheckInMove,
    CheckInState,
    MarketSession,
    MonthlyPass,
    Stall,
    StallStatus,
    User,
    Vendor,
    Zone,
)
from ...models.types import utcnow
from ..auth import access
from ..common import audit
from ..common.errors import Conflict, DomainError, Forbidden, NotFound
from ..fees import rules as fees
from ..fees.rules import Breakdown
from ..sessions import tide as sessions
from ..vendors import registry as vendors
from . import market_cache, payments, rows, stall_read

NEARBY = 4
EARTH_RADIUS_M = 6_371_000


class CheckInRefused(Conflict):
    """409 with the stalls the vendor could take instead."""

    def __init__(self, message, code, alternatives=(), **kw):
        super().__init__(message, code=code, **kw)
        self.alternatives = list(alternatives)

    @property
    def details(self) -> dict:
        """For the API: the stalls to offer instead (no tokens of others' stalls leak: these
        are free stalls whose posters hang in public anyway)."""
        return {
            "alternatives": [
                {"stall_id": s.id, "code": s.code, "zone": s.zone.code, "stall_token": s.qr_token}
                for s in self.alternatives
            ]
        }


class NotAllowedToTrade(DomainError):
    status = 403
    code = "not_allowed_to_trade"


class MarketClosed(DomainError):
    status = 409
    code = "market_closed"
    default_message = _l("The market is not open now.")


# --- reading the situation at a stall ----------------------------------------------------------


# Written out, not bound: SQLite (and PostgreSQL's generic plans) use the partial unique
# indexes on active check-ins only when the query's state is a literal.
ACTIVE = literal_column(f"'{CheckInState.ACTIVE}'")


def active_checkin(session: MarketSession, *, stall: Stall | None = None, vendor=None):
    query = select(CheckIn).where(CheckIn.session_id == session.id, CheckIn.state == ACTIVE)
    if stall is not None:
        query = query.where(CheckIn.stall_id == stall.id)
    if vendor is not None:
        query = query.where(CheckIn.vendor_id == vendor.id)
    return db.session.scalar(query)


def tonights(session: MarketSession, vendor: Vendor) -> CheckIn | None:
    """The vendor's check-in of this session: the active one, else the last checked out (they
    left and may come back: that check-in and its one charge resume, never a second fee)."""
    return db.session.scalar(
        select(CheckIn)
        .where(CheckIn.session_id == session.id, CheckIn.vendor_id == vendor.id)
        .order_by((CheckIn.state == CheckInState.ACTIVE).desc(), CheckIn.id.desc())
        .limit(1)
    )


def reserved_for(stall: Stall, session: MarketSession, now: datetime, held=fees.NO_PASS):
    """The monthly-pass holder this stall is held for, until the session's cutoff."""
    if session.cutoff_at is None or now >= session.cutoff_at:
        return None
    return fees.pass_on(stall, session) if held is fees.NO_PASS else held


def held_stall_ids(session: MarketSession, now: datetime) -> set[int]:
    """Stalls held for their monthly-pass holders right now (before the session's cutoff)."""
    if session.cutoff_at is None or now >= session.cutoff_at:
        return set()
    return set(
        db.session.scalars(
            select(MonthlyPass.stall_id).where(
                MonthlyPass.market_id == session.market_id,
                MonthlyPass.status == "active",
                MonthlyPass.valid_from <= session.business_date,
                MonthlyPass.valid_until >= session.business_date,
            )
        )
    )


def may_take(vendor: Vendor, zone: Zone) -> bool:
    """A zone takes the categories it lists (none listed: anyone): a goods vendor is not sent
    to the cooked-food row, whose fee and health rules are not theirs."""
    listed = {k for k in (zone.categories or "").split(",") if k}
    return zone.is_active and (not listed or vendor.category in listed)


def nearby_free(
    stall: Stall, session: MarketSession, now: datetime, limit: int = NEARBY, vendor=None
):
    """Free stalls of the same market by map distance, the same zone first (three queries,
    whatever the size of the market); with a vendor, only in zones that take what they sell."""
    taken = set(
        db.session.scalars(
            select(CheckIn.stall_id).where(
                CheckIn.session_id == session.id, CheckIn.state == CheckInState.ACTIVE
            )
        )
    ) | held_stall_ids(session, now)
    candidates = db.session.scalars(
        select(Stall).where(
            Stall.market_id == stall.market_id,
            Stall.status == StallStatus.ACTIVE,
            Stall.id != stall.id,
        )
    ).all()
    zones = None
    if vendor is not None:
        zones = {z.id for z in stall.market.zones if may_take(vendor, z)}
    free = [s for s in candidates if s.id not in taken and (zones is None or s.zone_id in zones)]
    free.sort(
        key=lambda s: (
            s.zone_id != stall.zone_id,
            math.hypot(s.grid_row - stall.grid_row, s.grid_col - stall.grid_col),
            s.code,
        )
    )
    return free[:limit]


@dataclass(frozen=True)
class Offer:
    """A free stall offered instead, priced as its own scan page prices it."""

    stall: Stall
    amount_fen: int
    power_fen: int = 0  # what electricity would add there (0: no outlet)


def offers(stall: Stall, session: MarketSession, vendor: Vendor, now: datetime) -> list[Offer]:
    """The stalls this vendor may take instead of `stall`, each with its fee tonight."""
    priced = []
    for other in nearby_free(stall, session, now, vendor=vendor):
        fee = fees.charge_for(other, session, vendor).amount_fen
        power = 0
        if other.has_power:
            power = fees.charge_for(other, session, vendor, uses_power=True).amount_fen - fee
        priced.append(Offer(other, fee, power))
    return priced


@dataclass
class Situation:
    """What a vendor scanning this stall is told. `kind` picks the page."""

    kind: str
    stall: Stall
    session: MarketSession | None = None
    status: sessions.MarketStatus | None = None
    reason: str | None = None  # why the vendor may not trade (vendors.can_trade codes)
    checkin: CheckIn | None = None  # the vendor's own check-in this session
    breakdown: Breakdown | None = None
    held_until: datetime | None = None
    alternatives: list[Offer] = field(default_factory=list)  # priced, for this vendor
    power_fen: int = 0  # what electricity adds tonight, shown beside its checkbox
    unpaid_fen: int = 0  # back tonight: what the earlier check-in still owes


def situation(stall: Stall, vendor: Vendor | None, now: datetime) -> Situation:
    status = sessions.market_status(stall.market, now)
    session = status.current
    if vendor is None:
        return Situation("anonymous", stall, session, status)
    if reason := vendors.can_trade(vendor, stall.market, now):
        return Situation("not_allowed", stall, session, status, reason=reason)
    if session is None:
        return Situation("closed", stall, None, status)
    own = earlier = tonights(session, vendor)
    if own is not None and own.state != CheckInState.ACTIVE:
        own = None
    if own is not None and own.stall_id == stall.id:
        return Situation("here", stall, session, status, checkin=own)
    if stall.status == StallStatus.DISABLED:
        alternatives = offers(stall, session, vendor, now)
        return Situation("disabled", stall, session, status, alternatives=alternatives)
    if active_checkin(session, stall=stall) is not None:
        alternatives = offers(stall, session, vendor, now)
        return Situation("taken", stall, session, status, checkin=own, alternatives=alternatives)
    held = reserved_for(stall, session, now)
    if held is not None and held.vendor_id != vendor.id:
        return Situation(
            "reserved",
            stall,
            session,
            status,
            held_until=session.cutoff_at,
            checkin=own,
            alternatives=offers(stall, session, vendor, now),
        )
    if own is None and earlier is not None:
        unpaid = payments.unpaid_fen(earlier.charge) if earlier.charge else 0
        return Situation("back", stall, session, status, checkin=earlier, unpaid_fen=unpaid)
    breakdown = fees.charge_for(stall, session, vendor)
    kind = "move" if own is not None else "free"
    power = 0
    if kind == "free" and stall.has_power:
        power = fees.charge_for(stall, session, vendor, uses_power=True).amount_fen
        power -= breakdown.amount_fen
    return Situation(
        kind, stall, session, status, checkin=own, breakdown=breakdown, power_fen=power
    )


# --- changing it -----------------------------------------------------------------------------


def _open_session(stall: Stall, now: datetime) -> MarketSession:
    session = sessions.current_session(stall.market_id, now)
    if session is None:
        raise MarketClosed()
    return session


def _refuse_taken(stall, session, now, vendor):
    return CheckInRefused(
        _l("Stall %(code)s is taken.", code=stall.code),
        "stall_taken",
        nearby_free(stall, session, now, vendor=vendor),
    )


def _check_stall(
    stall: Stall, session: MarketSession, vendor: Vendor, now: datetime, held=fees.NO_PASS
) -> None:
    if stall.status == StallStatus.DISABLED:
        raise CheckInRefused(
            _l(
                "Stall %(code)s is not in use: %(reason)s",
                code=stall.code,
                reason=stall.disabled_reason,
            ),
            "stall_disabled",
            nearby_free(stall, session, now, vendor=vendor),
        )
    held = reserved_for(stall, session, now, held)
    if held is not None and held.vendor_id != vendor.id:
        raise CheckInRefused(
            _l(
                "Stall %(code)s is held for its monthly-pass holder until the cutoff.",
                code=stall.code,
            ),
            "stall_reserved",
            nearby_free(stall, session, now, vendor=vendor),
        )


def distance_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance (haversine), good to a few metres at market scale."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def outside_geofence(stall: Stall, position: tuple[float, float] | None) -> bool:
    return _outside(stall.market, position)


def _outside(market, position: tuple[float, float] | None) -> bool:
    if position is None or market.geofence_radius_m is None or market.latitude is None:
        return False
    lat, lng = position
    return distance_m(lat, lng, market.latitude, market.longitude) > market.geofence_radius_m


def check_in(
    stall: Stall,
    vendor: Vendor,
    now: datetime,
    *,
    actor: User,
    position: tuple[float, float] | None = None,
    uses_power: bool = False,
    ip: str | None = None,
) -> CheckIn:
    """Put the vendor on the stall for the open session, with its charge. Doing it again for
    the same vendor and stall returns the same check-in (a retry is harmless). For callers
    holding ORM objects (a guide's phone, the demo); the pages and the API call `confirm`."""
    at = stall_read.at_stall(now, stall_id=stall.id, user_id=vendor.user_id)
    if at is None or at.vendor is None or at.vendor.id != vendor.id:
        return _check_in_in_full(stall, vendor, now, actor, position, uses_power, ip)
    done = confirm(at, now, actor=actor, position=position, uses_power=uses_power, ip=ip)
    return done.checkin or db.session.get(CheckIn, done.id)


def _check_in_in_full(stall, vendor, now, actor, position, uses_power, ip) -> CheckIn:
    """Every rule read through the ORM: the path for what the lean one leaves (a retry, a
    vendor back tonight, a stall taken, held or disabled, a refusal), with its messages."""
    if reason := vendors.can_trade(vendor, stall.market, now):
        raise NotAllowedToTrade(REFUSALS.get(reason, REFUSALS["not_approved"]), code=reason)
    session = _open_session(stall, now)
    own = tonights(session, vendor)
    if own is not None and own.state == CheckInState.ACTIVE:
        if own.stall_id == stall.id:
            return own
        raise CheckInRefused(
            _l("You already have stall %(code)s tonight. Move instead?", code=own.stall.code),
            "holds_other_stall",
        )
    held = fees.pass_on(stall, session)
    _check_stall(stall, session, vendor, now, held)
    if own is not None:  # checked out earlier tonight: back again
        return _resume(own, stall, session, now, actor=actor, ip=ip)
    breakdown = fees.charge_for(stall, session, vendor, uses_power, held)
    checkin_id = _insert(
        stall,
        stall.market,
        session.id,
        vendor,
        now,
        actor,
        outside_geofence(stall, position),
        breakdown,
        ip,
    )
    if checkin_id is None:
        return _lost_race(stall, session, vendor, now)
    return db.session.get(CheckIn, checkin_id)


# --- the lean path: one read (stall_read), the worker's market data, plain inserts ----------


@dataclass(frozen=True)
class Confirmed:
    """A check-in as `confirm` made it, built from what was inserted (no read after), or
    `checkin`, the ORM row, when the full path answered."""

    id: int
    market_id: int = 0
    session_id: int = 0
    stall_id: int = 0
    stall_code: str = ""
    vendor_id: int = 0
    arrived_at: datetime | None = None
    outside_geofence: bool = False
    breakdown: Breakdown | None = None
    checkin: CheckIn | None = None


def _market_data(at: stall_read.AtStall, now: datetime):
    return market_cache.market_data(at.market.id, at.market.data_version, now)


def _price(at, data, session, vendor, uses_power: bool = False) -> Breakdown:
    """`fees.charge_for` over the read and the cached rules."""
    rule = fees.rule_among(data.fee_rules, at.stall.zone_id, session.kind, session.starts_at)
    return fees.compute(
        rule.base_fen if rule else 0,
        rule.power_fen if rule else 0,
        uses_power and at.stall.has_power,
        fees.relief_among(data.relief_rules, vendor, session.starts_at),
        on_pass=at.pass_vendor_id is not None and at.pass_vendor_id == vendor.id,
    )


def _held_for_another(at, session, vendor, now: datetime) -> bool:
    """`reserved_for` over the read: a pass holder's stall until the session's cutoff."""
    if session.cutoff_at is None or now >= session.cutoff_at:
        return False
    return at.pass_vendor_id is not None and at.pass_vendor_id != vendor.id


def scan(at: stall_read.AtStall, now: datetime) -> Situation | None:
    """`situation` from the one read and the market's cached data, for what a rush meets
    (free, move, closed, not allowed, and anyone who is no vendor here); None when the full
    `situation` must decide (here, back, taken, held, disabled), or the cache disagrees."""
    data = _market_data(at, now)
    status = data.status(at.market, now)  # a broken timezone raises, as market_status does
    session = status.current
    if (session and session.id) != (at.session and at.session.id):
        market_cache.cache().entries.pop(at.market.id, None)
        return None
    stall, vendor, own = at.stall, at.vendor, at.own
    if vendor is None:
        return Situation("anonymous", stall, session, status)
    if reason := vendors.can_trade(vendor, at.market, now):
        return Situation("not_allowed", stall, session, status, reason=reason)
    if session is None:
        return Situation("closed", stall, None, status)
    if (
        (own is not None and (not own.is_active or own.stall_id == stall.id))
        or stall.status == StallStatus.DISABLED
        or at.taken_id is not None
        or _held_for_another(at, session, vendor, now)
    ):
        return None
    breakdown = _price(at, data, session, vendor)
    kind = "move" if own is not None else "free"
    power = 0
    if kind == "free" and stall.has_power:
        power = _price(at, data, session, vendor, uses_power=True).amount_fen - breakdown.amount_fen
    return Situation(
        kind, stall, session, status, checkin=own, breakdown=breakdown, power_fen=power
    )


def confirm(
    at: stall_read.AtStall,
    now: datetime,
    *,
    actor: User,
    position: tuple[float, float] | None = None,
    uses_power: bool = False,
    ip: str | None = None,
) -> Confirmed:
    """`check_in` for a stall and vendor read with stall_read: a first check-in of the evening
    on a free stall is one read before and three INSERTs (check-in, charge, audit); every
    other case goes the full way, with the same rules and messages."""
    vendor, session, stall = at.vendor, at.session, at.stall
    if (
        vendor is None
        or session is None
        or at.own is not None
        or at.taken_id is not None
        or stall.status == StallStatus.DISABLED
        or _held_for_another(at, session, vendor, now)
        or vendors.can_trade(vendor, at.market, now)
    ):
        full = _check_in_in_full(*_orm(at), now, actor, position, uses_power, ip)
        return Confirmed(full.id, checkin=full)
    breakdown = _price(at, _market_data(at, now), session, vendor, uses_power)
    outside = _outside(at.market, position)
    checkin_id = _insert(stall, at.market, session.id, vendor, now, actor, outside, breakdown, ip)
    if checkin_id is None:
        orm_stall, orm_vendor = _orm(at)
        lost = _lost_race(orm_stall, db.session.get(MarketSession, session.id), orm_vendor, now)
        return Confirmed(lost.id, checkin=lost)
    return Confirmed(
        checkin_id,
        market_id=stall.market_id,
        session_id=session.id,
        stall_id=stall.id,
        stall_code=stall.code,
        vendor_id=vendor.id,
        arrived_at=now,
        outside_geofence=outside,
        breakdown=breakdown,
    )


def _orm(at: stall_read.AtStall) -> tuple[Stall, Vendor | None]:
    stall = db.session.get(Stall, at.stall.id)
    return stall, (db.session.get(Vendor, at.vendor.id) if at.vendor else None)


def _insert(stall, market, session_id, vendor, now, actor, outside, breakdown, ip) -> int | None:
    """The check-in, its charge and the audit event, written by checkin.rows; None when a
    unique index gave the stall (or this vendor's evening) to another check-in first."""
    return rows.write(
        {
            "market_id": stall.market_id,
            "session_id": session_id,
            "stall_id": stall.id,
            "vendor_id": vendor.id,
            "state": CheckInState.ACTIVE,
            "arrived_at": now,
            "outside_geofence": outside,
            "checked_in_by_id": actor.id if actor.id != vendor.user_id else None,
            "created_at": utcnow(),
        },
        {
            "base_fen": breakdown.base_fen,
            "extras_fen": breakdown.extras_fen,
            "relief_fen": breakdown.relief_fen,
            "amount_fen": breakdown.amount_fen,
            "breakdown": ",".join(breakdown.lines),
            "created_at": utcnow(),
        },
        audit.row_of(
            "checkin.created",
            "checkins",
            actor_id=actor.id if actor.is_authenticated else None,
            organization_id=market.organization_id,
            ip=ip,
            stall=stall.code,
            amount_fen=breakdown.amount_fen,
            outside_geofence=outside,
        ),
    )


def _lost_race(stall: Stall, session: MarketSession, vendor: Vendor, now: datetime) -> CheckIn:
    """Another phone won the stall (or this vendor checked in elsewhere) a moment ago: the
    same vendor's other tap on this stall is the answer, anything else a refusal."""
    mine = active_checkin(session, vendor=vendor)
    if mine is not None and mine.stall_id == stall.id:
        return mine
    raise _refuse_taken(stall, session, now, vendor)


def _place(checkin: CheckIn, to: Stall, now: datetime, actor: User, *, back=False) -> bool:
    """Put the check-in on `to` (active again when the vendor is `back`), the move kept in
    its history; False when the unique indexes say another phone won the stall."""
    try:
        with db.session.begin_nested():
            if back:
                checkin.state, checkin.left_at = CheckInState.ACTIVE, None
                checkin.checked_out_by_id = None
            if to.id != checkin.stall_id:
                db.session.add(
                    CheckInMove(
                        checkin_id=checkin.id,
                        from_stall_id=checkin.stall_id,
                        to_stall_id=to.id,
                        moved_by_id=actor.id,
                        moved_at=now,
                    )
                )
                checkin.stall_id = to.id
            db.session.flush()
    except IntegrityError:
        db.session.refresh(checkin)
        return False
    db.session.expire(checkin, ["stall"])
    return True


def _moved(action: str, checkin: CheckIn, to: Stall, from_id: int, actor: User, ip) -> CheckIn:
    audit.record(
        action,
        checkin,
        actor=actor,
        organization_id=to.market.organization_id,
        ip=ip,
        to=to.code,
        from_stall_id=from_id,
    )
    return checkin


def _resume(checkin: CheckIn, stall: Stall, session, now: datetime, *, actor: User, ip=None):
    """The vendor is back tonight: their check-in is active again, on this stall (a move when
    it is another one), with the charge it already had."""
    from_id = checkin.stall_id
    if not _place(checkin, stall, now, actor, back=True):
        mine = active_checkin(session, vendor=checkin.vendor)
        if mine is not None and mine.stall_id == stall.id:
            return mine  # the same vendor's other tap won
        raise _refuse_taken(stall, session, now, checkin.vendor)
    return _moved("checkin.resumed", checkin, stall, from_id, actor, ip)


def move(checkin: CheckIn, to: Stall, now: datetime, *, actor: User, ip=None) -> CheckIn:
    """The same check-in on another stall of the market; the charge stays as it was made."""
    if checkin.state != CheckInState.ACTIVE:
        raise Conflict(_l("This check-in has ended."), code="checkin_ended")
    if to.market_id != checkin.market_id:
        raise NotFound()
    if to.id == checkin.stall_id:
        return checkin
    session = checkin.session
    _check_stall(to, session, checkin.vendor, now)
    from_id = checkin.stall_id
    if not _place(checkin, to, now, actor):
        raise _refuse_taken(to, session, now, checkin.vendor)
    return _moved("checkin.moved", checkin, to, from_id, actor, ip)


def check_out(checkin: CheckIn, now: datetime, *, actor: User, ip=None) -> CheckIn:
    if checkin.state != CheckInState.ACTIVE:
        return checkin  # leaving twice changes nothing
    checkin.state, checkin.left_at = CheckInState.CHECKED_OUT, max(now, checkin.arrived_at)
    checkin.checked_out_by_id = actor.id
    audit.record(
        "checkin.checked_out",
        checkin,
        actor=actor,
        organization_id=checkin.stall.market.organization_id,
        ip=ip,
    )
    return checkin


def checkin_for(user: User, checkin_id: int) -> CheckIn:
    """The vendor's own check-in, or one in a market the user works in; else 404."""
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None:
        raise NotFound()
    if checkin.vendor.user_id == user.id or access.can_guide_market(user, checkin.stall.market):
        return checkin
    raise NotFound()


def require_owner_or_staff(user: User, checkin: CheckIn) -> None:
    if checkin.vendor.user_id != user.id and not access.can_guide_market(
        user, checkin.stall.market
    ):
        raise Forbidden()


def recent_of(vendor: Vendor, limit: int = 5) -> list[CheckIn]:
    """The vendor's latest check-ins, newest first: the receipts their home page lists."""
    return list(
        db.session.scalars(
            select(CheckIn)
            .options(
                joinedload(CheckIn.stall),
                joinedload(CheckIn.session),
                joinedload(CheckIn.charge).selectinload(Charge.payments),
            )
            .where(CheckIn.vendor_id == vendor.id)
            .order_by(CheckIn.arrived_at.desc(), CheckIn.id.desc())
            .limit(limit)
        )
    )


def moves_of(checkin: CheckIn) -> list[CheckInMove]:
    return list(
        db.session.scalars(
            select(CheckInMove).where(CheckInMove.checkin_id == checkin.id).order_by(CheckInMove.id)
        )
    )


REFUSALS = {
    vendors.NOT_APPROVED: _l("Your registration has not been approved yet."),
    vendors.SUSPENDED: _l("Your trading is suspended. Please talk to the community office."),
    vendors.CERT_EXPIRED: _l("Your health certificate has expired. Renew it before selling food."),
    vendors.OTHER_ORGANIZATION: _l("You are not registered with this market's community."),
    "not_approved": _l("Your registration has not been approved yet."),
}
