"""API operations for check-ins, payments and fee rules. Writes that create a check-in or money
take an Idempotency-Key: the same key and body give back the first answer."""

from functools import cache

import marshmallow as ma
from flask import g, jsonify, make_response, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..dbsetup import late_write
from ..extensions import db
from ..models import CheckIn, CheckInState, FeeRule, Payment, Stall, Vendor
from ..services.auth import access
from ..services.checkin import checkins as checkin
from ..services.checkin import payments, stall_read
from ..services.common import idempotency
from ..services.common.clock import now
from ..services.common.errors import NotFound
from ..services.fees import rules as fees
from ..services.sessions import tide as sessions
from ..services.zoning import places as zoning
from . import bp
from .common import errors, managers_only, page_of, staff_only
from .routes import BEARER, MAX_ID
from .schemas import (
    CheckInListArgsSchema,
    CheckInPageSchema,
    CheckInRequestSchema,
    CheckInSchema,
    FeeRulePageSchema,
    FeeRuleSchema,
    MoveRequestSchema,
    PageArgsSchema,
    PaymentRequestSchema,
    PaymentSchema,
    ReasonSchema,
)
from .tokens import token_required

IDEMPOTENCY_HEADER = [
    {
        "in": "header",
        "name": "Idempotency-Key",
        "required": False,
        "description": "The same key and body give back the first answer.",
        "schema": {"type": "string", "maxLength": 100},
    }
]


def _user():
    return g.api_user


def payment_out(p: Payment) -> dict:
    return {
        "id": p.id,
        "method": p.method,
        "amount_fen": p.amount_fen,
        "status": p.status,
        "reference": p.reference,
        "note": p.note,
        "recorded_by": p.recorded_by.name,
        "recorded_at": p.recorded_at,
        "confirmed_by": p.confirmed_by.name if p.confirmed_by else None,
        "reverses_id": p.reverses_id,
    }


def checkin_out(ci: CheckIn) -> dict:
    c = ci.charge
    return {
        "id": ci.id,
        "market_id": ci.market_id,
        "session_id": ci.session_id,
        "stall_id": ci.stall_id,
        "stall_code": ci.stall.code,
        "vendor_id": ci.vendor_id,
        "state": ci.state,
        "arrived_at": ci.arrived_at,
        "left_at": ci.left_at,
        "outside_geofence": ci.outside_geofence,
        "charge": {
            "base_fen": c.base_fen,
            "extras_fen": c.extras_fen,
            "relief_fen": c.relief_fen,
            "amount_fen": c.amount_fen,
            "paid_fen": payments.paid_fen(c),
            "unpaid_fen": payments.unpaid_fen(c),
        },
        "payments": [payment_out(p) for p in c.payments],
        "receipt_url": url_for("checkin.receipt", checkin_id=ci.id, _external=True),
    }


@cache
def dumper(schema: type[ma.Schema]) -> ma.Schema:
    """One instance per answer schema: a marshmallow schema is reusable, and building one
    deep-copies its fields (a third of a check-in's answer time before)."""
    return schema()


def idempotent(scope: str, payload: dict, run, schema):
    """Run `run()` (returning (object, status)) once per Idempotency-Key and request body, and
    answer with its JSON: the very bytes of the first answer for every retry."""
    key = request.headers.get("Idempotency-Key")
    digest = idempotency.request_hash({"path": request.path, **payload})
    if key is not None:
        key = idempotency.check_key(key)
        if stored := idempotency.replay(_user(), scope, key, digest):
            return make_response(jsonify(stored.body), stored.status)
    obj, status = run()
    body = dumper(schema).dump(obj)
    if key is not None:
        stored = idempotency.remember(_user(), scope, key, digest, status, body)
        body, status = stored.body, stored.status
    db.session.commit()
    return make_response(jsonify(body), status)


def _stall(data: dict) -> Stall:
    if "stall_token" in data:
        return zoning.stall_for_token(data["stall_token"])
    stall = db.session.get(Stall, data["stall_id"], options=[joinedload(Stall.market)])
    if stall is None:
        raise NotFound()
    return stall


def _vendor_for(stall: Stall, data: dict) -> Vendor:
    """The caller's own vendor record, or (for staff of the market) the vendor they name."""
    if "vendor_id" in data:
        vendor = db.session.get(Vendor, data["vendor_id"])
        if not access.can_guide_market(_user(), stall.market) or vendor is None:
            raise NotFound()
        return vendor
    vendor = access.vendor_in(_user(), stall.market.organization_id)
    if vendor is None:
        raise NotFound(code="not_a_vendor_here")
    return vendor


@bp.route("/checkins", methods=["POST"])
@late_write
@token_required
@bp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER)
@bp.arguments(CheckInRequestSchema())  # an instance: webargs builds a class anew per request
@bp.response(201, CheckInSchema)
@errors(401, 403, 404, 409, 422)
def create_checkin(data):
    """Check in on a stall of the open session (yourself, or as staff a named vendor)."""
    if "vendor_id" not in data and (answer := _own_checkin(data)) is not None:
        return answer

    def run():
        stall = _stall(data)
        vendor = _vendor_for(stall, data)
        position = (
            (data["latitude"], data["longitude"])
            if "latitude" in data and "longitude" in data
            else None
        )
        ci = checkin.check_in(
            stall,
            vendor,
            now(),
            actor=_user(),
            position=position,
            uses_power=data["uses_power"],
            ip=request.remote_addr,
        )
        db.session.flush()
        return checkin_out(ci), 201

    return idempotent("checkins", data, run, CheckInSchema)


def _own_checkin(data: dict):
    """A vendor checking in themself: the stall, the vendor, tonight and the stored answer of
    the Idempotency-Key in one read (checkin.stall_read), the answer built from what was
    inserted. None leaves it to the general path (no such stall or vendor: its 404s)."""
    user = _user()
    key = request.headers.get("Idempotency-Key")
    key = idempotency.check_key(key) if key is not None else None
    at = stall_read.at_stall(
        now(),
        token=data.get("stall_token"),
        stall_id=data.get("stall_id"),
        user_id=user.id,
        replay=("checkins", key) if key is not None else None,
    )
    if at is None or at.vendor is None:
        return None
    digest = idempotency.request_hash({"path": request.path, **data})
    if key is not None and (stored := idempotency.judge(at.stored, digest)):
        return make_response(jsonify(stored.body), stored.status)
    position = (
        (data["latitude"], data["longitude"])
        if "latitude" in data and "longitude" in data
        else None
    )
    done = checkin.confirm(
        at,
        now(),
        actor=user,
        position=position,
        uses_power=data["uses_power"],
        ip=request.remote_addr,
    )
    out = checkin_out(done.checkin) if done.checkin else confirmed_out(done)
    body = dumper(CheckInSchema).dump(out)
    status = 201
    if key is not None:
        stored = idempotency.remember(user, "checkins", key, digest, status, body)
        body, status = stored.body, stored.status
    db.session.commit()
    return make_response(jsonify(body), status)


def confirmed_out(done: checkin.Confirmed) -> dict:
    """`checkin_out` of a check-in just made: no payments yet, the whole fee unpaid."""
    b = done.breakdown
    return {
        "id": done.id,
        "market_id": done.market_id,
        "session_id": done.session_id,
        "stall_id": done.stall_id,
        "stall_code": done.stall_code,
        "vendor_id": done.vendor_id,
        "state": CheckInState.ACTIVE,
        "arrived_at": done.arrived_at,
        "left_at": None,
        "outside_geofence": done.outside_geofence,
        "charge": {
            "base_fen": b.base_fen,
            "extras_fen": b.extras_fen,
            "relief_fen": b.relief_fen,
            "amount_fen": b.amount_fen,
            "paid_fen": 0,
            "unpaid_fen": b.amount_fen,
        },
        "payments": [],
        "receipt_url": url_for("checkin.receipt", checkin_id=done.id, _external=True),
    }


def _checkin(checkin_id: int) -> CheckIn:
    return checkin.checkin_for(_user(), checkin_id)


@bp.route(f"/checkins/<{MAX_ID}:checkin_id>")
@token_required
@bp.doc(security=BEARER)
@bp.response(200, CheckInSchema)
@errors(401, 404)
def get_checkin(checkin_id):
    """A check-in with its charge and payments: the vendor's own, or staff of the market."""
    return checkin_out(_checkin(checkin_id))


@bp.route("/checkins")
@staff_only
@bp.doc(security=BEARER)
@bp.arguments(CheckInListArgsSchema, location="query")
@bp.response(200, CheckInPageSchema)
@errors(401, 403, 404, 422)
def list_checkins(args):
    """Check-ins of a session, for guides of its market and cadres."""
    session = sessions.session_for_staff(_user(), args["session"])
    page = page_of(
        select(CheckIn).where(CheckIn.session_id == session.id).order_by(CheckIn.id), args
    )
    return {**page, "items": [checkin_out(c) for c in page["items"]]}


@bp.route(f"/checkins/<{MAX_ID}:checkin_id>/checkout", methods=["POST"])
@token_required
@bp.doc(security=BEARER)
@bp.response(200, CheckInSchema)
@errors(401, 404)
def checkout_checkin(checkin_id):
    """Leave the stall (the vendor, or a guide for them). Leaving twice changes nothing."""
    ci = checkin.check_out(_checkin(checkin_id), now(), actor=_user(), ip=request.remote_addr)
    db.session.commit()
    return checkin_out(ci)


@bp.route(f"/checkins/<{MAX_ID}:checkin_id>/move", methods=["POST"])
@token_required
@bp.doc(security=BEARER)
@bp.arguments(MoveRequestSchema)
@bp.response(200, CheckInSchema)
@errors(401, 404, 409, 422)
def move_checkin(data, checkin_id):
    """Move to another stall of the market: the same check-in and charge, with history."""
    ci = _checkin(checkin_id)
    to = db.session.get(Stall, data["stall_id"])
    if to is None:
        raise NotFound()
    checkin.move(ci, to, now(), actor=_user(), ip=request.remote_addr)
    db.session.commit()
    return checkin_out(ci)


@bp.route(f"/checkins/<{MAX_ID}:checkin_id>/payments", methods=["POST"])
@token_required
@bp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER)
@bp.arguments(PaymentRequestSchema)
@bp.response(201, PaymentSchema)
@errors(401, 403, 404, 409, 422)
def add_payment(data, checkin_id):
    """Cash (staff), a collection-code payment (the vendor reports it), or a waiver (cadre)."""
    ci = _checkin(checkin_id)

    def run():
        user, fen = _user(), data["amount_fen"]
        if data["method"] == "cash":
            p = payments.record_cash(ci.charge, fen, user, ip=request.remote_addr)
        elif data["method"] == "waiver":
            p = payments.waive(
                ci.charge, fen, data.get("reason") or "", user, ip=request.remote_addr
            )
        else:
            if ci.vendor.user_id != user.id and not access.can_guide_market(user, ci.stall.market):
                raise NotFound()
            p = payments.report_collection_code(
                ci.charge, fen, data.get("reference"), user, ip=request.remote_addr
            )
        db.session.flush()
        return payment_out(p), 201

    return idempotent("payments", {**data, "checkin": checkin_id}, run, PaymentSchema)


def _payment(payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise NotFound()
    _checkin(payment.charge.checkin_id)
    return payment


@bp.route(f"/payments/<{MAX_ID}:payment_id>/confirm", methods=["POST"])
@token_required
@bp.doc(security=BEARER)
@bp.response(200, PaymentSchema)
@errors(401, 403, 404)
def confirm_payment(payment_id):
    """Staff confirm a reported payment; never the person who reported it."""
    p = payments.confirm(_payment(payment_id), _user(), ip=request.remote_addr)
    db.session.commit()
    return payment_out(p)


@bp.route(f"/payments/<{MAX_ID}:payment_id>/void", methods=["POST"])
@token_required
@bp.doc(security=BEARER)
@bp.arguments(ReasonSchema)
@bp.response(201, PaymentSchema)
@errors(401, 403, 404, 409, 422)
def void_payment(data, payment_id):
    """Void a payment with a reversing record (staff); nothing is deleted."""
    reversal = payments.void(_payment(payment_id), _user(), data["reason"], ip=request.remote_addr)
    db.session.commit()
    return payment_out(reversal)


@bp.route(f"/markets/<{MAX_ID}:market_id>/fee-rules", methods=["GET"])
@staff_only
@bp.doc(security=BEARER)
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, FeeRulePageSchema)
@errors(401, 403, 404, 422)
def list_fee_rules(args, market_id):
    """Every fee rule of the market, newest first (older ones still price older sessions)."""
    market = access.market_for_guide(_user(), market_id)
    return page_of(
        select(FeeRule)
        .where(FeeRule.market_id == market.id)
        .order_by(FeeRule.effective_from.desc(), FeeRule.id.desc()),
        args,
    )


@bp.route(f"/markets/<{MAX_ID}:market_id>/fee-rules", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(FeeRuleSchema)
@bp.response(201, FeeRuleSchema)
@errors(401, 403, 404, 422)
def create_fee_rule(data, market_id):
    """A new fee from the next session on; charges already made never change."""
    market = access.market_for_manager(_user(), market_id)
    rule = fees.add_rule(market, data, actor=_user(), now=now(), ip=request.remote_addr)
    db.session.commit()
    return rule
