"""Every error as a page in the visitor's language, or as the API's JSON error body."""

import errno
import logging
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from . import dbsetup
from .extensions import db, htmx, login_manager
from .services.common.errors import DomainError

log = logging.getLogger("market.errors")
# "No space left on device" and "disk quota exceeded": the disk, not the request, is at fault.
DISK_FULL = {errno.ENOSPC, errno.EDQUOT}

# (snake_case code for the API, title, explanation for a person)
MESSAGES = {
    400: ("bad_request", _l("Bad request"), _l("The request could not be understood.")),
    401: ("unauthorized", _l("Please log in"), _l("You need to log in to see this page.")),
    403: ("forbidden", _l("Not allowed"), _l("You do not have permission to see this page.")),
    404: ("not_found", _l("Not found"), _l("This page does not exist, or it has been removed.")),
    405: ("method_not_allowed", _l("Not allowed"), _l("This address does not accept that.")),
    409: ("conflict", _l("Conflict"), _l("This conflicts with the current state.")),
    410: ("gone", _l("No longer here"), _l("This address has been replaced.")),
    413: ("payload_too_large", _l("Too large"), _l("The file or form is too large.")),
    415: ("unsupported_media_type", _l("Unsupported"), _l("This kind of content is not accepted.")),
    422: ("validation_error", _l("Check your input"), _l("Some of the input is not valid.")),
    429: (
        "rate_limited",
        _l("Too many attempts"),
        _l("Too many requests in a short time. Please wait a minute and try again."),
    ),
    500: (
        "internal_error",
        _l("Something went wrong"),
        _l("Something went wrong on our side. Please try again; staff have been told."),
    ),
    503: (
        "unavailable",
        _l("Temporarily unavailable"),
        _l("The system is busy or under maintenance. Please try again in a minute."),
    ),
}
CSRF_MESSAGE = _l("This form has expired. Please go back, reload the page and try again.")
LOGIN_EXPIRED = _l("Your login has expired, please log in again.")
PAGE_EXPIRED = _l("This page has expired. Reload it and try again.")
# The layout's status line (templates/base.html): where an htmx request's error goes.
HX_STATUS = "#hx-status"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _hx() -> bool:
    """An htmx request that swaps a part of the page (not a boosted whole page)."""
    return bool(htmx) and not htmx.boosted


def _same_site_path(url: str | None) -> str | None:
    """The path (and query) of a URL of this site, as given by Referer or HX-Current-URL;
    None for another host or anything that could read as one (`//x`, `/\\x`)."""
    if not url:
        return None
    parts = urlsplit(url)
    path = parts.path
    if parts.netloc and parts.netloc != request.host:
        return None
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def comes_back_to(endpoint: str):
    """Mark a form's POST view whose work must survive an expired login: when the login or the
    form's CSRF token is gone, the visitor is sent (303) to log in and then to `endpoint` (with
    the same view arguments), the page the form is on, where nothing was written and the step
    can be done again, instead of an error page. Put it below the route and login decorators."""

    def mark(view):
        view.comes_back_to = endpoint
        return view

    return mark


def _come_back_target() -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    endpoint = getattr(view, "comes_back_to", None)
    if endpoint is None or request.method != "POST":
        return None
    return url_for(endpoint, **(request.view_args or {}))


def _come_back(target: str):
    if current_user.is_authenticated:  # only the form's token was stale: no login needed
        flash(_("This page had expired and nothing was saved. Please try again."), "info")
        return redirect(target, 303)
    flash(str(LOGIN_EXPIRED), "info")
    return redirect(url_for("auth.login", next=target), 303)


def unauthorized():
    """Flask-Login's answer to a missing login. htmx: a 401 line, never the login page pasted
    into the board; a form marked `comes_back_to`: log in and back to its page; else the
    extension's own redirect to the login page with `next`."""
    if _hx():
        return error_response(401)
    if (target := _come_back_target()) is not None:
        return _come_back(target)
    if login_manager.login_message:
        flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=request.url))


def _hx_line(status: int, message: str, code: str):
    """The answer to an htmx request that failed: one line in the layout's status area, with
    a way to log in again when the login is the problem. The board or the panel the request
    meant to update stays as it was, with whatever was typed in its forms."""
    expired = status == 401 or code == "csrf_failed"
    back = _same_site_path(request.headers.get("HX-Current-URL"))
    link = link_text = None
    if expired and not current_user.is_authenticated:
        message, link, link_text = str(LOGIN_EXPIRED), url_for("auth.login", next=back), _("Log in")
    elif expired:  # logged in (again, in another tab): only the page's form tokens are stale
        message, link, link_text = str(PAGE_EXPIRED), back or url_for("main.index"), _("Reload")
    body = render_template("errors/_hx_line.html", message=message, link=link, link_text=link_text)
    headers = {"HX-Retarget": HX_STATUS, "HX-Reswap": "innerHTML"}
    if expired:
        headers["HX-Trigger"] = "session-expired"  # board.js keeps what was typed
    return body, headers


def error_response(status: int, message=None, code: str | None = None, details=None, headers=None):
    default_code, title, text = MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])
    code = code or default_code
    message = str(message or text)
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if details:
            body["error"]["details"] = details
        response = jsonify(body)
    elif _hx():
        response, hx_headers = _hx_line(status, message, code)
        headers = {**(headers or {}), **hx_headers}
    else:
        back = _same_site_path(request.referrer) if code == "csrf_failed" else None
        response = render_template(
            "errors/error.html", status=status, title=title, message=message, back_url=back
        )
    return response, status, headers or {}


def handle_http_exception(e: HTTPException):
    status = e.code or 500
    headers = {}
    if status == 405 and getattr(e, "valid_methods", None):
        headers["Allow"] = ", ".join(e.valid_methods)
    if status == 429 and e.get_headers():
        headers.update({k: v for k, v in e.get_headers() if k.lower() == "retry-after"})
    data = getattr(e, "data", None) or {}
    if isinstance(data.get("headers"), dict):
        headers.update(data["headers"])
    details = data.get("errors") or data.get("messages")
    message = data.get("message")
    if e.__class__.__name__ == "CSRFError":
        if not wants_json() and not _hx() and (target := _come_back_target()) is not None:
            return _come_back(target)
        return error_response(400, CSRF_MESSAGE, code="csrf_failed", headers=headers)
    if status == 422 and details and not message:
        message = _l("Some of the input is not valid.")
    return error_response(status, message, details=details, headers=headers)


def _rollback() -> None:
    """Undo the request's writes. When the connection itself was lost (the database stopped
    mid-request) there is nothing left to undo, and the answer must still go out."""
    try:
        db.session.rollback()
    except DBAPIError as e:
        log.warning("rollback on a lost connection: %s", e.orig)
        db.session.remove()


def _end_a_readers_transaction() -> None:
    """A page read (GET, HEAD, OPTIONS) on PostgreSQL ends its transaction with COMMIT, not
    the teardown's ROLLBACK: psycopg forgets every prepared statement of the connection at a
    rollback, so the hot statements (the user, the stall read) were planned again on every
    request: 1.6 ms of the server's time each for the stall read.

    What makes it safe is the statements alone: only a transaction that ran nothing but
    SELECT or SHOW (dbsetup.only_read) with nothing pending in the session is committed, so
    it wrote nothing. A SELECT that writes (a function with side effects, SELECT … INTO) would
    be committed here; none runs on a page read, and any such must not. The commit keeps the
    objects loaded, as the close() after it would; a failure here is logged and the close()
    still runs."""
    if not g.get("page_read"):
        return
    session = db.session()  # the request's own, not the scoped proxy
    if (
        not session.in_transaction()
        or session.new
        or session.dirty
        or session.deleted
        or session.get_bind().dialect.name != "postgresql"
    ):
        return
    try:
        connection = session.connection()
        if connection.invalidated or not dbsetup.only_read(connection):
            return
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    except Exception as e:  # noqa: BLE001  the response is made: close() rolls back instead
        log.warning("commit of a page read at teardown failed: %r", e)


def release_session(_exc: BaseException | None = None) -> None:
    """End the app context's session without raising: registered to run just before
    Flask-SQLAlchemy's own teardown, whose `session.remove()` sends a ROLLBACK. When the
    database dropped the connection after the request's last query, that ROLLBACK raised after
    every error handler had run and the server answered a bare 500. Here the failure is
    logged, the connection invalidated (never returned to the pool), and the session removed,
    so the extension's teardown finds nothing left to do."""
    try:
        _end_a_readers_transaction()
        # close() rolls back like the extension's remove() does, without expiring the objects
        # a test or a command still reads after its app context.
        db.session.close()
    except DBAPIError as e:
        log.warning("rollback at teardown on a lost connection: %s", e.orig)
        try:
            db.session.invalidate()
        except Exception:  # the response is already made: nothing here may fail it
            log.exception("invalidating the session at teardown failed")
    try:
        db.session.remove()
    except Exception:
        log.exception("closing the session at teardown failed")


def handle_domain_error(e: DomainError):
    _rollback()
    details = {e.field: [str(e.message)]} if e.field else {}
    details.update(getattr(e, "details", None) or {})
    headers = getattr(e, "headers", None)  # e.g. Retry-After of a login refused for a while
    return error_response(
        e.status, e.message, code=e.code, details=details or None, headers=headers
    )


def handle_integrity_error(e: IntegrityError):
    """A race the service checks could not see (two cadres, two phones): a conflict, not a 500."""
    _rollback()
    log.warning("integrity error turned into 409: %s", e.orig)
    return error_response(409, _l("Someone else changed this at the same time. Please try again."))


def handle_database_down(e: OperationalError | InterfaceError):
    _rollback()
    log.error("database unavailable: %s", e.orig)
    return error_response(503, headers={"Retry-After": "30"})


def handle_os_error(e: OSError):
    """A full disk (or quota) is an outage like a stopped database: 503, the request's writes
    rolled back. Any other OSError is a bug."""
    if e.errno not in DISK_FULL:
        return handle_unexpected(e)
    _rollback()
    log.error("disk full: %s", e)
    return error_response(503, headers={"Retry-After": "30"})


def handle_unexpected(e: Exception):
    if isinstance(e, HTTPException):
        return handle_http_exception(e)
    log.exception("unhandled error")
    _rollback()
    return error_response(500)


def init_app(app):
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(InterfaceError, handle_database_down)  # "connection closed"
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OSError, handle_os_error)  # a full disk while storing an upload
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(Exception, handle_unexpected)
