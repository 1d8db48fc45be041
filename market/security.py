"""Cookies and response headers that keep browsers on our side."""

from datetime import UTC, datetime, timedelta

from flask import request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _now() -> datetime:
    return datetime.now(UTC)


class SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS (ProxyFix aware),
    and renew an unchanged cookie once a day, not on every request: the month a vendor stays
    logged in still counts from their last day of use, and a request no longer pays for
    signing a new cookie (about a sixth of a logged-in request's own cost)."""

    renew_after = timedelta(days=1)

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def open_session(self, app, request):
        signer = self.get_signing_serializer(app)
        value = request.cookies.get(self.get_cookie_name(app)) if signer else None
        if not value:
            return super().open_session(app, request)
        lifetime = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = signer.loads(value, max_age=lifetime, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at
        return session

    def should_set_cookie(self, app, session) -> bool:
        if not super().should_set_cookie(app, session):
            return False
        signed_at = getattr(session, "signed_at", None)
        return session.modified or signed_at is None or _now() - signed_at >= self.renew_after


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
