from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import Market, Role
from ..services import access, layout, vendor_pass, vendors, zoning
from ..services.errors import NotFound
from . import bp


@bp.route("/")
@roles_required(*Role.STAFF)
def index():
    markets = db.session.scalars(
        select(Market)
        .where(
            Market.id.in_(access.guided_market_ids(current_user))
            | Market.organization_id.in_(access.managed_organization_ids(current_user))
        )
        .order_by(Market.id)
    ).all()
    return render_template("guide/index.html", markets=markets)


@bp.route("/markets/<int(max=2147483647):market_id>/board")
@roles_required(*Role.STAFF)
def board(market_id: int):
    market = access.market_for_guide(current_user, market_id)
    stalls = zoning.stalls_of(market)
    return render_template(
        "guide/board.html", market=market, map=layout.build(market, market.zones, stalls)
    )


@bp.route("/pass/<string(maxlength=200):token>")
@roles_required(*Role.STAFF)
def identify(token: str):
    """What the guide's phone opens after scanning a vendor pass."""
    vendor = vendor_pass.vendor_from_pass(token)
    allowed = access.has_org_role(current_user, vendor.organization_id) or any(
        g.organization_id == vendor.organization_id and g.role == Role.GUIDE
        for g in access.grants(current_user)
    )
    if not allowed:
        raise NotFound()
    return render_template(
        "guide/identify.html",
        vendor=vendor,
        status_label=vendors.status_label,
        category_label=vendors.category_label,
        certificate_state=vendors.certificate_state,
    )
