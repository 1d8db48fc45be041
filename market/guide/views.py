from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import Market, Role
from ..services import access, layout, zoning
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
