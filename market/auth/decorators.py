"""Role checks for pages. Object checks (which market, which organization) are in services.access."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ..services import access


def roles_required(*roles: str):
    """Logged in and holding one of these roles somewhere; else 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not any(g.role in roles for g in access.grants(current_user)):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator
