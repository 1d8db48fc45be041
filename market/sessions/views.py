"""Session pages. Views parse and authorise; the rules live in services.session_* and closures.

Cadres and admins manage; the market's guides see the same pages without the buttons.
"""

from datetime import date, timedelta

from babel.dates import format_skeleton
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.decorators import roles_required
from ..extensions import db
from ..formtools import attach_error, submit
from ..models import CheckIn, Role
from ..services.auth import access
from ..services.common.clock import now as clock_now
from ..services.common.errors import DomainError, InvalidInput
from ..services.sessions import actions as session_actions
from ..services.sessions import clockguard, closures, owing, takings
from ..services.sessions import templates as session_templates
from ..services.sessions import tide as sessions
from ..services.sessions.notes import note_label, scheduler_changed
from . import bp
from .forms import (
    REASON_HINTS,
    WEEKDAYS,
    CancelForm,
    ClosureForm,
    ConfirmForm,
    ExtendForm,
    ReopenForm,
    TemplateForm,
)

ID = "int(max=2147483647)"
DAYS_SHOWN = 15
manager_only = roles_required(*Role.MANAGERS)
staff_only = roles_required(*Role.STAFF)
viewers = roles_required(*Role.STAFF, Role.SUPERVISOR)  # supervisors read, never act


@bp.app_template_filter("market_day")
def market_day(day: date) -> str:
    """A business date the way people say it: 11月23日周一 / Mon, Nov 23."""
    return format_skeleton("MMMEd", day, locale=get_locale())


def _user():
    return current_user._get_current_object()


def _ip():
    return request.remote_addr


def _first_day(market) -> date:
    raw = request.args.get("from")
    if not raw:
        return sessions.local_today(market, clock_now())
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        raise InvalidInput(_("Give the date as YYYY-MM-DD."))
    return day


# --- a market's sessions ---------------------------------------------------------------------


@bp.route(f"/markets/<{ID}:market_id>")
@viewers
def market(market_id):
    market = access.market_for_viewer(current_user, market_id)
    first = _first_day(market)
    last = first + timedelta(days=DAYS_SHOWN - 1)
    shown = db.session.scalars(sessions.sessions_between(market, first, last)).all()
    return render_template(
        "sessions/market.html",
        market=market,
        zone=sessions.zone_of(market),
        status=sessions.market_status(market, clock_now()),
        sessions=shown,
        first=first,
        step=timedelta(days=DAYS_SHOWN),
        templates=session_templates.templates_of(market),
        closures=closures.active_closures(market),
        weekdays=session_templates.weekdays_list,
        day_names={choice.value: choice.label for choice in WEEKDAYS},
        can_manage=access.can_manage_market(current_user, market),
        clock_refusal=clockguard.recent_refusal(),
    )


# --- templates -------------------------------------------------------------------------------


def _template_values(form) -> dict:
    return {name: getattr(form, name).data for name in session_templates.TEMPLATE_FIELDS}


def _replanned(plan: dict) -> None:
    flash(
        _(
            "Saved. Sessions ahead: %(generated)d added, %(moved)d moved, %(dropped)d removed.",
            **plan,
        ),
        "success",
    )


@bp.route(f"/markets/<{ID}:market_id>/templates/new", methods=["GET", "POST"])
@manager_only
def template_new(market_id):
    market = access.market_for_manager(current_user, market_id)
    form = TemplateForm()
    if not form.is_submitted():
        form.valid_from.data = clock_now().date()
        form.weekdays.data = list(range(1, 8))

    def action():
        _saved, plan = session_templates.save_template(
            market, _template_values(form), now=clock_now(), actor=_user(), ip=_ip()
        )
        _replanned(plan)
        return url_for(".market", market_id=market.id)

    return submit(form, action, "sessions/template_form.html", market=market, session_template=None)


@bp.route(f"/templates/<{ID}:template_id>/edit", methods=["GET", "POST"])
@manager_only
def template_edit(template_id):
    template = session_templates.template_for_manager(current_user, template_id)
    form = TemplateForm(obj=template)
    if not form.is_submitted():  # the model keeps a bitmask, the form a list of days
        form.weekdays.data = session_templates.weekdays_list(template.weekdays)

    def action():
        _saved, plan = session_templates.save_template(
            template.market,
            _template_values(form),
            template,
            now=clock_now(),
            actor=_user(),
            ip=_ip(),
        )
        _replanned(plan)
        return url_for(".market", market_id=template.market_id)

    return submit(
        form,
        action,
        "sessions/template_form.html",
        market=template.market,
        session_template=template,
    )


@bp.route(f"/templates/<{ID}:template_id>/remove", methods=["POST"])
@manager_only
def template_remove(template_id):
    template = session_templates.template_for_manager(current_user, template_id)
    market_id, name = template.market_id, template.name
    if not ConfirmForm().validate_on_submit():
        abort(400)
    outcome = session_templates.remove_template(template, now=clock_now(), actor=_user(), ip=_ip())
    db.session.commit()
    if outcome == "deleted":
        flash(_("Template %(name)s deleted.", name=name), "success")
    else:
        flash(_("Template %(name)s has past sessions, so it was deactivated.", name=name), "info")
    return redirect(url_for(".market", market_id=market_id))


# --- closures --------------------------------------------------------------------------------


@bp.route(f"/markets/<{ID}:market_id>/closures/new", methods=["GET", "POST"])
@manager_only
def closure_new(market_id):
    market = access.market_for_manager(current_user, market_id)
    form = ClosureForm()

    def action():
        _closure, counts = closures.add_closure(
            market,
            form.first_date.data,
            form.last_date.data,
            form.reason.data,
            now=clock_now(),
            actor=_user(),
            ip=_ip(),
        )
        flash(_("Closed: %(cancelled)d sessions cancelled.", **counts), "success")
        if counts["left_open"]:
            flash(_("A session in these dates is open now: close or cancel it on its page."))
        return url_for(".market", market_id=market.id)

    return submit(
        form, action, "sessions/closure_form.html", market=market, reason_hints=REASON_HINTS
    )


@bp.route(f"/closures/<{ID}:closure_id>/lift", methods=["POST"])
@manager_only
def closure_lift(closure_id):
    closure = closures.closure_for_manager(current_user, closure_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    restored = closures.lift_closure(closure, now=clock_now(), actor=_user(), ip=_ip())
    db.session.commit()
    flash(_("Closure lifted: %(n)d sessions are scheduled again.", n=restored), "success")
    return redirect(url_for(".market", market_id=closure.market_id))


# --- one session -----------------------------------------------------------------------------


def _session_page(session, status=200, **forms):
    counts = dict(
        db.session.execute(
            select(CheckIn.state, func.count())
            .where(CheckIn.session_id == session.id)
            .group_by(CheckIn.state)
        ).all()
    )
    forms.setdefault("cancel_form", CancelForm(prefix="c", formdata=None))
    forms.setdefault("extend_form", ExtendForm(prefix="e", formdata=None))
    forms.setdefault("reopen_form", ReopenForm(prefix="r", formdata=None))
    page = render_template(
        "sessions/session.html",
        session=session,
        market=session.market,
        zone=sessions.zone_of(session.market),
        counts=counts,
        takings=takings.session_takings(session),
        owes=owing.who_owes(session.market, current_user, [session.id]),
        can_manage=access.can_manage_market(current_user, session.market),
        # The service decides; this only spares the button where it would surely be refused.
        reopenable=session.state == "closed" and clock_now() < session.ends_at,
        reason_hints=REASON_HINTS,
        note_label=note_label,
        scheduler_changed=scheduler_changed,
        **forms,
    )
    return page, status


@bp.route(f"/<{ID}:session_id>")
@viewers
def session(session_id):
    return _session_page(sessions.session_for_viewer(current_user, session_id))


def _act(
    session_id,
    form,
    action,
    done: str,
    form_name: str | None = None,
    shown_in=("scheduled", "open"),
):
    """Run one action on a session from its page: flash and redirect, or show the error.
    `shown_in`: the states in which the page shows the form (a refusal is shown in it)."""
    s = sessions.session_for_manager(current_user, session_id)
    if form.validate_on_submit():
        try:
            action(s, form)
        except DomainError as e:
            db.session.rollback()
            if form_name is None or s.state not in shown_in:
                # A bare button, or a form the page no longer shows: say it at the top.
                flash(str(e.message), "error")
                return _session_page(s, e.status)
            return _session_page(s, attach_error(form, e), **{form_name: form})
        db.session.commit()
        flash(done, "success")
        return redirect(url_for(".session", session_id=s.id))
    return _session_page(s, 400, **({form_name: form} if form_name else {}))


def _kw():
    return {"now": clock_now(), "actor": _user(), "ip": _ip()}


@bp.route(f"/<{ID}:session_id>/open", methods=["POST"])
@manager_only
def session_open(session_id):
    return _act(
        session_id,
        ConfirmForm(),
        lambda s, f: session_actions.open_now(s, **_kw()),
        _("The market is open."),
    )


@bp.route(f"/<{ID}:session_id>/close", methods=["POST"])
@manager_only
def session_close(session_id):
    return _act(
        session_id,
        ConfirmForm(),
        lambda s, f: session_actions.close_now(s, **_kw()),
        _("The market is closed; everyone still on a stall was checked out."),
    )


@bp.route(f"/<{ID}:session_id>/cancel", methods=["POST"])
@manager_only
def session_cancel(session_id):
    return _act(
        session_id,
        CancelForm(prefix="c"),
        lambda s, f: session_actions.cancel(s, f.reason.data, **_kw()),
        _("The session is cancelled."),
        "cancel_form",
    )


@bp.route(f"/<{ID}:session_id>/extend", methods=["POST"])
@manager_only
def session_extend(session_id):
    def action(s, f):
        new_end = session_actions.end_for_local_time(s, f.until.data)
        session_actions.extend(s, new_end, **_kw())

    return _act(
        session_id,
        ExtendForm(prefix="e"),
        action,
        _("The session now ends later."),
        "extend_form",
    )


@bp.route(f"/<{ID}:session_id>/reinstate", methods=["POST"])
@manager_only
def session_reinstate(session_id):
    return _act(
        session_id,
        ConfirmForm(),
        lambda s, f: session_actions.reinstate(s, **_kw()),
        _("The session is scheduled again."),
    )


@bp.route(f"/<{ID}:session_id>/reopen", methods=["POST"])
@manager_only
def session_reopen(session_id):
    return _act(
        session_id,
        ReopenForm(prefix="r"),
        lambda s, f: session_actions.reopen(s, f.reason.data, **_kw()),
        _("The session is reopened: what its close did is undone."),
        "reopen_form",
        shown_in=("closed",),
    )
