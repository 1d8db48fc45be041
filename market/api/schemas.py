"""Request and response shapes of the API."""

import marshmallow as ma
from flask import url_for
from flask_babel import lazy_gettext as _l

from ..publicurl import public_base_url
from ..services.common.money import MAX_FEN, TOO_LARGE
from ..services.zoning import qr


class TokenRequestSchema(ma.Schema):
    phone = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=128)
    )


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})


class RoleSchema(ma.Schema):
    role = ma.fields.String(required=True)
    organization_id = ma.fields.Integer(required=True)
    market_id = ma.fields.Integer(allow_none=True)


class MeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    phone = ma.fields.String(required=True, metadata={"description": "masked: 138****0003"})
    roles = ma.fields.List(ma.fields.Nested(RoleSchema), required=True)


class MarketSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    organization_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    slug = ma.fields.String(required=True)
    address = ma.fields.String(allow_none=True)
    timezone = ma.fields.String(required=True)
    is_active = ma.fields.Boolean(required=True)
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    geofence_radius_m = ma.fields.Integer(allow_none=True)
    public_notice = ma.fields.String(allow_none=True)
    rules_text = ma.fields.String(allow_none=True)


# --- zoning: shared pieces -------------------------------------------------------------------

MAX_ID = 2147483647  # ids are 32-bit integers; a larger one can't exist
ID_RANGE = ma.validate.Range(min=1, max=MAX_ID)
# JSON bodies: integers must be integers (2.5 is refused, not cut to 2); query strings are text.


def _text(
    max_length: int,
    *,
    required: bool = False,
    nullable: bool = False,
    min_length=None,
    pattern: str | None = None,
):
    """A string field; `pattern` (the service's own rule) also goes into the OpenAPI document,
    so a client (and schemathesis) knows what is accepted before sending it."""
    validate = [ma.validate.Length(min=min_length, max=max_length)]
    if pattern:
        validate.append(ma.validate.Regexp(pattern, error=_l("This is not in the expected form.")))
    return ma.fields.String(required=required, allow_none=nullable, validate=validate)


# The services' rules (services/zoning.py), anchored for JSON Schema.
ZONE_CODE = r"^[A-Za-z0-9]{1,8}$"
COLOR = r"^#[0-9a-fA-F]{6}$"
STALL_CODE = r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$"


class PageArgsSchema(ma.Schema):
    """?page=&per_page= for every list."""

    class Meta:
        unknown = ma.EXCLUDE  # ?lang= and friends are not ours to refuse

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_ID))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=100))


class StallListArgsSchema(PageArgsSchema):
    zone_id = ma.fields.Integer(validate=ID_RANGE)
    status = ma.fields.String(validate=ma.validate.OneOf(("active", "disabled")))


class PageSchema(ma.Schema):
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True, metadata={"description": "items in all pages"})


# --- markets ---------------------------------------------------------------------------------


class MarketPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(MarketSchema), required=True)


class MarketUpdateSchema(ma.Schema):
    """The fields of services.zoning.MARKET_FIELDS; a PATCH sends only those it changes."""

    name = _text(120, min_length=1)
    slug = _text(60, min_length=1)
    address = _text(200, nullable=True)
    timezone = _text(64, min_length=1)
    latitude = ma.fields.Float(allow_none=True, validate=ma.validate.Range(min=-90, max=90))
    longitude = ma.fields.Float(allow_none=True, validate=ma.validate.Range(min=-180, max=180))
    geofence_radius_m = ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(min=10, max=20_000)
    )
    public_notice = _text(500, nullable=True)
    rules_text = _text(4000, nullable=True)
    is_active = ma.fields.Boolean()


class MarketCreateSchema(MarketUpdateSchema):
    organization_id = ma.fields.Integer(strict=True, required=True, validate=ID_RANGE)
    name = _text(120, required=True, min_length=1)
    slug = _text(60, required=True, min_length=1)


# --- zones -----------------------------------------------------------------------------------


class ZoneSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    market_id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    color = ma.fields.String(required=True, metadata={"example": "#C2410C"})
    sort_order = ma.fields.Integer(required=True)
    categories = ma.fields.String(
        required=True, metadata={"description": "comma-separated category keys"}
    )
    goods_note = ma.fields.String(allow_none=True)
    is_active = ma.fields.Boolean(required=True)


class ZonePageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ZoneSchema), required=True)


class ZoneUpdateSchema(ma.Schema):
    code = _text(8, min_length=1, pattern=ZONE_CODE)
    name = _text(40, min_length=1)
    color = _text(7, min_length=1, pattern=COLOR)
    sort_order = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=999))
    categories = _text(200)
    goods_note = _text(200, nullable=True)
    is_active = ma.fields.Boolean()


class ZoneCreateSchema(ZoneUpdateSchema):
    code = _text(8, required=True, min_length=1, pattern=ZONE_CODE)
    name = _text(40, required=True, min_length=1)


# --- stalls ----------------------------------------------------------------------------------


def _qr_url(stall) -> str:
    return qr.stall_url(public_base_url(), stall.qr_token)


def _qr_png_url(stall) -> str:
    return url_for("zoning.stall_png", stall_id=stall.id, _external=True)


class StallSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    market_id = ma.fields.Integer(required=True)
    zone_id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True, metadata={"example": "A-07"})
    width_cm = ma.fields.Integer(required=True)
    depth_cm = ma.fields.Integer(required=True)
    has_power = ma.fields.Boolean(required=True)
    grid_row = ma.fields.Integer(required=True)
    grid_col = ma.fields.Integer(required=True)
    grid_w = ma.fields.Integer(required=True)
    grid_h = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["active", "disabled"]})
    disabled_reason = ma.fields.String(allow_none=True)
    qr_url = ma.fields.Function(
        _qr_url,
        required=True,
        metadata={
            "type": "string",
            "format": "uri",
            "description": "what the stall's QR code encodes: <base>/s/<token>",
        },
    )
    qr_png_url = ma.fields.Function(
        _qr_png_url,
        required=True,
        metadata={
            "type": "string",
            "format": "uri",
            "description": "the printable QR code (PNG) on the cadre pages",
        },
    )


class StallPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(StallSchema), required=True)


def _grid(low: int, high: int, **kw):
    return ma.fields.Integer(strict=True, validate=ma.validate.Range(min=low, max=high), **kw)


class StallFieldsSchema(ma.Schema):
    """The fields of services.zoning.STALL_FIELDS, with the service's ranges."""

    code = _text(16, min_length=1, pattern=STALL_CODE)
    zone_id = ma.fields.Integer(strict=True, validate=ID_RANGE)
    width_cm = _grid(50, 2000)
    depth_cm = _grid(50, 2000)
    has_power = ma.fields.Boolean()
    grid_row = _grid(0, 199)
    grid_col = _grid(0, 199)
    grid_w = _grid(1, 10)
    grid_h = _grid(1, 10)


class StallCreateSchema(StallFieldsSchema):
    code = _text(16, required=True, min_length=1, pattern=STALL_CODE)
    zone_id = ma.fields.Integer(strict=True, required=True, validate=ID_RANGE)
    grid_row = _grid(0, 199, required=True)
    grid_col = _grid(0, 199, required=True)


class StallUpdateSchema(StallFieldsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(("active", "disabled")))
    disabled_reason = _text(100, nullable=True)

    @ma.validates_schema
    def reason_goes_with_disabled(self, data, **kwargs):
        if data.get("disabled_reason") and data.get("status") != "disabled":
            raise ma.ValidationError(
                str(_l('Send a reason only together with "status": "disabled".')),
                field_name="disabled_reason",
            )


# --- vendors ---------------------------------------------------------------------------------

PHONE = ma.validate.Length(min=1, max=20)  # the service explains what a valid number is


class VendorSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    organization_id = ma.fields.Integer(required=True)
    market_id = ma.fields.Integer(allow_none=True)
    name = ma.fields.String(required=True)
    phone = ma.fields.String(required=True, metadata={"description": "masked: 139****0001"})
    status = ma.fields.String(required=True)
    status_reason = ma.fields.String(allow_none=True)
    category = ma.fields.String(required=True)
    goods = ma.fields.String(required=True)
    sells_food = ma.fields.Boolean(required=True)
    health_cert_expires = ma.fields.Date(allow_none=True)
    certificate_state = ma.fields.String(
        allow_none=True, metadata={"description": "expired, expiring (7 days) or null"}
    )
    certificate_change_pending = ma.fields.Boolean(required=True)
    relief_kind = ma.fields.String(allow_none=True)
    relief_status = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class VendorPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(VendorSchema), required=True)


class VendorListArgsSchema(PageArgsSchema):
    q = ma.fields.String(validate=ma.validate.Length(max=30))
    status = ma.fields.String(
        validate=ma.validate.OneOf(("pending", "approved", "rejected", "suspended"))
    )
    category = ma.fields.String(validate=ma.validate.Length(max=40))


class VendorRegistrationSchema(ma.Schema):
    """Give stall_token (from the poster) or market_slug."""

    stall_token = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    market_slug = ma.fields.String(validate=ma.validate.Length(min=1, max=60))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=30))
    phone = ma.fields.String(required=True, validate=PHONE)
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=128)
    )
    category = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    goods = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    sells_food = ma.fields.Boolean(load_default=False)
    health_cert_no = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=40))
    health_cert_expires = ma.fields.Date(allow_none=True)
    relief_kind = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=24))
    relief_note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    agree_to_rules = ma.fields.Boolean(required=True)

    @ma.validates_schema
    def _where(self, data, **kwargs):
        if not (data.get("stall_token") or data.get("market_slug")):
            raise ma.ValidationError(str(_l("Give stall_token or market_slug.")), "market_slug")


class RegistrationResultSchema(ma.Schema):
    vendor = ma.fields.Nested(VendorSchema, required=True)
    token = ma.fields.Nested(TokenSchema, required=True)


class DecisionSchema(ma.Schema):
    reason = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))


# --- check-ins and payments --------------------------------------------------------------------


def fen_range(minimum: int | None = None) -> list:
    """Validators of a money field: whole fen up to MAX_FEN, and from `minimum` when given
    (else the sign is the service's rule, with its own error code); each bound has its own
    translated message, and both go into the OpenAPI document."""
    validators = [ma.validate.Range(max=MAX_FEN, error=TOO_LARGE)]
    if minimum is not None:
        below = (
            _l("Enter an amount above zero.") if minimum > 0 else _l("Amounts cannot be negative.")
        )
        validators.insert(0, ma.validate.Range(min=minimum, error=below))
    return validators


STRICT_FEN = {"strict": True, "validate": fen_range(1)}


class CheckInRequestSchema(ma.Schema):
    """Give stall_token (what the poster carries) or stall_id."""

    stall_token = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    stall_id = ma.fields.Integer(validate=ID_RANGE, strict=True)
    vendor_id = ma.fields.Integer(
        validate=ID_RANGE,
        strict=True,
        metadata={"description": "staff only: check in a vendor who has no smartphone"},
    )
    uses_power = ma.fields.Boolean(load_default=False)
    latitude = ma.fields.Float(validate=ma.validate.Range(min=-90, max=90), allow_nan=False)
    longitude = ma.fields.Float(validate=ma.validate.Range(min=-180, max=180), allow_nan=False)

    @ma.validates_schema
    def _one_stall(self, data, **kwargs):
        if ("stall_token" in data) == ("stall_id" in data):
            raise ma.ValidationError(
                str(_l("Give exactly one of stall_token and stall_id.")), "stall_id"
            )


class MoveRequestSchema(ma.Schema):
    stall_id = ma.fields.Integer(required=True, validate=ID_RANGE, strict=True)


class ChargeSchema(ma.Schema):
    base_fen = ma.fields.Integer(required=True)
    extras_fen = ma.fields.Integer(required=True)
    relief_fen = ma.fields.Integer(required=True)
    amount_fen = ma.fields.Integer(required=True)
    paid_fen = ma.fields.Integer(required=True)
    unpaid_fen = ma.fields.Integer(required=True)


class PaymentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    method = ma.fields.String(required=True)
    amount_fen = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    reference = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    recorded_by = ma.fields.String(required=True)
    recorded_at = ma.fields.DateTime(required=True)
    confirmed_by = ma.fields.String(allow_none=True)
    reverses_id = ma.fields.Integer(allow_none=True)


class CheckInSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    market_id = ma.fields.Integer(required=True)
    session_id = ma.fields.Integer(required=True)
    stall_id = ma.fields.Integer(required=True)
    stall_code = ma.fields.String(required=True)
    vendor_id = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True)
    arrived_at = ma.fields.DateTime(required=True)
    left_at = ma.fields.DateTime(allow_none=True)
    outside_geofence = ma.fields.Boolean(required=True)
    charge = ma.fields.Nested(ChargeSchema, required=True)
    payments = ma.fields.List(ma.fields.Nested(PaymentSchema), required=True)
    receipt_url = ma.fields.String(required=True)


class CheckInPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(CheckInSchema), required=True)


class CheckInListArgsSchema(PageArgsSchema):
    session = ma.fields.Integer(required=True, validate=ID_RANGE)


class PaymentRequestSchema(ma.Schema):
    method = ma.fields.String(
        required=True, validate=ma.validate.OneOf(("cash", "collection_code", "waiver"))
    )
    amount_fen = ma.fields.Integer(required=True, **STRICT_FEN)
    reference = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=64))
    reason = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class FeeRuleSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    zone_id = ma.fields.Integer(allow_none=True, validate=ID_RANGE, strict=True)
    session_kind = ma.fields.String(
        allow_none=True, validate=ma.validate.OneOf(("morning", "night", "special"))
    )
    base_fen = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(0, 10_000_000)
    )
    power_fen = ma.fields.Integer(
        load_default=0, strict=True, validate=ma.validate.Range(0, 10_000_000)
    )
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    effective_from = ma.fields.DateTime(dump_only=True)


class FeeRulePageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(FeeRuleSchema), required=True)
