"""API operations of the foundation: tokens and who am I (markets: see zoning.py)."""

from flask import g, request
from flask.views import MethodView

from ..extensions import db
from ..services.auth import login_limits
from . import ErrorSchema, bp
from .schemas import MeSchema, TokenRequestSchema, TokenSchema
from .tokens import Unauthorized, issue_token, token_required

BEARER = [{"bearerAuth": []}]
MAX_ID = "int(max=2147483647)"  # bounded: a huge id is a 404, not a database overflow


@bp.route("/auth/token")
class TokenView(MethodView):
    @bp.arguments(TokenRequestSchema)
    @bp.response(200, TokenSchema)
    @bp.alt_response(401, schema=ErrorSchema, description="Wrong phone or password")
    @bp.alt_response(
        429,
        schema=ErrorSchema,
        description="Too many wrong passwords for this phone or from this address "
        "(code too_many_attempts; Retry-After says when to try again)",
    )
    def post(self, data):
        """Exchange a phone number and password for a bearer token."""
        try:
            user = login_limits.attempt(data["phone"], data["password"], request.remote_addr)
        except login_limits.WrongCredentials as e:
            db.session.commit()  # the count and the audit event
            message = " ".join(str(part) for part in (e.message, e.warning) if part)
            raise Unauthorized(message, code="invalid_credentials") from None
        db.session.commit()
        return issue_token(user)


@bp.route("/me")
@bp.doc(security=BEARER)
@bp.response(200, MeSchema)
@bp.alt_response(401, schema=ErrorSchema, description="No or bad token")
@token_required
def me():
    """The user behind the token and their roles."""
    user = g.api_user
    return {
        "id": user.id,
        "name": user.name,
        "phone": user.masked_phone,
        "roles": [
            {"role": gr.role, "organization_id": gr.organization_id, "market_id": gr.market_id}
            for gr in user.grants
        ],
    }
