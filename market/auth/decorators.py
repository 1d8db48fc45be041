"""Role checks for pages. Object checks (market, organization) live in services.access."""

from functools import wraps

from flask_login import current_user, login_required

from ..services.auth import access


def roles_required(*roles: str):
    """Logged in and holding one of these roles somewhere; else 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            access.require_role(current_user, roles)
            return view(*args, **kwargs)

        return wrapper

    return decorator
