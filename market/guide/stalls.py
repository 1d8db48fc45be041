"""A stall's panel on the guide's board and what a guide does there. Each action is one POST,
made harmless to repeat by its nonce, and answers with the panel again (htmx) or a redirect."""

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..auth.decorators import roles_required
from ..extensions import db, htmx
from ..formtools import attach_error, new_nonce, once_per_nonce
from ..models import Payment, Role, Vendor
from ..services.auth import access
from ..services.checkin import checkins as checkin
from ..services.checkin import payments
from ..services.common.clock import now
from ..services.common.errors import Conflict, DomainError, NotFound
from ..services.common.money import amount, parse_yuan, yuan
from ..services.guide import board, incidents
from ..services.sessions import tide as sessions
from ..services.vendors import registry as vendors
from . import bp
from .forms import (
    CashForm,
    GuideCheckInForm,
    IncidentForm,
    MoveForm,
    MoveHereForm,
    NonceForm,
    RejectPaymentForm,
    ResolveForm,
)

ID = "int(max=2147483647)"
SEARCH_MAX = 30


def _user():
    return current_user._get_current_object()


def _panel(stall, status: int = 200, message: str | None = None, move_offer=None, **forms):
    state = board.build(stall.market, now())
    row = board.with_records(state.by_stall[stall.id])
    q = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    found = []
    if q and row.checkin is None and state.session is not None:
        found, _total = vendors.search([stall.market.organization_id], q=q, per_page=10)
    move_form = forms.get("move_form") or MoveForm(prefix="move", nonce=new_nonce())
    free = [r.stall for r in board.sorted_rows(state, "zone") if r.state == board.StallState.FREE]
    move_form.to_stall.choices = [SelectChoice(s.id, s.code) for s in free]
    context = {
        "stall": stall,
        "market": stall.market,
        "board": state,
        "row": row,
        "state_label": board.state_label(row),
        "flagged_label": board.FLAGGED_LABEL,
        "pending": board.pending_payments(row),
        "awaiting_confirmation": board.awaiting_confirmation(row),
        "open_incidents": [
            i for i in incidents.open_incidents(stall.market_id) if i.stall_id == stall.id
        ],
        "recent_incidents": incidents.earlier_incidents_of_stall(stall.id),
        "kind_label": incidents.kind_label,
        "category_label": vendors.category_label,
        "can_trade": vendors.can_trade,
        "q": q,
        "found": found,
        "message": message,
        "cash_form": forms.get("cash_form")
        or CashForm(prefix="cash", nonce=new_nonce(), amount=_default_amount(row)),
        "move_form": move_form,
        "incident_form": forms.get("incident_form")
        or IncidentForm(prefix="incident", nonce=new_nonce()),
        "resolve_form": forms.get("resolve_form") or ResolveForm(prefix="resolve"),
        "plain_form": forms.get("plain_form") or NonceForm(prefix="act"),
        "checkin_form": forms.get("checkin_form") or GuideCheckInForm(prefix="ci"),
        "reject_form": forms.get("reject_form") or RejectPaymentForm(prefix="reject"),
        "move_offer": move_offer,
    }
    template = "guide/_panel.html" if htmx and not htmx.boosted else "guide/panel.html"
    return make_response(render_template(template, **context), status)


def _default_amount(row) -> str | None:
    owed = row.unpaid_fen - row.pending_fen
    return amount(owed) if owed > 0 else None


def _done(stall, message: str):
    if htmx:
        response = _panel(stall, message=message)
        # Every board on this page refreshes at once instead of at its next poll.
        response.headers["HX-Trigger"] = "board-changed"
        return response
    flash(message, "success")
    return redirect(url_for(".stall_panel", stall_id=stall.id), 303)


def _act(stall, form, form_name: str, scope: str, run, on_error=None, **payload):
    """Validate, replay a repeated nonce, run the service, remember, commit. `on_error`
    (a dict `run` may fill) goes to the panel shown when a rule says no."""
    if not form.validate_on_submit():
        return _panel(stall, 400, **{form_name: form})
    try:
        body = once_per_nonce(
            _user(), scope, form, {"stall": stall.id, **payload}, lambda: {"message": run()}
        )
    except DomainError as e:
        db.session.rollback()
        status = attach_error(form, e, {"field": None})
        return _panel(stall, status, **(on_error or {}), **{form_name: form})
    db.session.commit()
    return _done(stall, body["message"])


def _active(stall):
    state = board.build(stall.market, now())
    row = state.by_stall[stall.id]
    if row.checkin is None:
        raise NotFound(_("Nobody is checked in at this stall."), code="no_checkin")
    return board.with_records(row).checkin


@bp.route(f"/stalls/<{ID}:stall_id>")
@roles_required(*Role.STAFF)
def stall_panel(stall_id: int):
    return _panel(access.stall_for_guide(current_user, stall_id))


@bp.route(f"/stalls/<{ID}:stall_id>/cash", methods=["POST"])
@roles_required(*Role.STAFF)
def stall_cash(stall_id: int):
    stall = access.stall_for_guide(current_user, stall_id)
    form = CashForm(prefix="cash")

    def run():
        fen = parse_yuan(form.amount.data)
        payments.record_cash(_active(stall).charge, fen, _user(), ip=request.remote_addr)
        return _("Cash %(amount)s recorded for %(code)s.", amount=yuan(fen), code=stall.code)

    return _act(stall, form, "cash_form", "guide-cash", run, amount=form.amount.data)


@bp.route(f"/stalls/<{ID}:stall_id>/payments/<{ID}:payment_id>/confirm", methods=["POST"])
@roles_required(*Role.STAFF)
def stall_confirm(stall_id: int, payment_id: int):
    stall = access.stall_for_guide(current_user, stall_id)
    form = NonceForm(prefix="act")

    def run():
        payment = _payment_at(stall, payment_id)
        payments.confirm(payment, _user(), ip=request.remote_addr)
        return _("Payment of %(amount)s confirmed.", amount=yuan(payment.amount_fen))

    return _act(stall, form, "plain_form", "guide-confirm", run, payment=payment_id)


def _payment_at(stall, payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.charge.checkin.stall_id != stall.id:
        raise NotFound()
    return payment


@bp.route(f"/stalls/<{ID}:stall_id>/payments/<{ID}:payment_id>/reject", methods=["POST"])
@roles_required(*Role.STAFF)
def stall_reject(stall_id: int, payment_id: int):
    """A reported collection-code payment that is not on the statement: voided (reversed, with
    the reason), so the fee is owed again and the cash form comes back."""
    stall = access.stall_for_guide(current_user, stall_id)
    form = RejectPaymentForm(prefix="reject")

    def run():
        payment = _payment_at(stall, payment_id)
        payments.reject_report(payment, _user(), form.reason.data, ip=request.remote_addr)
        return _(
            "The reported payment of %(amount)s was rejected; %(code)s owes it again.",
            amount=yuan(payment.amount_fen),
            code=stall.code,
        )

    return _act(
        stall, form, "reject_form", "guide-reject", run, payment=payment_id, reason=form.reason.data
    )


@bp.route(f"/stalls/<{ID}:stall_id>/checkout", methods=["POST"])
@roles_required(*Role.STAFF)
def stall_checkout(stall_id: int):
    stall = access.stall_for_guide(current_user, stall_id)
    form = NonceForm(prefix="act")

    def run():
        ci = _active(stall)
        checkin.check_out(ci, now(), actor=_user(), ip=request.remote_addr)
        return _("%(code)s checked out.", code=stall.code)

    return _act(stall, form, "plain_form", "guide-checkout", run)


@bp.route(f"/stalls/<{ID}:stall_id>/move", methods=["POST"])
@roles_required(*Role.STAFF)
def stall_move(stall_id: int):
    stall = access.stall_for_guide(current_user, stall_id)
    form = MoveForm(prefix="move")

    def run():
        target = access.stall_for_guide(current_user, form.to_stall.data or 0)
        if target.market_id != stall.market_id:
            raise NotFound()
        checkin.move(_active(stall), target, now(), actor=_user(), ip=request.remote_addr)
        return _("Moved from %(a)s to %(b)s.", a=stall.code, b=target.code)

    return _act(stall, form, "move_form", "guide-move", run, to=form.to_stall.data)


def _vendor_of_market(stall, vendor_id) -> Vendor:
    vendor = db.session.get(Vendor, vendor_id)
    if vendor is None or vendor.organization_id != stall.market.organization_id:
        raise NotFound()
    return vendor


def _tonight(stall, vendor):
    """The vendor's active check-in in the market's current session, if any."""
    session = sessions.current_session(stall.market_id, now())
    return session and checkin.active_checkin(session, vendor=vendor)


def _check_in_vendor(stall):
    form = GuideCheckInForm(prefix="ci")
    offer = {}

    def run():
        vendor = _vendor_of_market(stall, form.vendor_id.data)
        try:
            checkin.check_in(stall, vendor, now(), actor=_user(), ip=request.remote_addr)
        except checkin.CheckInRefused as e:
            own = e.code == "holds_other_stall" and _tonight(stall, vendor)
            if not own:
                raise
            # The vendor's own wording ("you already have…") reads wrong to the guide: say
            # where they are, and offer to move them here instead.
            name, code = vendor.user.name, own.stall.code
            offer["move_offer"] = {"vendor_id": vendor.id, "name": name, "code": code}
            raise Conflict(
                _("%(name)s is already checked in at %(code)s tonight.", name=name, code=code),
                code=e.code,
            ) from None
        return _("%(name)s checked in at %(code)s.", name=vendor.user.name, code=stall.code)

    return _act(
        stall,
        form,
        "checkin_form",
        "guide-checkin",
        run,
        on_error=offer,
        vendor=form.vendor_id.data,
    )


@bp.route(f"/stalls/<{ID}:stall_id>/move-here", methods=["POST"])
@roles_required(*Role.STAFF)
def stall_move_here(stall_id: int):
    """The vendor the guide tried to check in here holds another stall tonight: move them."""
    stall = access.stall_for_guide(current_user, stall_id)
    form = MoveHereForm(prefix="mh")

    def run():
        vendor = _vendor_of_market(stall, form.vendor_id.data)
        own = _tonight(stall, vendor)
        if not own:
            raise NotFound(_("%(name)s is not checked in tonight.", name=vendor.user.name))
        was = own.stall.code
        checkin.move(own, stall, now(), actor=_user(), ip=request.remote_addr)
        return _("Moved from %(a)s to %(b)s.", a=was, b=stall.code)

    return _act(stall, form, "checkin_form", "guide-move-here", run, vendor=form.vendor_id.data)


@bp.route(f"/stalls/<{ID}:stall_id>/checkin", methods=["POST"])
@roles_required(*Role.STAFF)
def stall_checkin(stall_id: int):
    """Check in a vendor who has no smartphone, found by name or phone tail."""
    return _check_in_vendor(access.stall_for_guide(current_user, stall_id))


@bp.route("/pass/checkin", methods=["POST"])
@roles_required(*Role.STAFF)
def pass_checkin():
    """The same, from the page a scanned vendor pass opens, with the stall chosen there (none
    is preselected: sent without one, the guide is asked again on the same page)."""
    stall_id = request.form.get("stall", type=int)
    if not stall_id:
        flash(_("Choose the stall first."), "error")
        back = request.form.get("pass", "")
        return redirect(url_for(".identify", token=back) if back else url_for(".index"), 303)
    return _check_in_vendor(access.stall_for_guide(current_user, stall_id))


@bp.route(f"/stalls/<{ID}:stall_id>/incidents", methods=["POST"])
@roles_required(*Role.STAFF)
def stall_incident(stall_id: int):
    stall = access.stall_for_guide(current_user, stall_id)
    form = IncidentForm(prefix="incident")

    def run():
        photo = form.photo.data if form.photo.data and form.photo.data.filename else None
        incidents.open_incident(
            stall.market,
            form.kind.data,
            form.note.data,
            now(),
            stall=stall,
            photo=photo.stream if photo else None,
            actor=_user(),
            kinds=incidents.GUIDE_KINDS,
            ip=request.remote_addr,
        )
        return _("Incident logged at %(code)s.", code=stall.code)

    return _act(
        stall,
        form,
        "incident_form",
        "guide-incident",
        run,
        kind=form.kind.data,
        note=form.note.data,
    )


@bp.route(f"/incidents/<{ID}:incident_id>/resolve", methods=["POST"])
@roles_required(*Role.STAFF)
def resolve_incident(incident_id: int):
    incident = access.incident_for_guide(current_user, incident_id)
    form = ResolveForm(prefix="resolve")
    stall = incident.stall
    if stall is None:  # a market-wide incident: resolved from the incidents list
        raise NotFound()

    def run():
        incidents.resolve(
            incident, form.resolution.data, now(), actor=_user(), ip=request.remote_addr
        )
        return _("Incident resolved.")

    return _act(stall, form, "resolve_form", "guide-resolve", run, incident=incident_id)
