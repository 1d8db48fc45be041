"""API operations of the guide's work: the board's occupancy (with the same version as the
page, for a 304), incidents at stalls, a session's cash per guide, and cash hand-overs."""

import marshmallow as ma
from flask import g, jsonify, make_response, request

from ..extensions import db
from ..models import INCIDENT_KINDS, CashHandover, Incident
from ..services.auth import access
from ..services.common.clock import now
from ..services.guide import board, handovers, incidents
from ..services.sessions import tide as sessions
from . import bp
from .checkins import IDEMPOTENCY_HEADER, idempotent
from .common import errors, managers_only, staff_only
from .routes import BEARER, MAX_ID
from .schemas import ID_RANGE, fen_range

FEN = fen_range(0)


class CountsSchema(ma.Schema):
    stalls = ma.fields.Integer()
    usable = ma.fields.Integer()
    occupied = ma.fields.Integer()
    vendors_on_site = ma.fields.Integer()
    expected_fen = ma.fields.Integer()
    paid_fen = ma.fields.Integer()
    unpaid_fen = ma.fields.Integer()
    pending_fen = ma.fields.Integer()
    flagged = ma.fields.Integer()


class StallStateSchema(ma.Schema):
    stall_id = ma.fields.Integer()
    code = ma.fields.String()
    zone = ma.fields.String()
    state = ma.fields.String(metadata={"enum": list(board.StallState.ALL)})
    flagged = ma.fields.Boolean()
    checkin_id = ma.fields.Integer(allow_none=True)
    vendor_id = ma.fields.Integer(allow_none=True)
    amount_fen = ma.fields.Integer()
    paid_fen = ma.fields.Integer()
    unpaid_fen = ma.fields.Integer()
    pending_fen = ma.fields.Integer()
    open_incidents = ma.fields.Integer()
    outside_geofence = ma.fields.Boolean()


class OccupancySchema(ma.Schema):
    market_id = ma.fields.Integer()
    session_id = ma.fields.Integer(allow_none=True)
    version = ma.fields.String(metadata={"description": "also the ETag: send If-None-Match"})
    counts = ma.fields.Nested(CountsSchema)
    stalls = ma.fields.List(ma.fields.Nested(StallStateSchema))


class IncidentRequestSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(incidents.GUIDE_KINDS))
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=incidents.NOTE_MAX))


class IncidentSchema(ma.Schema):
    id = ma.fields.Integer()
    market_id = ma.fields.Integer()
    stall_id = ma.fields.Integer(allow_none=True)
    session_id = ma.fields.Integer(allow_none=True)
    kind = ma.fields.String(metadata={"enum": list(INCIDENT_KINDS)})
    source = ma.fields.String()
    note = ma.fields.String()
    state = ma.fields.String()
    created_at = ma.fields.DateTime()


class GuideCashSchema(ma.Schema):
    guide_id = ma.fields.Integer()
    name = ma.fields.String()
    cash_fen = ma.fields.Integer()


class SessionCashSchema(ma.Schema):
    session_id = ma.fields.Integer()
    total_fen = ma.fields.Integer()
    guides = ma.fields.List(ma.fields.Nested(GuideCashSchema))


class HandoverRequestSchema(ma.Schema):
    market_id = ma.fields.Integer(required=True, validate=ID_RANGE, strict=True)
    declared_fen = ma.fields.Integer(required=True, validate=FEN, strict=True)
    note = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))


class HandoverConfirmSchema(ma.Schema):
    received_fen = ma.fields.Integer(required=True, validate=FEN, strict=True)
    note = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))


class HandoverSchema(ma.Schema):
    id = ma.fields.Integer()
    market_id = ma.fields.Integer()
    guide_id = ma.fields.Integer()
    expected_fen = ma.fields.Integer()
    declared_fen = ma.fields.Integer()
    received_fen = ma.fields.Integer(allow_none=True)
    difference_fen = ma.fields.Integer(allow_none=True)
    state = ma.fields.String()
    note = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    confirmed_at = ma.fields.DateTime(allow_none=True)


def _user():
    return g.api_user


@bp.route(f"/markets/<{MAX_ID}:market_id>/occupancy")
@staff_only
@bp.doc(security=BEARER)
@bp.response(200, OccupancySchema)
@bp.alt_response(304, description="Unchanged since the version sent in If-None-Match")
@errors(401, 403, 404)
def occupancy(market_id):
    """Counts and every stall's state in the current session, versioned like the board page."""
    market = access.market_for_guide(_user(), market_id)
    tag = next(iter(request.if_none_match), None)
    if board.unchanged(market, tag, now()):  # one read, before anything is built
        response = make_response("", 304)
        response.set_etag(tag)
        return response
    state = board.build(market, now())
    # Already in the schema's shape: dumping 3,000 stalls again through marshmallow doubled
    # the answer's time (a Response passes the schema untouched; OccupancySchema documents it).
    response = jsonify(state.as_dict())
    response.headers.update({"ETag": f'"{state.version}"', "Cache-Control": "no-cache"})
    return response


@bp.route(f"/stalls/<{MAX_ID}:stall_id>/incidents", methods=["POST"])
@staff_only
@bp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER)
@bp.arguments(IncidentRequestSchema)
@bp.response(201, IncidentSchema)
@errors(400, 401, 403, 404, 422)
def log_incident(data, stall_id):
    """Log an incident at a stall (占道经营, 卫生, 噪音, 油烟, 纠纷, other): it flags the stall."""
    stall = access.stall_for_guide(_user(), stall_id)

    def run() -> tuple[Incident, int]:
        incident = incidents.open_incident(
            stall.market,
            data["kind"],
            data["note"],
            now(),
            stall=stall,
            actor=_user(),
            kinds=incidents.GUIDE_KINDS,
            ip=request.remote_addr,
        )
        db.session.flush()
        return incident, 201

    return idempotent("incidents", {"stall": stall.id, **data}, run, IncidentSchema)


@bp.route(f"/sessions/<{MAX_ID}:session_id>/cash")
@staff_only
@bp.doc(security=BEARER)
@bp.response(200, SessionCashSchema)
@errors(401, 403, 404)
def session_cash(session_id):
    """The cash each guide took in a session (reversals subtracted)."""
    session = sessions.session_for_staff(_user(), session_id)
    per_guide = handovers.session_cash_by_guide(session)
    names = handovers.user_names(per_guide.keys())
    return {
        "session_id": session.id,
        "total_fen": sum(per_guide.values()),
        "guides": [
            {"guide_id": gid, "name": names.get(gid, ""), "cash_fen": fen}
            for gid, fen in sorted(per_guide.items())
        ],
    }


@bp.route("/handovers", methods=["POST"])
@staff_only
@bp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER)
@bp.arguments(HandoverRequestSchema)
@bp.response(201, HandoverSchema)
@errors(400, 401, 403, 404, 409, 422)
def create_handover(data):
    """The calling guide hands over all the cash they hold for a market."""
    market = access.market_for_guide(_user(), data["market_id"])

    def run() -> tuple[CashHandover, int]:
        handover = handovers.hand_over(
            _user(),
            market,
            data["declared_fen"],
            now(),
            note=data["note"],
            ip=request.remote_addr,
        )
        db.session.flush()
        return handover, 201

    return idempotent("handovers", data, run, HandoverSchema)


@bp.route(f"/handovers/<{MAX_ID}:handover_id>/confirm", methods=["POST"])
@managers_only
@bp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER)
@bp.arguments(HandoverConfirmSchema)
@bp.response(200, HandoverSchema)
@errors(400, 401, 403, 404, 409, 422)
def confirm_handover(data, handover_id):
    """A cadre records the cash counted; the difference from the records is kept."""
    handover = handovers.handover_for_manager(_user(), handover_id)

    def run() -> tuple[CashHandover, int]:
        handovers.confirm(
            handover,
            _user(),
            data["received_fen"],
            now(),
            note=data["note"],
            ip=request.remote_addr,
        )
        return handover, 200

    return idempotent("handover-confirm", {"id": handover.id, **data}, run, HandoverSchema)
