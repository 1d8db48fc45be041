"""API of stall draws (摇号): rounds (cadres), a vendor's application, the public proof.

The same services as the pages (services.draws); the proof is the JSON of
/p/<slug>/draws/<id>.json, which scripts/verify_draw.py checks."""

import marshmallow as ma
from flask import g, request
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import DrawRound, Relief, Role
from ..services.auth import access
from ..services.common.clock import now
from ..services.common.errors import NotFound
from ..services.draws import applications, drawing, public, rounds
from . import bp
from .common import READ_ERRORS, WRITE_ERRORS, allowed, errors, managers_only, page_of
from .routes import BEARER, MAX_ID
from .schemas import PageArgsSchema, PageSchema

readers_only = allowed(Role.READERS)
vendors_only = allowed((Role.VENDOR,))
STALL_CODE = ma.fields.String(validate=ma.validate.Length(min=1, max=16))


class DrawRoundRequestSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=80))
    stall_codes = ma.fields.List(
        STALL_CODE, required=True, validate=ma.validate.Length(min=1, max=rounds.MAX_STALLS)
    )
    period = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^20\d\d-(0[1-9]|1[0-2])$"),
        metadata={"example": "2027-01", "description": "the first month"},
    )
    months = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=12)
    )
    fee_fen = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=0, max=10_000_000)
    )
    opens_at = ma.fields.AwareDateTime(required=True)
    closes_at = ma.fields.AwareDateTime(required=True)
    draw_at = ma.fields.AwareDateTime(required=True)
    priority_kinds = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(Relief.KINDS)),
        load_default=list(rounds.DEFAULT_PRIORITY),
    )
    quota_percent = ma.fields.Integer(
        strict=True, load_default=0, validate=ma.validate.Range(min=0, max=100)
    )
    ranked = ma.fields.Boolean(load_default=False)


class DrawRoundSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    period_start = ma.fields.Date(required=True)
    months = ma.fields.Integer(required=True)
    fee_fen = ma.fields.Integer(required=True)
    opens_at = ma.fields.AwareDateTime(required=True)
    closes_at = ma.fields.AwareDateTime(required=True)
    draw_at = ma.fields.AwareDateTime(required=True)
    commitment = ma.fields.String(required=True)
    list_hash = ma.fields.String(allow_none=True)
    public_url = ma.fields.Method("_public_url")

    def _public_url(self, rnd):
        return f"/p/{rnd.market.slug}/draws/{rnd.id}"


class DrawRoundListSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(DrawRoundSchema), required=True)


class DrawProofSchema(ma.Schema):
    """The public JSON: see docs/draws.md (list and result are canonical texts)."""

    format = ma.fields.String(required=True)
    market = ma.fields.String(required=True)
    round = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    period = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    fee_fen_per_month = ma.fields.Integer(required=True)
    opens_at = ma.fields.String(required=True)
    closes_at = ma.fields.String(required=True)
    draw_at = ma.fields.String(required=True)
    priority_kinds = ma.fields.List(ma.fields.String(), required=True)
    quota_percent = ma.fields.Integer(required=True)
    ranked = ma.fields.Boolean(required=True)
    stalls = ma.fields.List(ma.fields.String(), required=True)
    holders_now = ma.fields.List(ma.fields.Dict(), required=True)
    given_up = ma.fields.List(ma.fields.Dict(), required=True)
    state = ma.fields.String(required=True)
    commitment = ma.fields.String(required=True)
    list = ma.fields.String(allow_none=True)
    list_hash = ma.fields.String(allow_none=True)
    secret = ma.fields.String(allow_none=True)
    result = ma.fields.String(allow_none=True)


class DrawApplyRequestSchema(ma.Schema):
    preferences = ma.fields.List(
        STALL_CODE,
        load_default=list,
        validate=ma.validate.Length(max=rounds.MAX_STALLS),
        metadata={"description": "stall codes of the round, most wanted first (ranked rounds)"},
    )


class DrawApplicationSchema(ma.Schema):
    round_id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True)
    preferences = ma.fields.List(ma.fields.String(), required=True)
    position = ma.fields.Integer(allow_none=True, metadata={"description": "place in the draw"})
    stall = ma.fields.String(allow_none=True)
    waiting_place = ma.fields.Integer(allow_none=True)


class ForfeitReasonSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


def _application(app) -> dict:
    waiting = None
    if app.state == "waiting":
        waiting = 1 + sum(
            1
            for other in app.round.applications
            if other.state == "waiting" and (other.position or 0) < app.position
        )
    return {
        "round_id": app.round_id,
        "number": app.number,
        "state": app.state,
        "preferences": [c for c in app.preferences.split(",") if c],
        "position": app.position,
        "stall": app.stall.code if app.stall else None,
        "waiting_place": waiting,
    }


def _vendor_round(round_id: int):
    rnd = db.session.get(DrawRound, round_id)
    vendor = access.vendor_in(g.api_user, rnd.market.organization_id) if rnd else None
    if vendor is None:
        raise NotFound(_l("There is no such draw."), code="draw_not_found")
    return vendor, rnd


@bp.route(f"/markets/<{MAX_ID}:market_id>/draws", methods=["GET"])
@bp.doc(security=BEARER)
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, DrawRoundListSchema)
@errors(*READ_ERRORS)
@readers_only
def list_draws(args, market_id):
    """The market's stall draws, the latest draw time first (paginated)."""
    market = access.market_for_reader(g.api_user, market_id)
    return page_of(rounds.rounds_query(market), args)


@bp.route(f"/markets/<{MAX_ID}:market_id>/draws", methods=["POST"])
@bp.doc(security=BEARER)
@bp.arguments(DrawRoundRequestSchema)
@bp.response(201, DrawRoundSchema)
@errors(*WRITE_ERRORS)
@managers_only
def create_draw(data, market_id):
    """Announce a round: its secret is drawn and sealed now, its commitment public at once.
    409 stalls_held when a stall has a pass or another round in the period."""
    from datetime import date

    market = access.market_for_manager(g.api_user, market_id)
    year, month = (int(p) for p in data["period"].split("-"))
    rnd = rounds.create_round(
        market,
        rounds.RoundInput(
            title=data["title"],
            stall_codes=data["stall_codes"],
            period_start=date(year, month, 1),
            months=data["months"],
            fee_fen=data["fee_fen"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            draw_at=data["draw_at"],
            priority_kinds=data["priority_kinds"],
            quota_percent=data["quota_percent"],
            ranked=data["ranked"],
        ),
        actor=g.api_user,
        now=now(),
        ip=request.remote_addr,
    )
    db.session.commit()
    return rnd


@bp.route(f"/draws/<{MAX_ID}:round_id>", methods=["GET"])
@bp.response(200, DrawProofSchema)
@errors(404)
def draw_proof(round_id):
    """The public proof of a round (no token): commitment, frozen list and hash, secret and
    result once drawn. The same JSON as /p/<slug>/draws/<id>.json."""
    rnd = db.session.get(DrawRound, round_id)
    if rnd is None or not rnd.market.is_active:
        raise NotFound(_l("There is no such draw."), code="draw_not_found")
    return public.payload(rnd)


@bp.route(f"/draws/<{MAX_ID}:round_id>/application", methods=["GET"])
@bp.doc(security=BEARER)
@bp.response(200, DrawApplicationSchema)
@errors(*READ_ERRORS)
@vendors_only
def my_application(round_id):
    """The vendor's own application: number, state, place in the draw, stall won."""
    vendor, rnd = _vendor_round(round_id)
    return _application(applications.application_for(vendor, rnd.id))


@bp.route(f"/draws/<{MAX_ID}:round_id>/application", methods=["POST"])
@bp.doc(security=BEARER)
@bp.arguments(DrawApplyRequestSchema)
@bp.response(201, DrawApplicationSchema)
@errors(*WRITE_ERRORS)
@vendors_only
def apply_to_draw(data, round_id):
    """Apply during the window. 409 already_applied, window_not_open or window_closed; 403
    vendor_suspended or vendor_not_approved; 422 wrong_category, certificate_not_valid or
    bad_preference."""
    vendor, rnd = _vendor_round(round_id)
    app = applications.apply(
        rnd, vendor, data["preferences"], actor=g.api_user, now=now(), ip=request.remote_addr
    )
    db.session.commit()
    return _application(app)


@bp.route(f"/draws/<{MAX_ID}:round_id>/application", methods=["DELETE"])
@bp.doc(security=BEARER)
@bp.response(200, DrawApplicationSchema)
@errors(*WRITE_ERRORS)
@vendors_only
def withdraw_from_draw(round_id):
    """Withdraw, while the window is open (applying again keeps the number)."""
    vendor, rnd = _vendor_round(round_id)
    app = applications.application_for(vendor, rnd.id)
    applications.withdraw(app, actor=g.api_user, now=now(), ip=request.remote_addr)
    db.session.commit()
    return _application(app)


@bp.route(f"/draws/<{MAX_ID}:round_id>/application/decline", methods=["POST"])
@bp.doc(security=BEARER)
@bp.response(200, DrawApplicationSchema)
@errors(*WRITE_ERRORS)
@vendors_only
def decline_draw_stall(round_id):
    """Give up a stall won in the draw: it goes to the first on the waiting list."""
    vendor, rnd = _vendor_round(round_id)
    app = applications.application_for(vendor, rnd.id)
    drawing.give_up(app, actor=g.api_user, forfeit=False, now=now(), ip=request.remote_addr)
    db.session.commit()
    return _application(app)


@bp.route(f"/draw-applications/<{MAX_ID}:application_id>/forfeit", methods=["POST"])
@bp.doc(security=BEARER)
@bp.arguments(ForfeitReasonSchema)
@bp.response(200, DrawApplicationSchema)
@errors(*WRITE_ERRORS)
@managers_only
def forfeit_draw_stall(data, application_id):
    """A cadre takes a won stall back (with the reason): it goes to the next on the list."""
    app = drawing.won_application(application_id)
    access.market_for_manager(g.api_user, app.round.market_id)
    drawing.give_up(
        app,
        actor=g.api_user,
        forfeit=True,
        now=now(),
        reason=data["reason"],
        ip=request.remote_addr,
    )
    db.session.commit()
    return _application(app)
