"""Public API of the stall card and complaints, and the guides' side of the complaint loop.

The public operations need no token: they are rate-limited per address (and per stall or
market for writes); POST /complaints takes an Idempotency-Key scoped to the sender."""

import base64
import binascii
import io

import marshmallow as ma
from flask import current_app, g, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db, limiter
from ..models import COMPLAINT_KINDS, Complaint, IncidentState, Market
from ..services.auth import access
from ..services.checkin import stall_card
from ..services.common.clock import now
from ..services.common.errors import InvalidInput, NotFound
from ..services.common.uploads import MAX_UPLOAD_BYTES
from ..services.complaints import filing as complaints
from ..services.zoning import places as zoning
from . import bp
from .checkins import IDEMPOTENCY_HEADER
from .common import errors, page_of, staff_only
from .routes import BEARER, MAX_ID
from .schemas import ID_RANGE, PageArgsSchema, PageSchema

# --- shapes ----------------------------------------------------------------------------------


class HoursSchema(ma.Schema):
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    weekdays = ma.fields.List(
        ma.fields.Integer(), required=True, metadata={"description": "1 = Monday"}
    )
    start = ma.fields.String(required=True, metadata={"example": "18:00"})
    end = ma.fields.String(required=True, metadata={"example": "22:30"})


class CardVendorSchema(ma.Schema):
    display_name = ma.fields.String(required=True, metadata={"example": "王**"})
    category = ma.fields.String(required=True)
    goods = ma.fields.String(required=True)
    sells_food = ma.fields.Boolean(required=True)
    health_certificate_valid = ma.fields.Boolean(required=True)
    health_certificate_expires_month = ma.fields.String(
        allow_none=True, metadata={"example": "2027-03"}
    )


class StallCardSchema(ma.Schema):
    stall_code = ma.fields.String(required=True)
    zone_code = ma.fields.String(required=True)
    zone_name = ma.fields.String(required=True)
    market_name = ma.fields.String(required=True)
    market_slug = ma.fields.String(required=True)
    market_open = ma.fields.Boolean(required=True)
    vendor = ma.fields.Nested(CardVendorSchema, allow_none=True)
    empty_tonight = ma.fields.Boolean(required=True)
    registered_with = ma.fields.String(required=True)
    contact_phone = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    rules = ma.fields.String(required=True)
    hours = ma.fields.List(ma.fields.Nested(HoursSchema), required=True)
    complaint_url = ma.fields.String(required=True)


class ComplaintRequestSchema(ma.Schema):
    """Give stall_token (from the poster) for a stall, or market_slug for the whole market."""

    stall_token = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    market_slug = ma.fields.String(validate=ma.validate.Length(min=1, max=60))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(COMPLAINT_KINDS))
    text = ma.fields.String(required=True, metadata={"description": "1 to 1000 characters"})
    photo_base64 = ma.fields.String(
        validate=ma.validate.Length(max=MAX_UPLOAD_BYTES * 4 // 3 + 4),
        metadata={"description": "a JPEG, PNG or WebP image, base64, at most 5 MB"},
    )
    map_x = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, complaints.MAP_MAX))
    map_y = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, complaints.MAP_MAX))
    latitude = ma.fields.Float(validate=ma.validate.Range(-90, 90))
    longitude = ma.fields.Float(validate=ma.validate.Range(-180, 180))
    challenge_token = ma.fields.String(validate=ma.validate.Length(max=500))
    challenge_answer = ma.fields.String(validate=ma.validate.Length(max=10))

    @ma.validates_schema
    def _one_place(self, data, **kwargs):
        if bool(data.get("stall_token")) == bool(data.get("market_slug")):
            raise ma.ValidationError(
                str(_l("Give exactly one of stall_token and market_slug.")), "market_slug"
            )


class ComplaintStatusSchema(ma.Schema):
    tracking_code = ma.fields.String(required=True)
    tracking_url = ma.fields.String(required=True)
    short_code = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "the same key in 8 characters to read aloud (ABCD-EFGH also works)"
        },
    )
    status = ma.fields.String(required=True, metadata={"description": "received or handled"})
    kind = ma.fields.String(required=True)
    stall_code = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    handled_at = ma.fields.AwareDateTime(allow_none=True)
    response = ma.fields.String(allow_none=True)


class ComplaintSchema(ma.Schema):
    """A complaint as the market's guides and cadres see it."""

    id = ma.fields.Integer(required=True)
    market_id = ma.fields.Integer(required=True)
    stall_id = ma.fields.Integer(allow_none=True)
    stall_code = ma.fields.String(allow_none=True)
    vendor_id = ma.fields.Integer(allow_none=True)
    incident_id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    text = ma.fields.String(required=True)
    has_photo = ma.fields.Boolean(required=True)
    map_x = ma.fields.Integer(allow_none=True)
    map_y = ma.fields.Integer(allow_none=True)
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    status = ma.fields.String(required=True)
    response = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    handled_at = ma.fields.AwareDateTime(allow_none=True)


class ComplaintPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ComplaintSchema), required=True)


class ComplaintListArgsSchema(PageArgsSchema):
    market_id = ma.fields.Integer(required=True, validate=ID_RANGE)
    state = ma.fields.String(validate=ma.validate.OneOf(IncidentState.ALL))


class ResponseSchema(ma.Schema):
    response = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


# --- the stall card --------------------------------------------------------------------------


def card_out(card: stall_card.StallCard) -> dict:
    v = card.vendor
    return {
        "stall_code": card.stall.code,
        "zone_code": card.stall.zone.code,
        "zone_name": card.stall.zone.name,
        "market_name": card.market.name,
        "market_slug": card.market.slug,
        "market_open": card.is_open,
        "vendor": v
        and {
            "display_name": v.display_name,
            "category": v.category,
            "goods": v.goods,
            "sells_food": v.sells_food,
            "health_certificate_valid": v.cert_valid,
            "health_certificate_expires_month": v.cert_expires.strftime("%Y-%m")
            if v.cert_expires
            else None,
        },
        "empty_tonight": v is None,
        "registered_with": card.organization,
        "contact_phone": card.contact_phone,
        "address": card.market.address,
        "rules": card.rules,
        "hours": [{**vars(h), "weekdays": [d + 1 for d in h.weekdays]} for h in card.hours],
        "complaint_url": url_for(
            "complaints.complain_stall", token=card.stall.qr_token, _external=True
        ),
    }


@bp.route("/stalls/by-token/<string(maxlength=100):token>/card")
@limiter.limit(lambda: current_app.config["TRACKING_RATE_LIMIT"], scope="api-card")
@bp.response(200, StallCardSchema)
@errors(404, 429)
@bp.alt_response(410, description="The poster was replaced: scan the new one")
def stall_card_by_token(token):
    """The public stall card: who trades here tonight (masked), hours, rules, contact."""
    return card_out(stall_card.card_for(zoning.stall_for_token(token), now()))


# --- complaints: public ----------------------------------------------------------------------


def status_out(c: Complaint) -> dict:
    incident = c.incident
    return {
        "tracking_code": c.tracking_code,
        "short_code": c.short_code,
        "tracking_url": url_for("complaints.track", code=c.tracking_code, _external=True),
        "status": complaints.status_of(c),
        "kind": c.kind,
        "stall_code": c.stall.code if c.stall else None,
        "created_at": c.created_at,
        "handled_at": incident.resolved_at,
        "response": incident.resolution,
    }


def _place_key() -> str:
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    return "complaint-place:" + str(data.get("stall_token") or data.get("market_slug") or "")


def _photo(data: dict):
    if "photo_base64" not in data:
        return None
    try:
        return io.BytesIO(base64.b64decode(data["photo_base64"], validate=True))
    except (binascii.Error, ValueError):
        raise InvalidInput(
            _l("This is not a JPEG, PNG or WebP image."), code="not_an_image", field="photo"
        ) from None


def _place(data: dict):
    if data.get("stall_token"):
        stall = zoning.stall_for_token(data["stall_token"])
        return stall.market, stall
    market = db.session.scalar(
        select(Market).where(Market.slug == data["market_slug"], Market.is_active)
    )
    if market is None:
        raise NotFound()
    return market, None


@bp.route("/complaints", methods=["POST"])
@limiter.limit(lambda: current_app.config["COMPLAINT_ADDRESS_LIMIT"], scope="api-complaint")
@limiter.limit(
    lambda: current_app.config["COMPLAINT_PLACE_LIMIT"], key_func=_place_key, scope="place"
)
@bp.doc(parameters=IDEMPOTENCY_HEADER)
@bp.arguments(ComplaintRequestSchema)
@bp.response(201, ComplaintStatusSchema)
@errors(400, 404, 422, 429)
@bp.alt_response(410, description="The poster was replaced: scan the new one")
def file_complaint(data):
    """File a complaint (no login). From the second of a day from one address on, the answer
    is a 422 `challenge_required` with a sum in `details.challenge`: send its token back as
    `challenge_token` with the sum as `challenge_answer`."""
    market, stall = _place(data)
    complaint, _created = complaints.file_complaint(
        market,
        data["kind"],
        data["text"],
        now(),
        stall=stall,
        photo=_photo(data),
        where=complaints.Where(
            data.get("map_x"), data.get("map_y"), data.get("latitude"), data.get("longitude")
        ),
        ip=request.remote_addr,
        challenge_token=data.get("challenge_token"),
        challenge_answer=data.get("challenge_answer"),
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    db.session.commit()
    return status_out(complaint), 201


@bp.route("/complaints/<string(maxlength=60):tracking_code>")
@limiter.limit(lambda: current_app.config["TRACKING_RATE_LIMIT"], scope="api-tracking")
@bp.response(200, ComplaintStatusSchema)
@errors(404, 429)
def complaint_status(tracking_code):
    """A complaint's status and the market's response, by its tracking code (no login)."""
    return status_out(complaints.by_tracking_code(tracking_code))


# --- complaints: the guides' side ------------------------------------------------------------


def complaint_out(c: Complaint) -> dict:
    incident = c.incident
    return {
        "id": c.id,
        "market_id": c.market_id,
        "stall_id": c.stall_id,
        "stall_code": c.stall.code if c.stall else None,
        "vendor_id": c.vendor_id,
        "incident_id": c.incident_id,
        "kind": c.kind,
        "text": c.text,
        "has_photo": c.photo is not None,
        "map_x": c.map_x,
        "map_y": c.map_y,
        "latitude": c.latitude,
        "longitude": c.longitude,
        "status": complaints.status_of(c),
        "response": incident.resolution,
        "created_at": c.created_at,
        "handled_at": incident.resolved_at,
    }


@bp.route("/complaints")
@staff_only
@bp.doc(security=BEARER)
@bp.arguments(ComplaintListArgsSchema, location="query")
@bp.response(200, ComplaintPageSchema)
@errors(401, 403, 404, 422)
def list_complaints(args):
    """A market's complaints for its guides and cadres: waiting ones first."""
    market = access.market_for_guide(g.api_user, args["market_id"])
    page = page_of(complaints.complaints_query(market.id, args.get("state")), args)
    return {**page, "items": [complaint_out(c) for c in page["items"]]}


@bp.route(f"/complaints/<{MAX_ID}:complaint_id>/resolve", methods=["POST"])
@staff_only
@bp.doc(security=BEARER)
@bp.arguments(ResponseSchema)
@bp.response(200, ComplaintSchema)
@errors(401, 403, 404, 409, 422)
def resolve_complaint(data, complaint_id):
    """Record what was done; the complainant's tracking page shows it. Once only (409)."""
    complaint = complaints.complaint_for_staff(g.api_user, complaint_id)
    complaints.respond(complaint, data["response"], now(), actor=g.api_user, ip=request.remote_addr)
    db.session.commit()
    return complaint_out(complaint)
