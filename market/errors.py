"""Every error as a page in the visitor's language, or as the API's JSON error body."""

import logging

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db
from .services.errors import DomainError

log = logging.getLogger("market.errors")

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


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message=None, code: str | None = None, details=None, headers=None):
    default_code, title, text = MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])
    code = code or default_code
    message = str(message or text)
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if details:
            body["error"]["details"] = details
        response = jsonify(body)
    else:
        response = render_template("errors/error.html", status=status, title=title, message=message)
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


def handle_domain_error(e: DomainError):
    _rollback()
    details = {e.field: [str(e.message)]} if e.field else {}
    details.update(getattr(e, "details", None) or {})
    return error_response(e.status, e.message, code=e.code, details=details or None)


def handle_integrity_error(e: IntegrityError):
    """A race the service checks could not see (two cadres, two phones): a conflict, not a 500."""
    _rollback()
    log.warning("integrity error turned into 409: %s", e.orig)
    return error_response(409, _l("Someone else changed this at the same time. Please try again."))


def handle_database_down(e: OperationalError | InterfaceError):
    _rollback()
    log.error("database unavailable: %s", e.orig)
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
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(Exception, handle_unexpected)
