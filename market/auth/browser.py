"""The logged-in browser: flask-login's user loader checks the session cookie's key against
login_sessions on every request (services.auth.signins), so logging out ends it on the server.

Every login_user() (the login page, a reset, a registration) starts a server-side session
through flask-login's user_logged_in signal, unless this browser already has a live one (a
password change logs the same browser in again with the new version)."""

from flask import session
from flask_login import user_logged_in

from ..services.auth import signins

SESSION_KEY = "_login_key"


def load_user(value: str):
    user_id, _, version = value.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    return signins.user_for(int(user_id), int(version), session.get(SESSION_KEY))


def _started(_app, user, **_extra) -> None:
    if not signins.is_live(user, session.get(SESSION_KEY)):
        session[SESSION_KEY] = signins.start(user)


def end_this_browser() -> None:
    """Log this browser out on the server; the caller commits and clears the session."""
    signins.end(session.get(SESSION_KEY))


def init_app(login_manager) -> None:
    login_manager.user_loader(load_user)
    user_logged_in.connect(_started)
