"""API operations of the foundation: tokens and who am I (markets: see zoning.py)."""

from flask import current_app, g
from flask.views import MethodView
from flask_babel import lazy_gettext as _l

from ..extensions import db, limiter
from ..services import accounts
from . import ErrorSchema, bp
from .schemas import MeSchema, TokenRequestSchema, TokenSchema
from .tokens import Unauthorized, issue_token, token_required

BEARER = [{"bearerAuth": []}]
MAX_ID = "int(max=2147483647)"  # bounded: a huge id is a 404, not a database overflow


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/auth/token")
class TokenView(MethodView):
    # Only failed tries count: a market's worth of vendors may log in from one shared address.
    decorators = [
        limiter.limit(login_limit, methods=["POST"], deduct_when=lambda r: r.status_code == 401)
    ]

    @bp.arguments(TokenRequestSchema)
    @bp.response(200, TokenSchema)
    @bp.alt_response(401, schema=ErrorSchema, description="Wrong phone or password")
    @bp.alt_response(429, schema=ErrorSchema, description="Too many attempts")
    def post(self, data):
        """Exchange a phone number and password for a bearer token."""
        user = accounts.authenticate(data["phone"], data["password"])
        if user is None:
            raise Unauthorized(_l("Wrong phone number or password."), code="invalid_credentials")
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
