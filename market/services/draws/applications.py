"""Applying to a round: approved vendors of the community, during the window, one application
each (withdrawing until the window closes), the category fitting the zones and, for food, a
health certificate valid through the whole period."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...extensions import db
from ...models import (
    ApplicationState,
    DrawApplication,
    DrawRound,
    DrawState,
    Vendor,
    VendorStatus,
)
from ..checkin.checkins import may_take
from ..common import audit
from ..common.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..vendors.registry import FOOD_CATEGORIES
from . import rounds


def _window_open(rnd: DrawRound, now: datetime) -> None:
    if now < rnd.opens_at:
        raise Conflict(
            _l("Applications for this draw have not opened yet."), code="window_not_open"
        )
    if now >= rnd.closes_at or rnd.state != DrawState.ANNOUNCED:
        raise Conflict(_l("Applications for this draw are closed."), code="window_closed")


def _check_vendor(rnd: DrawRound, vendor: Vendor) -> None:
    if vendor.organization_id != rnd.market.organization_id:
        raise NotFound(_l("There is no such draw."), code="draw_not_found")
    if vendor.status == VendorStatus.SUSPENDED:
        raise Forbidden(
            _l("Your registration is suspended: you cannot apply."), code="vendor_suspended"
        )
    if vendor.status != VendorStatus.APPROVED:
        raise Forbidden(
            _l("Only approved vendors can apply: wait for the community office."),
            code="vendor_not_approved",
        )
    zones = {ds.stall.zone for ds in rnd.stalls}
    if not all(may_take(vendor, z) for z in zones):
        raise InvalidInput(
            _l("These stalls are for other kinds of goods than yours."), code="wrong_category"
        )
    food_zone = any(FOOD_CATEGORIES & set((z.categories or "").split(",")) for z in zones)
    if vendor.sells_food or food_zone:
        last = rounds.period_end(rnd)
        expires = vendor.health_cert_expires
        if expires is None or expires < last:
            raise InvalidInput(
                _l(
                    "Food stalls need a health certificate valid until %(date)s: renew yours "
                    "first.",
                    date=last.isoformat(),
                ),
                code="certificate_not_valid",
            )


def _preferences(rnd: DrawRound, raw: list[str]) -> str:
    codes = [c.strip().upper() for c in raw if c and c.strip()]
    if not rnd.ranked or not codes:
        return ""
    allowed = set(rounds.stall_codes(rnd))
    if any(c not in allowed for c in codes):
        raise InvalidInput(
            _l("Rank only stalls of this draw."), code="bad_preference", field="preferences"
        )
    if len(set(codes)) != len(codes):
        raise InvalidInput(
            _l("A stall is ranked twice."), code="bad_preference", field="preferences"
        )
    return ",".join(codes)


def apply(rnd: DrawRound, vendor: Vendor, preferences: list[str], *, actor, now, ip=None):
    """-> the application with its number. Applying twice is a 409; after withdrawing, the
    same application (and number) comes back."""
    rnd = db.session.scalar(select(DrawRound).where(DrawRound.id == rnd.id).with_for_update())
    _window_open(rnd, now)
    _check_vendor(rnd, vendor)
    prefs = _preferences(rnd, preferences)
    app = db.session.scalar(
        select(DrawApplication).where(
            DrawApplication.round_id == rnd.id, DrawApplication.vendor_id == vendor.id
        )
    )
    if app is not None and app.state == ApplicationState.APPLIED:
        raise Conflict(
            _l("You have already applied (application no. %(number)s).", number=app.number),
            code="already_applied",
        )
    if app is None:
        last = db.session.scalar(
            select(func.max(DrawApplication.number)).where(DrawApplication.round_id == rnd.id)
        )
        app = DrawApplication(round_id=rnd.id, vendor_id=vendor.id, number=(last or 0) + 1)
        db.session.add(app)
    app.state, app.preferences, app.updated_at = ApplicationState.APPLIED, prefs, now
    db.session.flush()
    audit.record(
        "draw.applied",
        app,
        actor=actor,
        organization_id=rnd.market.organization_id,
        ip=ip,
        round_id=rnd.id,
        number=app.number,
    )
    return app


def withdraw(app: DrawApplication, *, actor, now, ip=None) -> None:
    _window_open(app.round, now)
    if app.state != ApplicationState.APPLIED:
        raise Conflict(_l("This application is not active."), code="not_applied")
    app.state, app.updated_at = ApplicationState.WITHDRAWN, now
    audit.record(
        "draw.withdrawn",
        app,
        actor=actor,
        organization_id=app.round.market.organization_id,
        ip=ip,
        round_id=app.round_id,
        number=app.number,
    )


def application_of(rnd: DrawRound, vendor: Vendor) -> DrawApplication | None:
    return db.session.scalar(
        select(DrawApplication).where(
            DrawApplication.round_id == rnd.id, DrawApplication.vendor_id == vendor.id
        )
    )


def application_for(vendor: Vendor, round_id: int) -> DrawApplication:
    rnd = rounds.get_round(round_id)
    app = application_of(rnd, vendor)
    if app is None:
        raise NotFound(_l("You have not applied to this draw."), code="no_application")
    return app


def open_rounds_for(vendor: Vendor, now: datetime) -> list[DrawRound]:
    """Rounds of the vendor's community a vendor may look at: not drawn, or drawn with their
    application in it."""
    from ...models import Market

    rows = db.session.scalars(
        select(DrawRound)
        .join(Market, Market.id == DrawRound.market_id)
        .where(Market.organization_id == vendor.organization_id)
        .order_by(DrawRound.draw_at.desc())
        .limit(20)
    ).all()
    mine = {
        a.round_id
        for a in db.session.scalars(
            select(DrawApplication).where(DrawApplication.vendor_id == vendor.id)
        )
    }
    return [
        r for r in rows if r.id in mine or (r.state == DrawState.ANNOUNCED and now < r.closes_at)
    ]
