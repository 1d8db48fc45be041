"""Stall draws: the cadre's rounds, the vendor's application, the public proof (/p/<slug>/…).

Views parse and authorise; the rules are in services/draws. Importing this module registers the
scheduler's job (drawing.tick, "draws.reveal")."""

import re
from datetime import date
from pathlib import Path

from flask import current_app, flash, jsonify, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..auth.decorators import roles_required
from ..extensions import db
from ..formtools import submit
from ..models import ApplicationState, DrawRound, Role
from ..services.auth import access
from ..services.common.clock import now, parse_instant
from ..services.common.errors import InvalidInput, NotFound
from ..services.common.money import parse_yuan
from ..services.draws import applications, drawing, public, rounds
from ..services.vendors.registry import RELIEF_LABELS
from ..services.zoning import places as zoning
from . import bp
from .forms import ApplyForm, ReasonForm, RoundForm

ID = "int(max=2147483647)"
SLUG = "string(maxlength=60)"
STATE_LABELS = {
    "applied": _l("applied"),
    "withdrawn": _l("withdrawn"),
    "won": _l("won a stall"),
    "waiting": _l("on the waiting list"),
    "declined": _l("declined"),
    "forfeited": _l("forfeited"),
}
WINDOW_LABELS = {
    "upcoming": _l("Applications open soon"),
    "open": _l("Applications open"),
    "closed": _l("Applications closed: waiting for the draw"),
    "drawn": _l("Drawn"),
}
GROUP_LABELS = {"priority": _l("priority group"), "general": _l("general")}


def _labels() -> dict:
    return {
        "state_labels": STATE_LABELS,
        "window_labels": WINDOW_LABELS,
        "group_labels": GROUP_LABELS,
        "relief_labels": RELIEF_LABELS,
        "window_state": lambda r: rounds.window_state(r, now()),
        "period_end": rounds.period_end,
        "quota": rounds.quota,
    }


# --- the cadre's side --------------------------------------------------------------------------


def _round_form(market, form=None) -> RoundForm:
    form = form or RoundForm()
    form.zone_id.choices = [SelectChoice("", _("Choose stalls below"))] + [
        SelectChoice(str(z.id), f"{z.code} {z.name}") for z in market.zones
    ]
    return form


def _when(text: str, market, field: str):
    try:
        return parse_instant(text or "", market.timezone)
    except (ValueError, OverflowError):
        raise InvalidInput(_l("Enter a date and time."), field=field) from None


def _codes(form: RoundForm, market) -> list[str]:
    if form.zone_id.data:
        try:
            zone = zoning.zone_of_market(market, int(form.zone_id.data))
        except ValueError:
            raise InvalidInput(_l("Choose a zone of this market."), field="zone_id") from None
        return [s.code for s in zoning.stalls_of(market, zone.id, status="active")]
    return [c for c in re.split(r"[\s,，、]+", form.stall_codes.data or "") if c]


def round_input(form: RoundForm, market) -> rounds.RoundInput:
    year, month = (int(p) for p in form.period.data.split("-"))
    if not (2000 <= year <= 2099 and 1 <= month <= 12):
        raise InvalidInput(_l("Write the month as 2026-12."), field="period")
    return rounds.RoundInput(
        title=form.title.data or "",
        stall_codes=_codes(form, market),
        period_start=date(year, month, 1),
        months=form.months.data,
        fee_fen=parse_yuan(form.fee.data, "fee"),
        opens_at=_when(form.opens_at.data, market, "opens_at"),
        closes_at=_when(form.closes_at.data, market, "closes_at"),
        draw_at=_when(form.draw_at.data, market, "draw_at"),
        priority_kinds=form.priority_kinds.data or [],
        quota_percent=form.quota_percent.data,
        ranked=form.ranked.data,
    )


@bp.route(f"/draws/markets/<{ID}:market_id>", methods=["GET", "POST"])
@roles_required(*Role.READERS)
def market_rounds(market_id):
    market = access.market_for_reader(current_user, market_id)
    form = _round_form(market)
    if request.method == "POST":
        market = access.market_for_manager(current_user, market_id)

    def action():
        rnd = rounds.create_round(
            market,
            round_input(form, market),
            actor=current_user._get_current_object(),
            now=now(),
            ip=request.remote_addr,
        )
        flash(_("The draw is announced. Its commitment is public from now on."), "success")
        return url_for(".round_page", round_id=rnd.id)

    return submit(
        form,
        action,
        "draws/market.html",
        {"stalls": "stall_codes", "fee": "fee", "period": "period"},
        market=market,
        rounds_list=rounds.rounds_of(market),
        **_labels(),
    )


def _round_for_reader(round_id: int) -> DrawRound:
    rnd = db.session.get(DrawRound, round_id)
    if rnd is None or not access.can_read_org(current_user, rnd.market.organization_id):
        raise NotFound()
    return rnd


@bp.route(f"/draws/rounds/<{ID}:round_id>")
@roles_required(*Role.READERS)
def round_page(round_id):
    rnd = _round_for_reader(round_id)
    listed, result = public.parsed(rnd)
    return render_template(
        "draws/round.html",
        rnd=rnd,
        listed=listed,
        result=result,
        reason_form=ReasonForm(),
        can_manage=access.can_manage_market(current_user, rnd.market),
        **_labels(),
    )


@bp.route(f"/draws/applications/<{ID}:application_id>/forfeit", methods=["POST"])
@roles_required(*Role.MANAGERS)
def forfeit(application_id):
    app = drawing.won_application(application_id)
    access.market_for_manager(current_user, app.round.market_id)
    form = ReasonForm()

    def action():
        nxt = drawing.give_up(
            app,
            actor=current_user._get_current_object(),
            forfeit=True,
            now=now(),
            reason=form.reason.data,
            ip=request.remote_addr,
        )
        flash(_("Forfeited.") + " " + _next_message(nxt), "success")
        return url_for(".round_page", round_id=app.round_id)

    rnd = app.round
    listed, result = public.parsed(rnd)
    return submit(
        form,
        action,
        "draws/round.html",
        rnd=rnd,
        listed=listed,
        result=result,
        reason_form=form,
        can_manage=True,
        **_labels(),
    )


def _next_message(nxt) -> str:
    if nxt is None:
        return _("Nobody is left on the waiting list: the stall is free.")
    return _(
        "Stall %(stall)s goes to application no. %(number)s.",
        stall=nxt.stall.code,
        number=nxt.number,
    )


# --- the vendor's side -------------------------------------------------------------------------


def _vendor_and_round(round_id: int):
    rnd = rounds.get_round(round_id)
    vendor = access.vendor_in(current_user, rnd.market.organization_id)
    if vendor is None:
        raise NotFound(_l("There is no such draw."), code="draw_not_found")
    return vendor, rnd


def _apply_form(rnd, form=None) -> ApplyForm:
    form = form or ApplyForm()
    choices = [SelectChoice("", _("No preference"))] + [
        SelectChoice(c, c) for c in rounds.stall_codes(rnd)
    ]
    for f in (form.first, form.second, form.third):
        f.choices = choices
    return form


def _vendor_page(vendor, rnd, form, reason_form=None):
    return {
        "vendor": vendor,
        "rnd": rnd,
        "mine": applications.application_of(rnd, vendor),
        "reason_form": reason_form or ReasonForm(),
        **_labels(),
    }


@bp.route(f"/draws/<{ID}:round_id>", methods=["GET", "POST"])
@login_required
def vendor_round(round_id):
    """The round as a vendor sees it; POST applies."""
    vendor, rnd = _vendor_and_round(round_id)
    form = _apply_form(rnd)

    def action():
        picks = [form.first.data, form.second.data, form.third.data]
        app = applications.apply(
            rnd,
            vendor,
            [p for p in picks if p],
            actor=current_user._get_current_object(),
            now=now(),
            ip=request.remote_addr,
        )
        flash(_("Applied: your application number is %(number)s.", number=app.number), "success")
        return url_for(".vendor_round", round_id=rnd.id)

    return submit(
        form,
        action,
        "draws/vendor.html",
        {"preferences": "first"},
        form_apply=form,
        **_vendor_page(vendor, rnd, form),
    )


@bp.route(f"/draws/<{ID}:round_id>/withdraw", methods=["POST"])
@login_required
def withdraw(round_id):
    vendor, rnd = _vendor_and_round(round_id)
    form = ReasonForm()
    form.reason.validators = []  # no reason needed to withdraw

    def action():
        app = applications.application_for(vendor, rnd.id)
        applications.withdraw(
            app, actor=current_user._get_current_object(), now=now(), ip=request.remote_addr
        )
        flash(_("Your application is withdrawn."), "info")
        return url_for(".vendor_round", round_id=rnd.id)

    return submit(
        form,
        action,
        "draws/vendor.html",
        form_apply=_apply_form(rnd),
        **_vendor_page(vendor, rnd, form),
    )


@bp.route(f"/draws/<{ID}:round_id>/decline", methods=["POST"])
@login_required
def decline(round_id):
    vendor, rnd = _vendor_and_round(round_id)
    form = ReasonForm()
    form.reason.validators = []

    def action():
        app = applications.application_for(vendor, rnd.id)
        drawing.give_up(
            app,
            actor=current_user._get_current_object(),
            forfeit=False,
            now=now(),
            reason=form.reason.data or None,
            ip=request.remote_addr,
        )
        flash(_("You declined the stall: it goes to the next on the waiting list."), "info")
        return url_for(".vendor_round", round_id=rnd.id)

    return submit(
        form,
        action,
        "draws/vendor.html",
        form_apply=_apply_form(rnd),
        **_vendor_page(vendor, rnd, form),
    )


@bp.app_template_global()
def draws_for_vendor(vendor):
    """For the vendor's home page: open rounds and the vendor's own applications."""
    found = []
    for rnd in applications.open_rounds_for(vendor, now()):
        found.append((rnd, applications.application_of(rnd, vendor)))
    return found


# --- public ------------------------------------------------------------------------------------


@bp.app_template_global()
def draws_on_board(market):
    return public.rounds_on_board(market)


@bp.route(f"/p/<{SLUG}:slug>/draws/<{ID}:round_id>")
def public_round(slug, round_id):
    rnd = public.round_for_public(slug, round_id)
    listed, result = public.parsed(rnd)
    response = render_template(
        "draws/public.html",
        rnd=rnd,
        listed=listed,
        result=result,
        proof=public.payload(rnd),
        **_labels(),
    )
    return _revalidated(current_app.make_response(response))


@bp.route(f"/p/<{SLUG}:slug>/draws/<{ID}:round_id>.json")
def public_json(slug, round_id):
    rnd = public.round_for_public(slug, round_id)
    return _revalidated(jsonify(public.payload(rnd)))


def _revalidated(response):
    """The round's state flips at the draw, so a copy is never used unchecked: a resident who
    reloads after the draw sees the secret, and an unchanged page costs a 304. A logged-in
    reader's page (their menu, a CSRF token) is theirs alone."""
    response.add_etag()
    shared = "private" if current_user.is_authenticated else "public"
    response.headers["Cache-Control"] = f"{shared}, no-cache"
    return response.make_conditional(request)


@bp.app_template_global()
def draw_result_for(app):
    """The vendor's own outcome line: won stall, or place on the waiting list."""
    if app is None or app.position is None:
        return None
    if app.state == ApplicationState.WAITING:
        ahead = sum(
            1
            for other in app.round.applications
            if other.state == ApplicationState.WAITING and (other.position or 0) < app.position
        )
        return ("waiting", ahead + 1)
    return (app.state, app.stall.code if app.stall else None)


@bp.app_template_global()
def window_state_label(rnd) -> str:
    return str(WINDOW_LABELS[rounds.window_state(rnd, now())])


@bp.app_template_global()
def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


@bp.app_template_filter("relief_label")
def relief_label(kind: str) -> str:
    return str(RELIEF_LABELS.get(kind, kind))


@bp.route("/draws/verify_draw.py")
def verifier_script():
    """The standalone checking program, to download beside a draw's JSON."""
    path = Path(current_app.root_path).parent / "scripts" / "verify_draw.py"
    return send_file(path, mimetype="text/x-python", as_attachment=True, max_age=3600)


@bp.app_template_global()
def draw_period_end(rnd):
    return rounds.period_end(rnd)
