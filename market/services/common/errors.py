"""Errors a service raises when a rule says no; views and the API turn them into responses."""

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A rule was broken. `code` is stable (API clients rely on it), `message` is for people."""

    status = 422
    code = "rule_violated"
    default_message = _l("This action is not allowed.")

    def __init__(self, message=None, code: str | None = None, field: str | None = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.field = field
        super().__init__(str(self.message))


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("Not found.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You do not have permission to do this.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _l("This conflicts with the current state.")


class InvalidInput(DomainError):
    """Input that parses but breaks a rule (INTERFACE.md: 422)."""

    status = 422
    code = "invalid_input"
    default_message = _l("The input is not valid.")
