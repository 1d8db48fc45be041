"""Supervisors write nothing: one check before every write request, pages and API alike.

The views' own checks already refuse them (writes ask for a cadre of the organization); this
answers every write of a supervisor-only account with the same 403 before any view runs, so a
route added tomorrow cannot forget it. Their own account (log in and out, password) stays
theirs, and so do their questions (质询), which change nothing of a community's records."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..services.auth import access
from ..services.common.errors import DomainError, Forbidden

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SUPERVISORS_MAY = frozenset(
    {
        "auth.login",
        "auth.logout",
        "auth.logout_everywhere",
        "auth.change_password",
        "auth.reset_password",
        "api_v1.TokenView",
        "api_v1.reset_password",
        "areas.ask",
        "areas.follow_up",
        "areas.accept",
        "api_v1.AreaQuestions",
        "api_v1.accept_question",
        "api_v1.follow_up_question",
    }
)


def _api_user():
    from ..api.tokens import user_from_token

    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return user_from_token(token.strip())
    except DomainError:
        return None  # the view answers 401 as usual


def refuse_supervisor_writes():
    if request.method not in WRITE_METHODS or request.endpoint in SUPERVISORS_MAY:
        return
    user = _api_user() if request.path.startswith("/api/") else current_user
    if user is not None and access.is_read_only(user):
        raise Forbidden(
            _l("A supervisor reads the community's records and changes nothing."),
            code="read_only",
        )
