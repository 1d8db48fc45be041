from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from ..extensions import db
from ..formtools import submit
from ..services.auth import accounts, login_limits, signins
from ..services.common import audit
from . import bp, browser
from .forms import ChangePasswordForm, LoginForm


def safe_next(target: str | None) -> str | None:
    """Only paths on this site: never send a vendor to another host after logging in."""
    if not target:
        return None
    # Browsers read "/\evil.example" as "//evil.example": backslashes and control characters
    # are refused outright, as is anything with a scheme or a host.
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("main.index"))
    form = LoginForm()
    status, warning = 200, None
    if form.validate_on_submit():
        address = request.remote_addr
        try:
            user = login_limits.attempt(form.phone.data, form.password.data, address)
        except login_limits.TooManyAttempts as e:
            db.session.rollback()
            page = render_template("auth/locked.html", message=e.message, next_url=next_url)
            return page, 429, e.headers
        except login_limits.WrongCredentials as e:
            db.session.commit()  # the count and the audit event
            form.password.errors.append(str(e.message))
            status, warning = 401, e.warning
        else:
            audit.record("user.login", user, actor=user, ip=address)
            session.clear()
            session.permanent = True
            login_user(user)  # starts this browser's session on the server (auth.browser)
            db.session.commit()
            return redirect(next_url or url_for("main.index"))
    elif form.is_submitted():
        status = 400
    page = render_template("auth/login.html", form=form, next_url=next_url, warning=warning)
    return page, status


@bp.route("/logout", methods=["POST"])
def logout():
    browser.end_this_browser()  # a copy of the cookie stops working too
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    signins.end_all(user)
    audit.record("user.logged_out_everywhere", user, actor=user, ip=request.remote_addr)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out on every phone and computer."), "info")
    return redirect(url_for("auth.login"))


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
