"""Forms and services meeting: one submitted form is one service call and one transaction."""

import uuid

from flask import redirect, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, NumberRange, StopValidation

from .extensions import db
from .services.common import idempotency
from .services.common.errors import DomainError, InvalidInput

# One wording for an empty required field on every form (WTForms' own differs).
REQUIRED = _l("This field is required.")
FORM_ALREADY_SENT = _l(
    "This form was already sent once. To send what it holds now too, send it again."
)


def _parsed(_form, field) -> None:
    # "abc" in a number field: WTForms' own "not a valid integer" is enough; without this
    # stop, the range check below added a second message about the (missing) number.
    if field.process_errors:
        raise StopValidation()


def whole_number(low: int, high: int) -> list:
    """Validators of a required integer field: one clear message whatever was typed."""
    return [InputRequired(REQUIRED), _parsed, NumberRange(low, high)]


def new_nonce() -> str:
    """A fresh key for a form that must take effect once, however often it is sent."""
    return uuid.uuid4().hex


def once_per_nonce(user, scope: str, form: FlaskForm, payload: dict, run, status: int = 200):
    """`idempotency.once` keyed by the form's nonce: a double tap or a resent form gets the
    first answer. Other content under a used nonce (a form sent, then reached again with the
    back button and changed) is refused in a page's words, not the API's, and the form gets a
    fresh nonce, so that sending it again is a new request."""
    try:
        return idempotency.once(user, scope, form.nonce.data, payload, run, status=status)
    except InvalidInput as e:
        if e.code != "idempotency_key_reused":
            raise
        form.nonce.data = new_nonce()
        raise in_page_words(e) from e


def in_page_words(error: DomainError) -> DomainError:
    """A used nonce under other content, said as a page says it (the API's own message
    speaks of an Idempotency-Key); any other error as it is."""
    if error.code == "idempotency_key_reused":
        return InvalidInput(FORM_ALREADY_SENT, code="form_already_sent")
    return error


def attach_error(form: FlaskForm, error: DomainError, field_map: dict | None = None) -> int:
    """Show the error beside its field (or at the top of the form); return its HTTP status."""
    name = (field_map or {}).get(error.field, error.field)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, str(error.message)]
    else:
        form.form_errors.append(str(error.message))
    return error.status


def run_submitted(form: FlaskForm, action, field_map: dict | None = None):
    """A submitted form: if valid, run `action` (which returns where to go next), commit and
    give the redirect; else the 4xx status, the form holding its errors."""
    if not form.validate():
        return 400
    try:
        target = action()
    except DomainError as e:
        db.session.rollback()
        return attach_error(form, e, field_map)
    db.session.commit()
    return redirect(target)


def submit(form: FlaskForm, action, template: str, field_map: dict | None = None, **context):
    """On a valid POST run `action`, commit and redirect; otherwise, or when a rule says no,
    show the form again with its errors and a 4xx."""
    status = 200
    if form.is_submitted():
        outcome = run_submitted(form, action, field_map)
        if not isinstance(outcome, int):
            return outcome
        status = outcome
    return render_template(template, form=form, **context), status


def form_values(form: FlaskForm, names) -> dict:
    return {n: getattr(form, n).data for n in names if hasattr(form, n)}
