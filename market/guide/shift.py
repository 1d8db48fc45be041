"""The guide's shift: cash taken this session, handing it over; the cadre counts it."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..extensions import db
from ..formtools import attach_error, new_nonce, once_per_nonce
from ..models import Role
from ..services.auth import access
from ..services.common.clock import now
from ..services.common.errors import DomainError
from ..services.common.money import amount, parse_yuan, yuan
from ..services.guide import handovers
from ..services.sessions import owing
from ..services.sessions import tide as sessions
from . import bp
from .forms import ConfirmHandoverForm, HandoverForm
from .views import guided_markets

ID = "int(max=2147483647)"


def _user():
    return current_user._get_current_object()


def _shift_page(status: int = 200, form=None, form_market_id=None):
    at = now()
    rows = []
    for market in guided_markets():
        session = sessions.current_session(market.id, at)
        held = handovers.unhanded_fen(current_user.id, market.id)
        rows.append(
            {
                "market": market,
                "session": session,
                "per_stall": handovers.session_cash(current_user.id, session) if session else [],
                "held_fen": held,
                # Tonight's and earlier unpaid fees: what is still to collect, and from whom.
                "owes": owing.who_owes(market, current_user),
                "form": form
                if form is not None and form_market_id == market.id
                else HandoverForm(
                    prefix="handover",
                    nonce=new_nonce(),
                    amount=amount(held) if held > 0 else None,
                ),
            }
        )
    return (
        render_template(
            "guide/shift.html", rows=rows, history=handovers.handovers_of_guide(current_user.id)
        ),
        status,
    )


@bp.route("/shift")
@roles_required(*Role.STAFF)
def shift():
    return _shift_page()


def _once(form, scope: str, payload: dict, run):
    """Run once per nonce; a repeat gets the first answer (where to go next)."""

    def answer():
        location, message = run()
        return {"location": location, "message": message}

    body = once_per_nonce(_user(), scope, form, payload, answer, status=303)
    return body["location"], body["message"]


@bp.route(f"/markets/<{ID}:market_id>/handover", endpoint="hand_over_again")
@roles_required(*Role.STAFF)
def back_to_shift(market_id: int):
    """GET on the form's address (reloaded after a validation error): the shift page."""
    access.market_for_guide(current_user, market_id)
    return redirect(url_for(".shift"), 303)


@bp.route(f"/markets/<{ID}:market_id>/handover", methods=["POST"])
@roles_required(*Role.STAFF)
def hand_over(market_id: int):
    market = access.market_for_guide(current_user, market_id)
    form = HandoverForm(prefix="handover")
    if not form.validate_on_submit():
        return _shift_page(400, form, market.id)

    def run():
        fen = parse_yuan(form.amount.data)
        handover = handovers.hand_over(
            _user(), market, fen, now(), note=form.note.data, ip=request.remote_addr
        )
        return url_for(".shift"), _(
            "Hand-over of %(amount)s recorded; a cadre will count it.",
            amount=yuan(handover.declared_fen),
        )

    try:
        location, message = _once(
            form, "handover", {"market": market.id, "amount": form.amount.data}, run
        )
    except DomainError as e:
        db.session.rollback()
        return _shift_page(attach_error(form, e, {"declared": "amount"}), form, market.id)
    db.session.commit()
    flash(message, "success")
    return redirect(location, 303)


def _count_prefix(handover_id: int) -> str:
    # One form per waiting hand-over on the page: ids (and labels) must stay unique.
    return f"count{handover_id}"


def _handovers_page(status: int = 200, form=None, form_handover_id=None):
    """The cadre's list. A waiting hand-over asks for the count with an empty field and no
    amount beside it: the records and the guide's figure come after the count (blind count)."""
    org_ids = access.managed_organization_ids(current_user)
    pending = handovers.pending_for(org_ids)
    forms = {
        h.id: form
        if form is not None and form_handover_id == h.id
        else ConfirmHandoverForm(prefix=_count_prefix(h.id), nonce=new_nonce())
        for h in pending
    }
    return (
        render_template(
            "guide/handovers.html",
            pending=pending,
            forms=forms,
            holding=handovers.cash_not_handed_over(org_ids),
            recent=handovers.recent_for(org_ids),
        ),
        status,
    )


def _comparison_page(handover, form, counted_fen: int, status: int = 200):
    """Step two: the count beside the records and the difference; a note when they differ."""
    form.compared.data = "1"
    return (
        render_template(
            "guide/handover_count.html",
            handover=handover,
            form=form,
            counted_fen=counted_fen,
            difference_fen=counted_fen - handover.expected_fen,
        ),
        status,
    )


@bp.route("/handovers")
@roles_required(*Role.MANAGERS)
def handover_list():
    return _handovers_page()


@bp.route(f"/handovers/<{ID}:handover_id>/confirm", endpoint="confirm_handover_again")
@roles_required(*Role.MANAGERS)
def back_to_handovers(handover_id: int):
    handovers.handover_for_manager(current_user, handover_id)
    return redirect(url_for(".handover_list"), 303)


@bp.route(f"/handovers/<{ID}:handover_id>/confirm", methods=["POST"])
@roles_required(*Role.MANAGERS)
def confirm_handover(handover_id: int):
    """Two posts: the count alone answers with the comparison page; the comparison page's
    form (compared=1) confirms it."""
    handover = handovers.handover_for_manager(current_user, handover_id)
    form = ConfirmHandoverForm(prefix=_count_prefix(handover.id))
    if not form.validate_on_submit():
        return _handovers_page(400, form, handover.id)
    try:
        fen = parse_yuan(form.amount.data)
    except DomainError as e:
        return _handovers_page(attach_error(form, e, {"received": "amount"}), form, handover.id)
    if form.compared.data != "1":
        return _comparison_page(handover, form, fen)

    def run():
        handovers.confirm(
            handover, _user(), fen, now(), note=form.note.data, ip=request.remote_addr
        )
        return url_for(".handover_list"), _(
            "Counted %(amount)s from %(guide)s.", amount=yuan(fen), guide=handover.guide.name
        )

    payload = {"handover": handover.id, "amount": form.amount.data, "note": form.note.data}
    try:
        location, message = _once(form, "handover-confirm", payload, run)
    except DomainError as e:
        db.session.rollback()
        if e.field == "received":
            return _handovers_page(attach_error(form, e, {"received": "amount"}), form, handover.id)
        return _comparison_page(handover, form, fen, attach_error(form, e))
    db.session.commit()
    flash(message, "success")
    return redirect(location, 303)
