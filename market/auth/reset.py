"""Forgotten passwords: staff issue a one-time code in person, the person sets a new password
with it on /login/reset (services.auth.reset_codes)."""

from datetime import datetime

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from ..extensions import db
from ..formtools import attach_error
from ..models import Role
from ..services.auth import login_limits, reset_codes
from ..services.common.errors import DomainError
from . import bp
from .decorators import roles_required
from .forms import IssueResetCodeForm, ResetPasswordForm
from .views import safe_next

ID = "int(max=2147483647)"
SHOWN = "reset_code_shown"  # the code, between the POST that made it and the page showing it
staff_only = roles_required(*Role.STAFF)


def _no_store(body, status: int = 200):
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login/reset", methods=["GET", "POST"])
def reset_password():
    form = ResetPasswordForm()
    status, warning = 200, None
    if form.validate_on_submit():
        try:
            user = reset_codes.redeem(
                form.phone.data, form.code.data, form.new.data, request.remote_addr
            )
        except login_limits.TooManyAttempts as e:
            db.session.rollback()
            page = render_template("auth/locked.html", message=e.message, next_url=None)
            return page, 429, e.headers
        except login_limits.WrongCredentials as e:
            db.session.commit()  # the count and the audit event
            form.code.errors.append(str(e.message))
            status, warning = 401, e.warning
        except DomainError as e:  # a weak password: nothing was counted or used
            db.session.rollback()
            status = attach_error(form, e, {"password": "new"})
        else:
            session.clear()
            session.permanent = True
            login_user(user)
            db.session.commit()
            flash(_("Your new password is set and you are logged in."), "success")
            return redirect(url_for("main.index"), 303)
    elif form.is_submitted():
        status = 400
    return _no_store(render_template("auth/reset.html", form=form, warning=warning), status)


@bp.route("/reset-codes")
@staff_only
def find_user():
    """Staff look up the person who forgot their password (name or phone digits)."""
    q = (request.args.get("q") or "").strip()[:30]
    found = reset_codes.candidates(current_user, q)
    return render_template("auth/reset_find.html", q=q, found=found)


@bp.route(f"/users/<{ID}:user_id>/reset-code", methods=["GET", "POST"])
@staff_only
def issue_code(user_id: int):
    staff = current_user._get_current_object()
    target = reset_codes.target_for(staff, user_id)
    back = safe_next(request.values.get("back"))
    form = IssueResetCodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            issued = reset_codes.issue(staff, target, form.phone_last4.data, ip=request.remote_addr)
        except DomainError as e:
            db.session.rollback()
            status = attach_error(form, e)
        else:
            db.session.commit()
            session[SHOWN] = {
                "user_id": target.id,
                "code": issued.code,
                "expires_at": issued.expires_at.isoformat(),
            }
            return redirect(url_for(".code_issued", user_id=target.id, back=back), 303)
    elif form.is_submitted():
        status = 400
    page = render_template("auth/reset_issue.html", form=form, target=target, back=back)
    return _no_store(page, status)


@bp.route(f"/users/<{ID}:user_id>/reset-code/issued")
@staff_only
def code_issued(user_id: int):
    """The code, once: a reload or Back shows that it was shown already."""
    target = reset_codes.target_for(current_user._get_current_object(), user_id)
    shown = session.pop(SHOWN, None)
    if shown and shown.get("user_id") != target.id:
        shown = None
    context = {"target": target, "back": safe_next(request.args.get("back"))}
    if shown:
        context["code"] = reset_codes.display(shown["code"])
        context["expires_at"] = datetime.fromisoformat(shown["expires_at"])
    return _no_store(render_template("auth/reset_issued.html", **context))
