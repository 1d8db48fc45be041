"""Shared pieces of the API operations: role gates, documented errors, pagination."""

from functools import wraps

from flask import g
from sqlalchemy import func, select

from ..extensions import db
from ..models import Role
from ..services.auth import access
from . import ErrorSchema, bp
from .tokens import token_required

ERROR_TEXTS = {  # for the OpenAPI document
    400: "Malformed request",
    401: "No or bad token",
    403: "Not staff (reads) / not a cadre or admin (writes)",
    404: "No such object for you",
    409: "Conflicts with the current state (a duplicate, a taken place, a wrong transition)",
    422: "Input does not match the schema or breaks a rule",
    429: "Too many requests",
}


def errors(*statuses):
    """Document the error answers of an operation, all in the ErrorSchema format."""

    def decorator(func):
        for status in reversed(statuses):
            func = bp.alt_response(status, schema=ErrorSchema, description=ERROR_TEXTS[status])(
                func
            )
        return func

    return decorator


READ_ERRORS = (401, 403, 404, 422)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422)


def allowed(roles):
    """Bearer token, then a role anywhere: 401 and 403 come before the body is read, so a
    guide's write is a 403 whatever it sends. Object checks (404) follow in the view."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            access.require_role(g.api_user, roles)
            return view(*args, **kwargs)

        return token_required(wrapper)

    return decorator


staff_only = allowed(Role.STAFF)
managers_only = allowed(Role.MANAGERS)


def page_of(query, args: dict) -> dict:
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "page": page, "per_page": per_page, "total": total}
