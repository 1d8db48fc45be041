"""The guide's board: the market's stalls live, as a map and as a list."""

from flask import make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import Market, Role
from ..services.auth import access
from ..services.common.clock import now
from ..services.common.errors import DomainError, NotFound
from ..services.common.money import yuan
from ..services.guide import board
from ..services.sessions import plan as session_plan
from ..services.vendors import passes as vendor_pass
from ..services.vendors import registry as vendors
from ..services.zoning import layout
from ..services.zoning import places as zoning
from . import bp

ID = "int(max=2147483647)"
VIEWS = ("map", "list")
POLL_SECONDS = 5


def guided_markets():
    return db.session.scalars(
        select(Market)
        .where(
            Market.id.in_(access.guided_market_ids(current_user))
            | Market.organization_id.in_(access.managed_organization_ids(current_user))
        )
        .order_by(Market.id)
    ).all()


@bp.route("/")
@roles_required(*Role.STAFF)
def index():
    return render_template("guide/index.html", markets=guided_markets())


def _board_context(market: Market):
    view = request.args.get("view", "map")
    sort = request.args.get("sort", "state")
    # Unknown values fall back to the defaults: a bad query string never breaks the page.
    view = view if view in VIEWS else "map"
    sort = sort if sort in board.SORTS else "state"
    state = board.build(market, now())
    return {
        "market": market,
        "board": state,
        "view": view,
        "sort": sort,
        "rows": board.sorted_rows(state, sort),
        "maps": layout.fold(market, market.zones, [r.stall for r in state.rows]),
        "states": board.stall_states(state),
        "marks": _marks(state),
        "labels": board.STATE_LABELS,
        "state_label": board.state_label,
        "flagged_label": board.FLAGGED_LABEL,
        "poll_seconds": POLL_SECONDS,
    }


def _marks(state) -> dict[int, str]:
    """A second line on each stall of the map, so the state reads without colour too."""
    marks = {}
    for r in state.rows:
        if board.awaiting_confirmation(r):
            mark = str(board.TO_CONFIRM_LABEL)  # reported paid in full by collection code
        elif r.state == board.StallState.UNPAID:
            mark = yuan(r.unpaid_fen)
        elif r.state == board.StallState.PAID:
            mark = "✓"
        elif r.state == board.StallState.RESERVED:
            mark = _("Held")
        else:
            mark = ""
        marks[r.stall.id] = ("⚑" + mark) if r.flagged else mark
    return marks


@bp.route(f"/markets/<{ID}:market_id>/board", endpoint="board")
@roles_required(*Role.STAFF)
def board_page(market_id: int):
    market = access.market_for_guide(current_user, market_id)
    return render_template("guide/board.html", **_board_context(market))


@bp.route(f"/markets/<{ID}:market_id>/board/live")
@roles_required(*Role.STAFF)
def board_live(market_id: int):
    """What the board polls. Unchanged since `v` (or the ETag): 204 / 304 and no body, told
    by one read before anything is built."""
    market = access.market_for_guide(current_user, market_id)
    sent, tag = request.args.get("v"), next(iter(request.if_none_match), None)
    if board.unchanged(market, sent, now()):
        response = make_response("", 204)
        version = sent
    elif sent is None and board.unchanged(market, tag, now()):
        response = make_response("", 304)
        version = tag
    else:
        context = _board_context(market)
        version = context["board"].version
        response = make_response(render_template("guide/_live.html", **context))
    response.set_etag(version)
    response.headers["Cache-Control"] = "no-cache, private"
    response.vary.add("Cookie")
    return response


@bp.route("/pass/<string(maxlength=200):token>")
@roles_required(*Role.STAFF)
def identify(token: str):
    """What the guide's phone opens after scanning a vendor pass: who it is, and where a guide
    of one of this vendor's markets can check them in."""
    vendor = vendor_pass.vendor_from_pass(token)
    markets = [m for m in guided_markets() if m.organization_id == vendor.organization_id]
    if not markets:
        raise NotFound()
    free = {}
    for market in markets:
        state = board.build(market, now())
        if state.session is not None:
            free[market.id] = [r.stall for r in state.rows if r.state == board.StallState.FREE]
    return render_template(
        "guide/identify.html",
        vendor=vendor,
        markets=markets,
        free=free,
        status_label=vendors.status_label,
        category_label=vendors.category_label,
        certificate_state=vendors.certificate_state,
        zoning=zoning,
    )


@bp.app_template_filter("market_time")
def market_time(moment, market_id: int) -> str:
    """A stored UTC time as the market's clock shows it."""
    market = db.session.get(Market, market_id)
    try:
        local = moment.astimezone(session_plan.zone_of(market))
    except DomainError:
        local = moment
    return local.strftime("%m-%d %H:%M")


@bp.app_template_filter("signed_yuan")
def signed_yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    return ("+" if fen > 0 else "") + yuan(fen)
