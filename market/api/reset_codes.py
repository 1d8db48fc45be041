"""API operations for forgotten passwords: staff issue a one-time reset code, the person
redeems it for a new password (services.auth.reset_codes)."""

import marshmallow as ma
from flask import g, request
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..services.auth import login_limits, reset_codes
from . import ErrorSchema, bp
from .common import errors, staff_only
from .routes import BEARER, MAX_ID
from .schemas import TokenSchema
from .tokens import Unauthorized, issue_token


class ResetCodeRequestSchema(ma.Schema):
    phone_last4 = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=8),
        metadata={"description": "The last four digits of the user's phone, checked in person"},
    )


class ResetCodeSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    code = ma.fields.String(
        required=True,
        metadata={"description": "8 digits, shown once; spaces are ignored when it is typed"},
    )
    expires_at = ma.fields.AwareDateTime(required=True)


class PasswordResetSchema(ma.Schema):
    phone = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    new_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=128)
    )


TOO_MANY = (
    "Too many wrong passwords or codes for this phone or from this address "
    "(code too_many_attempts; Retry-After says when to try again)"
)


@bp.route(f"/users/<{MAX_ID}:user_id>/reset-codes", methods=["POST"])
@bp.doc(security=BEARER)
@bp.arguments(ResetCodeRequestSchema)
@bp.response(201, ResetCodeSchema)
@errors(400, 401, 403, 404, 422, 429)
@staff_only
def issue_reset_code(data, user_id):
    """Issue a one-time password reset code for a user (guides: vendors of their markets;
    cadres and admins: everyone of their organization, never themselves). An earlier code of
    the user stops working. 422 phone_mismatch when the last four digits differ."""
    target = reset_codes.target_for(g.api_user, user_id)
    issued = reset_codes.issue(g.api_user, target, data["phone_last4"], ip=request.remote_addr)
    db.session.commit()
    return {"user_id": target.id, "code": issued.code, "expires_at": issued.expires_at}


@bp.route("/auth/reset", methods=["POST"])
@bp.arguments(PasswordResetSchema)
@bp.response(200, TokenSchema)
@bp.alt_response(
    401, schema=ErrorSchema, description="Wrong phone or code, or the code is used or expired"
)
@bp.alt_response(422, schema=ErrorSchema, description="The new password is too weak")
@bp.alt_response(429, schema=ErrorSchema, description=TOO_MANY)
def reset_password(data):
    """Set a new password with a reset code. Every session and token of the user ends; the
    answer is a fresh token."""
    try:
        user = reset_codes.redeem(
            data["phone"], data["code"], data["new_password"], request.remote_addr
        )
    except login_limits.WrongCredentials as e:
        db.session.commit()  # the count and the audit event
        message = " ".join(str(part) for part in (e.message, e.warning) if part)
        raise Unauthorized(
            message or _l("Wrong phone number or reset code."), code="invalid_reset_code"
        ) from None
    db.session.commit()
    return issue_token(user)
