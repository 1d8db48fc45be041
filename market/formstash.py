"""Post/Redirect/Get for forms with errors, so Back never asks to resubmit a form.

`formtools.submit` answers a form with errors from the POST itself: a later Back lands on that
POST and the browser asks "Confirm Form Resubmission". Here the POST with errors keeps what was
typed (never a password or a file) and the errors in the session and redirects (303) to the
form's own URL; the GET shows them once. Every page of the history is then a GET."""

from flask import redirect, render_template, request, session
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import FileField, PasswordField

from .formtools import run_submitted

KEY = "form_stash"
MAX_VALUE = 500  # longer than any field allows: an over-long value still shows its error
NEVER_KEPT = (PasswordField, FileField)


def _own_url() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def _stash(form: FlaskForm, status: int) -> None:
    kept = {f.name for f in form if f.name != "csrf_token" and not isinstance(f, NEVER_KEPT)}
    errors = {f.name: [str(e) for e in f.errors] for f in form if f.errors}
    # An expired page (CSRF) is said at the top: its hidden field shows no error.
    top = [str(e) for e in form.form_errors] + errors.pop("csrf_token", [])
    session[KEY] = {
        "url": _own_url(),
        "data": [[k, v[:MAX_VALUE]] for k, v in request.form.items(multi=True) if k in kept],
        "errors": errors,
        "form_errors": top,
        "status": status,
    }


def restore(form: FlaskForm) -> int:
    """On the GET after a redirect: fill the form with what was typed and its errors, once.
    Returns the status the POST would have answered (422, 413 …), else 200: the page is the
    same, and a client or test still learns it was refused."""
    kept = session.get(KEY)
    if not kept or kept.get("url") != _own_url():
        return 200
    session.pop(KEY)
    form.process(formdata=MultiDict(kept["data"]))
    for name, errors in kept["errors"].items():
        if name in form:
            form[name].errors = list(errors)
        else:
            form.form_errors.extend(errors)
    form.form_errors.extend(kept["form_errors"])
    return kept.get("status", 400)


def submit(form: FlaskForm, action, template: str, field_map: dict | None = None, **context):
    """Like `formtools.submit`, but a POST always ends in a redirect: to where `action` says
    on success (after the commit), else back to the form's own URL with its errors kept."""
    if form.is_submitted():
        outcome = run_submitted(form, action, field_map)
        if not isinstance(outcome, int):
            return outcome
        _stash(form, outcome)
        return redirect(_own_url(), 303)
    status = restore(form)
    return render_template(template, form=form, **context), status
