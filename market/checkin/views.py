"""The scan page (/s/<token>) in every state a vendor can meet, check-in, and the receipt."""

from dataclasses import replace
from functools import partial

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask import session as browser_session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from ..complaints.pages import card_page
from ..dbsetup import late_write
from ..errors import comes_back_to
from ..extensions import db
from ..formtools import in_page_words, new_nonce
from ..models import Market, Payment
from ..services.auth import access
from ..services.checkin import checkins as checkin
from ..services.checkin import payments, stall_read
from ..services.common import idempotency, money, uploads
from ..services.common.clock import now
from ..services.common.errors import DomainError, NotFound
from ..services.common.money import parse_yuan
from ..services.fees import rules as fees
from ..services.sessions import tide as sessions
from ..services.zoning import places as zoning
from . import bp, scan_pages
from .forms import AmountForm, CheckInForm, CollectionCodeForm, ReasonAmountForm, ReasonForm

ID = "int(max=2147483647)"


@bp.app_template_filter("yuan")
def yuan_filter(fen: int) -> str:
    return money.yuan(fen)


@bp.app_template_filter("amount")
def amount_filter(fen: int) -> str:
    return money.amount(fen)


# Templates give each form that must act once a fresh key.
bp.add_app_template_global(new_nonce)


def _user():
    return current_user._get_current_object()


def _vendor_for(stall):
    return access.vendor_in(current_user, stall.market.organization_id)


def _scan_page(stall, error: DomainError | None = None, status: int = 200, lean=None):
    """The vendor's page of a stall; `lean`, a situation from checkin.scan (rows of the one
    read, with its zone and market), saves building it again through the ORM."""
    if lean is not None:
        situation, zone, market = lean
    else:
        zone, market = stall.zone, stall.market
        try:
            situation = checkin.situation(stall, _vendor_for(stall), now())
        except DomainError:  # a market with a broken timezone: the stall page still shows
            situation = checkin.Situation("anonymous", stall)
    if lean is not None and error is None and (page := _drawn(stall, zone, market, situation)):
        return page, status
    return _render(stall, zone, market, situation, error), status


def _drawn(stall, zone, market, situation) -> str | None:
    """The free or move page from scan_pages, with this stall, this reader's CSRF token and a
    fresh nonce; None for a page drawn for its reader alone (another kind, a flashed line)."""
    if "_flashes" in browser_session or not scan_pages.plain_token(stall.qr_token):
        return None
    key = scan_pages.key_of(
        situation,
        zone,
        market,
        locale=str(get_locale()),
        read_only=access.is_read_only(current_user),
        root=request.script_root,
    )
    if key is None:
        return None
    nonce = new_nonce()
    marked = replace(stall, code=scan_pages.STALL_CODE, qr_token=scan_pages.STALL_TOKEN)
    return scan_pages.page(
        key,
        partial(_render, marked, zone, market, situation, None, nonce=nonce),
        code=stall.code,
        token=stall.qr_token,
        csrf=generate_csrf(),
        nonce=nonce,
    )


def _render(stall, zone, market, situation, error, nonce=None) -> str:
    # Only the free, move and back pages carry the form: the others need no form to build.
    form = (
        CheckInForm(nonce=nonce or new_nonce())
        if situation.kind in ("free", "move", "back")
        else None
    )
    here = situation.checkin if situation.kind == "here" else None
    standing = payments.standing(here.charge) if here and here.charge else None
    return render_template(
        "checkin/scan.html",
        stall=stall,
        zone=zone,
        market=market,
        sit=situation,
        status=situation.status,
        form=form,
        error=error,
        # Priced for this vendor (a refusal's own list is the same stalls, unpriced).
        alternatives=situation.alternatives,
        standing=standing,
        refusals=checkin.REFUSALS,
        line_labels=fees.LINE_LABELS,
    )


def _read(token: str, user, replay=None) -> stall_read.AtStall:
    """The stall and what its vendor meets tonight, in one statement (404/410 as the token
    says when there is no such stall)."""
    user_id = user.id if user.is_authenticated else None
    at = stall_read.at_stall(now(), token=token, user_id=user_id, replay=replay)
    if at is None:
        zoning.stall_for_token(token)  # says why: unknown, or a replaced poster
        abort(404)  # created between the two reads: rare enough to call it unknown
    return at


@bp.route("/s/<path:token>")
def scan(token: str):
    """The page behind every stall poster: a vendor of the market gets the check-in flow;
    everyone else (shoppers, neighbours, staff) the stall card, no login needed."""
    at = _read(token, current_user)
    if at.vendor is None:
        return card_page(zoning.stall_for_token(token))
    try:
        situation = checkin.scan(at, now())
    except DomainError:  # a market with a broken timezone: the stall page still shows
        situation = checkin.Situation("anonymous", at.stall)
    if situation is None:  # here, back, taken, held, disabled: the full page
        return _scan_page(zoning.stall_for_token(token))
    return _scan_page(at.stall, lean=(situation, at.zone, at.market))


@bp.route("/s/<path:token>/checkin", methods=["GET"], endpoint="check_in_again")
@bp.route("/s/<path:token>/move", methods=["GET"], endpoint="move_here_again")
def back_to_scan(token: str):
    """A form's address reloaded or bookmarked after an error: the stall's page, not a
    "not a stall of this system" (the token would otherwise read as "<token>/checkin")."""
    return redirect(url_for(".scan", token=token), 303)


@bp.route("/s/<path:token>/checkin", methods=["POST"])
@late_write
@login_required
@comes_back_to("checkin.scan")  # an expired login: log in, back to the confirm step
def check_in(token: str):
    user = _user()
    form = CheckInForm()
    scope, key = "checkin-form", form.nonce.data
    # The stall, the vendor, tonight and the nonce's stored answer: one read.
    at = _read(token, user, replay=(scope, key) if key else None)
    if at.vendor is None:
        abort(403)
    if not form.validate_on_submit():
        abort(400)
    digest = idempotency.request_hash({"stall": at.stall.id, "power": form.uses_power.data})
    position = (
        (form.latitude.data, form.longitude.data)
        if form.latitude.data is not None and form.longitude.data is not None
        else None
    )
    try:
        if stored := idempotency.judge(at.stored, digest):
            return redirect(stored.body["location"])
        done = checkin.confirm(
            at,
            now(),
            actor=user,
            position=position,
            uses_power=form.uses_power.data,
            ip=request.remote_addr,
        )
        location = url_for(".receipt", checkin_id=done.id)
        idempotency.remember(user, scope, key, digest, 303, {"location": location})
    except DomainError as e:
        db.session.rollback()
        e = in_page_words(e)  # Back, the electricity box changed, sent again
        return _scan_page(zoning.stall_for_token(token), e, e.status)
    db.session.commit()
    return redirect(location, 303)


@bp.route("/s/<path:token>/move", methods=["POST"])
@login_required
@comes_back_to("checkin.scan")
def move_here(token: str):
    stall = zoning.stall_for_token(token)
    vendor = _vendor_for(stall)
    if vendor is None or not CheckInForm().validate_on_submit():
        abort(403 if vendor is None else 400)
    try:
        session = sessions.market_status(stall.market, now()).current
        own = session and checkin.active_checkin(session, vendor=vendor)
        if not own:
            raise NotFound()
        checkin.move(own, stall, now(), actor=_user(), ip=request.remote_addr)
    except DomainError as e:
        db.session.rollback()
        return _scan_page(stall, e, e.status)
    db.session.commit()
    flash(_("Moved to stall %(code)s.", code=stall.code), "success")
    return redirect(url_for(".receipt", checkin_id=own.id), 303)


# --- the receipt and what is done on it -------------------------------------------------------


def _pay_form(charge) -> CollectionCodeForm:
    """A fresh collection-code form, its amount prefilled with what is still to pay (never
    bound to another form's POST)."""
    owed = payments.owed_fen(charge)
    return CollectionCodeForm(formdata=None, prefix="pay", amount=money.amount(owed))


def _receipt_page(ci, status=200, **forms):
    charge = ci.charge
    is_staff = access.can_guide_market(current_user, ci.stall.market)
    context = {
        "ci": ci,
        "charge": charge,
        "moves": checkin.moves_of(ci),
        "paid": payments.paid_fen(charge),
        "unpaid": payments.unpaid_fen(charge),
        "owed": payments.owed_fen(charge),
        "is_owner": ci.vendor.user_id == current_user.id,
        "is_staff": is_staff,
        "is_manager": access.can_manage_market(current_user, ci.stall.market),
        "standing": payments.standing(charge),
        "is_voided": payments.is_voided,
        "is_rejected_report": payments.is_rejected_report,
        "reversal_of": payments.reversal_of,
        "may_void": payments.may_void,
        "pay_form": forms.get("pay_form") or _pay_form(charge),
        "cash_form": forms.get("cash_form") or AmountForm(prefix="cash"),
        "waive_form": forms.get("waive_form") or ReasonAmountForm(prefix="waive"),
        "void_form": ReasonForm(prefix="void"),
        "line_labels": fees.LINE_LABELS,
    }
    return render_template("checkin/receipt.html", **context), status


@bp.route(f"/markets/<{ID}:market_id>/collection-code")
@login_required
def collection_code(market_id: int):
    """The image vendors pay into: for the market's vendors and staff."""
    market = db.session.get(Market, market_id)
    allowed = market is not None and (
        access.vendor_in(current_user, market.organization_id) is not None
        or access.can_guide_market(current_user, market)
    )
    path = (
        uploads.stored_path(uploads.uploads_dir(), market.collection_code_path) if allowed else None
    )
    if path is None:
        abort(404)
    return send_file(path, max_age=300)


@bp.route(f"/receipts/<{ID}:checkin_id>")
@login_required
def receipt(checkin_id: int):
    return _receipt_page(checkin.checkin_for(_user(), checkin_id))


def _money_action(checkin_id: int, form, run, prefix: str, done: str):
    ci = checkin.checkin_for(_user(), checkin_id)
    if not form.validate_on_submit():
        return _receipt_page(ci, 400, **{f"{prefix}_form": form})
    try:
        run(ci, parse_yuan(form.amount.data))
    except DomainError as e:
        db.session.rollback()
        form.amount.errors = [*form.amount.errors, str(e.message)]
        return _receipt_page(ci, e.status, **{f"{prefix}_form": form})
    db.session.commit()
    flash(done, "success")
    # "#top": the form was posted to its own anchor; done, the receipt opens at its message.
    return redirect(url_for(".receipt", checkin_id=ci.id, _anchor="top"), 303)


@bp.route(f"/receipts/<{ID}:checkin_id>/<any(pay, cash, waive, checkout):action>")
@login_required
def back_to_receipt(checkin_id: int, action: str):
    """GET on a form's address (reloaded after a validation error): the receipt it is on."""
    ci = checkin.checkin_for(_user(), checkin_id)
    return redirect(url_for(".receipt", checkin_id=ci.id), 303)


@bp.route(f"/receipts/<{ID}:checkin_id>/pay", methods=["POST"])
@login_required
def report_payment(checkin_id: int):
    form = CollectionCodeForm(prefix="pay")

    def run(ci, fen):
        if ci.vendor.user_id != current_user.id:
            raise NotFound()
        payments.report_collection_code(
            ci.charge, fen, form.reference.data, _user(), ip=request.remote_addr
        )

    return _money_action(
        checkin_id,
        form,
        run,
        "pay",
        _("We told the guide; please wait for them to confirm your payment."),
    )


@bp.route(f"/receipts/<{ID}:checkin_id>/cash", methods=["POST"])
@login_required
def record_cash(checkin_id: int):
    return _money_action(
        checkin_id,
        AmountForm(prefix="cash"),
        lambda ci, fen: payments.record_cash(ci.charge, fen, _user(), ip=request.remote_addr),
        "cash",
        _("Cash recorded."),
    )


@bp.route(f"/receipts/<{ID}:checkin_id>/waive", methods=["POST"])
@login_required
def waive(checkin_id: int):
    form = ReasonAmountForm(prefix="waive")
    return _money_action(
        checkin_id,
        form,
        lambda ci, fen: payments.waive(
            ci.charge, fen, form.reason.data, _user(), ip=request.remote_addr
        ),
        "waive",
        _("Fee waived."),
    )


@bp.route(f"/receipts/<{ID}:checkin_id>/checkout", methods=["POST"])
@login_required
def check_out(checkin_id: int):
    ci = checkin.checkin_for(_user(), checkin_id)  # CSRF is checked app-wide for every POST
    checkin.check_out(ci, now(), actor=_user(), ip=request.remote_addr)
    db.session.commit()
    flash(_("Checked out. Thank you!"), "success")
    return redirect(url_for(".receipt", checkin_id=ci.id), 303)


def _payment_for(payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise NotFound()
    checkin.checkin_for(_user(), payment.charge.checkin_id)  # 404 unless owner or staff
    return payment


@bp.route(f"/payments/<{ID}:payment_id>/confirm", methods=["POST"])
@login_required
def confirm_payment(payment_id: int):
    payment = _payment_for(payment_id)
    payments.confirm(payment, _user(), ip=request.remote_addr)
    db.session.commit()
    flash(_("Payment confirmed."), "success")
    return redirect(url_for(".receipt", checkin_id=payment.charge.checkin_id), 303)


@bp.route(f"/payments/<{ID}:payment_id>/void", methods=["POST"])
@login_required
def void_payment(payment_id: int):
    payment = _payment_for(payment_id)
    form = ReasonForm(prefix="void")
    if not form.validate_on_submit():
        flash(_("Say why the payment is voided."), "error")
        return redirect(url_for(".receipt", checkin_id=payment.charge.checkin_id), 303)
    try:
        payments.void(payment, _user(), form.reason.data, ip=request.remote_addr)
    except DomainError as e:
        db.session.rollback()
        flash(str(e.message), "error")
        return redirect(url_for(".receipt", checkin_id=payment.charge.checkin_id), 303)
    db.session.commit()
    flash(_("Payment voided."), "success")
    return redirect(url_for(".receipt", checkin_id=payment.charge.checkin_id), 303)
