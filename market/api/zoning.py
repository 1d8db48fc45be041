"""API operations of stall zoning: markets, zones, stalls and their QR tokens.

Views authorise and parse; every rule lives in services.zoning. Writes are for the cadres and
admins of the market's organization (403 for anyone else with no managing role at all, 404 for
another organization's objects); reads are for those and for the market's guides.
"""

from flask import current_app, g, request
from flask.views import MethodView
from sqlalchemy import or_, select

from ..extensions import db
from ..models import Market, Stall, StallStatus, Zone
from ..services.auth import access
from ..services.common.errors import NotFound
from ..services.zoning import places as zoning
from . import bp
from .common import (  # noqa: F401  (re-exported for older imports)
    READ_ERRORS,
    WRITE_ERRORS,
    allowed,
    errors,
    managers_only,
    page_of,
    staff_only,
)
from .routes import BEARER, MAX_ID
from .schemas import (
    MarketCreateSchema,
    MarketPageSchema,
    MarketSchema,
    MarketUpdateSchema,
    PageArgsSchema,
    StallCreateSchema,
    StallListArgsSchema,
    StallPageSchema,
    StallSchema,
    StallUpdateSchema,
    ZoneCreateSchema,
    ZonePageSchema,
    ZoneSchema,
    ZoneUpdateSchema,
)


def _user():
    return g.api_user


def _ip():
    return request.remote_addr


def _staff_market(market_id: int) -> Market:
    return access.market_for_guide(_user(), market_id)


def _manager_market(market_id: int) -> Market:
    return access.market_for_manager(_user(), market_id)


def _staff_zone(zone_id: int) -> Zone:
    zone = db.session.get(Zone, zone_id)
    if zone is None or not access.can_guide_market(_user(), zone.market):
        raise NotFound()
    return zone


def _staff_stall(stall_id: int) -> Stall:
    stall = db.session.get(Stall, stall_id)
    if stall is None or not access.can_guide_market(_user(), stall.market):
        raise NotFound()
    return stall


def _manager_stall(stall_id: int) -> Stall:
    return access.stall_for_manager(_user(), stall_id)


# --- markets ---------------------------------------------------------------------------------


@bp.route("/markets")
class MarketsView(MethodView):
    @staff_only
    @bp.doc(security=BEARER)
    @bp.arguments(PageArgsSchema, location="query")
    @bp.response(200, MarketPageSchema)
    @errors(*READ_ERRORS)
    def get(self, args):
        """The markets you may see: your organizations' markets and the markets you guide."""
        query = (
            select(Market)
            .where(
                or_(
                    Market.organization_id.in_(access.managed_organization_ids(_user())),
                    Market.id.in_(access.guided_market_ids(_user())),
                )
            )
            .order_by(Market.id)
        )
        return page_of(query, args)

    @managers_only
    @bp.doc(security=BEARER)
    @bp.arguments(MarketCreateSchema)
    @bp.response(201, MarketSchema)
    @errors(*WRITE_ERRORS)
    def post(self, data):
        """Create a market of an organization you manage (cadres and admins)."""
        organization = access.organization_for_manager(_user(), data.pop("organization_id"))
        data.setdefault("timezone", current_app.config["MARKET_TIMEZONE"])
        market = zoning.save_market(organization, data, actor=_user(), ip=_ip())
        db.session.commit()
        return market


@bp.route(f"/markets/<{MAX_ID}:market_id>")
class MarketView(MethodView):
    @staff_only
    @bp.doc(security=BEARER)
    @bp.response(200, MarketSchema)
    @errors(401, 403, 404)
    def get(self, market_id: int):
        """One market, for its guides and the cadres of its organization."""
        return _staff_market(market_id)

    @managers_only
    @bp.doc(security=BEARER)
    @bp.arguments(MarketUpdateSchema)
    @bp.response(200, MarketSchema)
    @errors(*WRITE_ERRORS)
    def patch(self, data, market_id: int):
        """Change some fields of a market (cadres and admins of its organization)."""
        market = _manager_market(market_id)
        if data:
            zoning.save_market(market.organization, data, market, actor=_user(), ip=_ip())
            db.session.commit()
        return market


# --- zones -----------------------------------------------------------------------------------


@bp.route(f"/markets/<{MAX_ID}:market_id>/zones")
class MarketZonesView(MethodView):
    @staff_only
    @bp.doc(security=BEARER)
    @bp.arguments(PageArgsSchema, location="query")
    @bp.response(200, ZonePageSchema)
    @errors(*READ_ERRORS)
    def get(self, args, market_id: int):
        """The zones of a market, in their display order."""
        market = _staff_market(market_id)
        query = select(Zone).where(Zone.market_id == market.id).order_by(Zone.sort_order, Zone.id)
        return page_of(query, args)

    @managers_only
    @bp.doc(security=BEARER)
    @bp.arguments(ZoneCreateSchema)
    @bp.response(201, ZoneSchema)
    @errors(*WRITE_ERRORS)
    def post(self, data, market_id: int):
        """Add a zone to a market (cadres and admins)."""
        market = _manager_market(market_id)
        zone = zoning.save_zone(market, data, actor=_user(), ip=_ip())
        db.session.commit()
        return zone


@bp.route(f"/zones/<{MAX_ID}:zone_id>")
class ZoneView(MethodView):
    @staff_only
    @bp.doc(security=BEARER)
    @bp.response(200, ZoneSchema)
    @errors(401, 403, 404)
    def get(self, zone_id: int):
        """One zone, for the staff of its market."""
        return _staff_zone(zone_id)

    @managers_only
    @bp.doc(security=BEARER)
    @bp.arguments(ZoneUpdateSchema)
    @bp.response(200, ZoneSchema)
    @errors(*WRITE_ERRORS)
    def patch(self, data, zone_id: int):
        """Change some fields of a zone (cadres and admins)."""
        zone = access.zone_for_manager(_user(), zone_id)
        if data:
            zoning.save_zone(zone.market, data, zone, actor=_user(), ip=_ip())
            db.session.commit()
        return zone


# --- stalls ----------------------------------------------------------------------------------


@bp.route(f"/markets/<{MAX_ID}:market_id>/stalls")
class MarketStallsView(MethodView):
    @staff_only
    @bp.doc(security=BEARER)
    @bp.arguments(StallListArgsSchema, location="query")
    @bp.response(200, StallPageSchema)
    @errors(400, *READ_ERRORS)
    def get(self, args, market_id: int):
        """The stalls of a market by code, optionally of one zone or one status."""
        market = _staff_market(market_id)
        query = select(Stall).where(Stall.market_id == market.id)
        if args.get("zone_id") is not None:
            zone = zoning.zone_of_market(market, args["zone_id"])  # 400 for another market's
            query = query.where(Stall.zone_id == zone.id)
        if args.get("status"):
            query = query.where(Stall.status == args["status"])
        return page_of(query.order_by(Stall.code, Stall.id), args)

    @managers_only
    @bp.doc(security=BEARER)
    @bp.arguments(StallCreateSchema)
    @bp.response(201, StallSchema)
    @errors(*WRITE_ERRORS)
    def post(self, data, market_id: int):
        """Add one stall to a market (cadres and admins); it gets its QR token at once."""
        market = _manager_market(market_id)
        stall = zoning.save_stall(market, data, actor=_user(), ip=_ip())
        db.session.commit()
        return stall


@bp.route(f"/stalls/<{MAX_ID}:stall_id>")
class StallView(MethodView):
    @staff_only
    @bp.doc(security=BEARER)
    @bp.response(200, StallSchema)
    @errors(401, 403, 404)
    def get(self, stall_id: int):
        """One stall with the URL its QR code carries, for the staff of its market."""
        return _staff_stall(stall_id)

    @managers_only
    @bp.doc(security=BEARER)
    @bp.arguments(StallUpdateSchema)
    @bp.response(200, StallSchema)
    @errors(*WRITE_ERRORS)
    def patch(self, data, stall_id: int):
        """Change a stall: its place, size, zone, or disable it with a reason / enable it."""
        stall = _manager_stall(stall_id)
        status = data.pop("status", None)
        reason = data.pop("disabled_reason", None)
        if data:
            zoning.save_stall(stall.market, data, stall, actor=_user(), ip=_ip())
        if status == StallStatus.DISABLED:
            zoning.disable_stall(stall, reason, actor=_user(), ip=_ip())
        elif status == StallStatus.ACTIVE and stall.status != StallStatus.ACTIVE:
            zoning.enable_stall(stall, actor=_user(), ip=_ip())
        db.session.commit()
        return stall


@bp.route(f"/stalls/<{MAX_ID}:stall_id>/rotate-token", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.response(200, StallSchema)
@errors(401, 403, 404)
def stall_rotate_token(stall_id: int):
    """Give a stall a new QR token; scanning the old poster then answers 410 (replaced)."""
    stall = _manager_stall(stall_id)
    zoning.rotate_token(stall, actor=_user(), ip=_ip())
    db.session.commit()
    return stall
