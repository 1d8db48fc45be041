"""Checking in at a stall: one vendor per stall and one stall per vendor in a session, one
charge per check-in, whatever the number of phones and retries. The database's unique indexes
decide races; this module turns their verdict into a clear answer with nearby free stalls."""

import math
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
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
)
from . import access, audit, fees, payments, sessions, vendors
from .errors import Conflict, DomainError, Forbidden, NotFound
from .fees import Breakdown

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


def active_checkin(session: MarketSession, *, stall: Stall | None = None, vendor=None):
    query = select(CheckIn).where(
        CheckIn.session_id == session.id, CheckIn.state == CheckInState.ACTIVE
    )
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


def nearby_free(stall: Stall, session: MarketSession, now: datetime, limit: int = NEARBY):
    """Free stalls of the same market by map distance, the same zone first (three queries,
    whatever the size of the market)."""
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
    free = [s for s in candidates if s.id not in taken]
    free.sort(
        key=lambda s: (
            s.zone_id != stall.zone_id,
            math.hypot(s.grid_row - stall.grid_row, s.grid_col - stall.grid_col),
            s.code,
        )
    )
    return free[:limit]


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
    alternatives: list[Stall] = field(default_factory=list)
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
    alternatives = nearby_free(stall, session, now)
    if stall.status == StallStatus.DISABLED:
        return Situation("disabled", stall, session, status, alternatives=alternatives)
    if active_checkin(session, stall=stall) is not None:
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
            alternatives=alternatives,
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


def _refuse_taken(stall, session, now):
    return CheckInRefused(
        _l("Stall %(code)s is taken.", code=stall.code),
        "stall_taken",
        nearby_free(stall, session, now),
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
            nearby_free(stall, session, now),
        )
    held = reserved_for(stall, session, now, held)
    if held is not None and held.vendor_id != vendor.id:
        raise CheckInRefused(
            _l(
                "Stall %(code)s is held for its monthly-pass holder until the cutoff.",
                code=stall.code,
            ),
            "stall_reserved",
            nearby_free(stall, session, now),
        )


def distance_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance (haversine), good to a few metres at market scale."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def outside_geofence(stall: Stall, position: tuple[float, float] | None) -> bool:
    market = stall.market
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
    the same vendor and stall returns the same check-in (a retry is harmless)."""
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
    checkin = CheckIn(
        market_id=stall.market_id,
        session_id=session.id,
        stall_id=stall.id,
        vendor_id=vendor.id,
        arrived_at=now,
        outside_geofence=outside_geofence(stall, position),
        checked_in_by_id=actor.id if actor.id != vendor.user_id else None,
    )
    try:
        with db.session.begin_nested():
            # One flush writes both rows (the charge follows through the relationship).
            checkin.charge = Charge(
                payments=[],  # known empty: the answer needs no query for them
                base_fen=breakdown.base_fen,
                extras_fen=breakdown.extras_fen,
                relief_fen=breakdown.relief_fen,
                amount_fen=breakdown.amount_fen,
                breakdown=",".join(breakdown.lines),
            )
            db.session.add(checkin)
            db.session.flush()
    except IntegrityError:
        # Another phone won the stall (or this vendor checked in elsewhere) a moment ago.
        mine = active_checkin(session, vendor=vendor)
        if mine is not None and mine.stall_id == stall.id:
            return mine
        raise _refuse_taken(stall, session, now) from None
    audit.record(
        "checkin.created",
        checkin,
        actor=actor,
        organization_id=stall.market.organization_id,
        ip=ip,
        stall=stall.code,
        amount_fen=breakdown.amount_fen,
        outside_geofence=checkin.outside_geofence,
    )
    return checkin


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
        raise _refuse_taken(stall, session, now)
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
        raise _refuse_taken(to, session, now)
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
