"""API operations for vendors: registration (public), their own record, a cadre's decisions."""

from flask import g, request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db, limiter
from ..models import Market, Vendor
from ..services.auth import access
from ..services.common.errors import InvalidInput, NotFound
from ..services.vendors import registry as vendor_service
from ..services.zoning import places as zoning
from . import bp
from .common import errors, managers_only
from .routes import BEARER, MAX_ID
from .schemas import (
    DecisionSchema,
    RegistrationResultSchema,
    VendorListArgsSchema,
    VendorPageSchema,
    VendorRegistrationSchema,
    VendorSchema,
)
from .tokens import issue_token, token_required


def vendor_out(vendor: Vendor) -> dict:
    return {
        "id": vendor.id,
        "organization_id": vendor.organization_id,
        "market_id": vendor.market_id,
        "name": vendor.user.name,
        "phone": vendor.user.masked_phone,
        "status": vendor.status,
        "status_reason": vendor.status_reason,
        "category": vendor.category,
        "goods": vendor.goods,
        "sells_food": vendor.sells_food,
        "health_cert_expires": vendor.health_cert_expires,
        "certificate_state": vendor_service.certificate_state(vendor),
        "certificate_change_pending": vendor.pending_cert_no is not None,
        "relief_kind": vendor.relief_kind,
        "relief_status": vendor.relief_status,
        "created_at": vendor.created_at,
    }


def _market_for(data: dict) -> Market:
    if token := data.get("stall_token"):
        return zoning.stall_for_token(token).market
    market = db.session.scalar(
        select(Market).where(Market.slug == data.get("market_slug", ""), Market.is_active)
    )
    if market is None:
        raise InvalidInput(_l("No such market."), code="unknown_market", field="market_slug")
    return market


@bp.route("/vendors")
class VendorsView(MethodView):
    decorators = [limiter.limit("10 per minute;60 per day", methods=["POST"])]

    @bp.arguments(VendorRegistrationSchema)
    @bp.response(201, RegistrationResultSchema)
    @errors(400, 404, 409, 422, 429)
    def post(self, data):
        """Register as a vendor (no login). The new vendor waits for a cadre's approval."""
        vendor = vendor_service.register(
            _market_for(data),
            name=data["name"],
            phone=data["phone"],
            password=data["password"],
            details=vendor_service.Details(
                category=data["category"],
                goods=data["goods"],
                sells_food=data.get("sells_food", False),
                health_cert_no=data.get("health_cert_no"),
                health_cert_expires=data.get("health_cert_expires"),
                relief_kind=data.get("relief_kind"),
                relief_note=data.get("relief_note"),
            ),
            agreed_to_rules=data["agree_to_rules"],
            ip=request.remote_addr,
        )
        db.session.commit()
        return {"vendor": vendor_out(vendor), "token": issue_token(vendor.user)}

    @managers_only
    @bp.doc(security=BEARER)
    @bp.arguments(VendorListArgsSchema, location="query")
    @bp.response(200, VendorPageSchema)
    @errors(401, 403, 422)
    def get(self, args):
        """Vendors of the organizations you manage, newest first; filter by q, status, category."""
        items, total = vendor_service.search(
            access.managed_organization_ids(g.api_user),
            q=args.get("q"),
            status=args.get("status"),
            category=args.get("category"),
            page=args["page"],
            per_page=args["per_page"],
        )
        return {
            "items": [vendor_out(v) for v in items],
            "page": args["page"],
            "per_page": args["per_page"],
            "total": total,
        }


@bp.route("/vendors/me")
@bp.doc(security=BEARER)
@bp.response(200, VendorSchema)
@errors(401, 404)
@token_required
def vendor_me():
    """Your own vendor record: status, details, certificate state."""
    profiles = access.vendor_profiles(g.api_user)
    if not profiles:
        raise NotFound(code="not_a_vendor")
    return vendor_out(profiles[0])


@bp.route(
    f"/vendors/<{MAX_ID}:vendor_id>/<any(approve, reject, suspend, reinstate):action>",
    methods=["POST"],
)
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(DecisionSchema)
@bp.response(200, VendorSchema)
@errors(401, 403, 404, 409, 422)
def vendor_decide(data, vendor_id, action):
    """Approve, reject (reason required), suspend (reason required) or reinstate a vendor."""
    vendor = db.session.get(Vendor, vendor_id)
    if vendor is None or not access.has_org_role(g.api_user, vendor.organization_id):
        raise NotFound()
    vendor_service.decide(
        vendor, action, actor=g.api_user, reason=data.get("reason"), ip=request.remote_addr
    )
    db.session.commit()
    return vendor_out(vendor)
