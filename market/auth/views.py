from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, limiter
from ..formtools import submit
from ..services import accounts, audit
from . import bp
from .forms import ChangePasswordForm, LoginForm


def safe_next(target: str | None) -> str | None:
    """Only paths on this site: never send a vendor to another host after logging in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda r: r.status_code == 401)
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.phone.data, form.password.data)
        if user is not None:
            audit.record("user.login", user, actor=user, ip=request.remote_addr)
            db.session.commit()
            session.clear()
            session.permanent = True
            login_user(user)
            return redirect(next_url or url_for("main.index"))
        form.password.errors.append(_("Wrong phone number or password."))
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form, next_url=next_url), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()

    def action():
        accounts.change_password(user, form.current.data, form.new.data, ip=request.remote_addr)
        login_user(user)  # the session's user id carries the new token version
        flash(_("Your password has been changed. Other devices are logged out."), "success")
        return url_for("main.index")

    return submit(form, action, "auth/password.html", {"password": "new"})
