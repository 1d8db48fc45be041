"""API operations of the foundation: tokens, who am I, a market."""

from flask import current_app, g
from flask.views import MethodView
from flask_babel import lazy_gettext as _l

from ..extensions import db, limiter
from ..models import Role
from ..services import access, accounts
from . import ErrorSchema, bp
from .schemas import MarketSchema, MeSchema, TokenRequestSchema, TokenSchema
from .tokens import Unauthorized, issue_token, token_required

BEARER = [{"bearerAuth": []}]
MAX_ID = "int(max=2147483647)"  # bounded: a huge id is a 404, not a database overflow


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/auth/token")
class TokenView(MethodView):
    decorators = [limiter.limit(login_limit, methods=["POST"])]

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


@bp.route(f"/markets/<{MAX_ID}:market_id>")
@bp.doc(security=BEARER)
@bp.response(200, MarketSchema)
@bp.alt_response(401, schema=ErrorSchema, description="No or bad token")
@bp.alt_response(403, schema=ErrorSchema, description="Not staff")
@bp.alt_response(404, schema=ErrorSchema, description="No such market for you")
@token_required
def market_detail(market_id: int):
    """One market, for its guides and the cadres of its organization."""
    access.require_role(g.api_user, Role.STAFF)
    return access.market_for_guide(g.api_user, market_id)
