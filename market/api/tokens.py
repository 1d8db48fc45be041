"""Bearer tokens: signed and expiring; a password change revokes them (token_version)."""

from functools import wraps

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..models import User
from ..services.auth import signins
from ..services.common.errors import DomainError

SALT = "api-token-v1"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_token(user: User) -> dict:
    token = _serializer().dumps({"uid": user.id, "v": user.token_version})
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": current_app.config["API_TOKEN_TTL"],
    }


def user_from_token(token: str) -> User:
    """The token's user; read once per request (the write guard asks before the view does)."""
    known = g.get("token_user")
    if known is not None and known[0] == token:
        return known[1]
    user = _read_token(token)
    g.token_user = (token, user)
    return user


def _read_token(token: str) -> User:
    try:
        data = _serializer().loads(token, max_age=current_app.config["API_TOKEN_TTL"])
    except SignatureExpired:
        raise Unauthorized(
            _l("The token has expired. Request a new one."), code="token_expired"
        ) from None
    except BadSignature:
        raise Unauthorized(_l("The token is not valid."), code="invalid_token") from None
    uid = data.get("uid") if isinstance(data, dict) else None
    user = signins.user_by_id(uid) if isinstance(uid, int) else None
    if user is None or not user.is_active or user.token_version != data.get("v"):
        raise Unauthorized(_l("The token is not valid."), code="invalid_token")
    return user


def token_required(view):
    """Authenticate a bearer token and put the user in g.api_user."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(_l("Send an Authorization: Bearer token."), code="missing_token")
        g.api_user = user_from_token(token.strip())
        return view(*args, **kwargs)

    return wrapper
