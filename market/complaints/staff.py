"""The guides' and cadres' side: a market's complaints, answering one, and the figures."""

from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.decorators import roles_required
from ..extensions import db
from ..formtools import attach_error
from ..models import IncidentState, Role
from ..services.auth import access
from ..services.common import uploads
from ..services.common.clock import now
from ..services.common.errors import DomainError, InvalidInput
from ..services.complaints import filing as complaints
from ..services.complaints import stats as complaint_stats
from ..services.guide import incidents
from . import bp
from .forms import ResponseForm

ID = "int(max=2147483647)"
staff_only = roles_required(*Role.STAFF)


def _user():
    return current_user._get_current_object()


def _list_page(market, forms=None, status=200):
    state = request.args.get("state") or None
    if state not in (None, *IncidentState.ALL):
        abort(400)
    items = complaints.complaints_of_market(market.id, state)
    forms = forms or {}
    return (
        render_template(
            "complaints/staff_list.html",
            market=market,
            items=items,
            state=state,
            forms={c.id: forms.get(c.id) or ResponseForm(prefix=f"r{c.id}") for c in items},
            status_of=complaints.status_of,
            near=complaints.stalls_by_cell(market.id),
            kind_label=incidents.kind_label,
            can_manage=access.can_manage_market(current_user, market),
        ),
        status,
    )


@bp.route(f"/complaints/markets/<{ID}:market_id>")
@roles_required(*Role.STAFF, Role.SUPERVISOR)  # supervisors read it, the resolve form says 403
def market_complaints(market_id: int):
    return _list_page(access.market_for_viewer(current_user, market_id))


@bp.route(f"/complaints/<{ID}:complaint_id>/resolve", methods=["POST"])
@staff_only
def resolve(complaint_id: int):
    complaint = complaints.complaint_for_staff(_user(), complaint_id)
    market = access.market_for_guide(current_user, complaint.market_id)
    form = ResponseForm(prefix=f"r{complaint.id}")
    status = 400
    if form.validate_on_submit():
        try:
            complaints.respond(
                complaint, form.response.data, now(), actor=_user(), ip=request.remote_addr
            )
        except DomainError as e:
            db.session.rollback()
            status = attach_error(form, e, {"resolution": "response"})
        else:
            db.session.commit()
            flash(_("Answered. The complainant sees your response."), "success")
            return redirect(url_for(".market_complaints", market_id=market.id), 303)
    return _list_page(market, {complaint.id: form}, status)


@bp.route(f"/complaints/<{ID}:complaint_id>/photo")
@staff_only
def photo(complaint_id: int):
    """The complaint's photo: for the market's guides and cadres only, never public."""
    complaint = complaints.complaint_for_staff(_user(), complaint_id)
    path = uploads.stored_path(incidents.incident_photos_dir(), complaint.photo)
    if path is None:
        abort(404)
    response = send_file(path, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


class BadMonth(InvalidInput):
    """A month the page cannot show (`abc`, `2026-13`, `0001-01`): 400 and what to write."""

    status = 400
    code = "invalid_month"
    default_message = _l("Give the month as YYYY-MM, between 2000 and 2100.")


def _month_arg(market) -> date:
    raw = request.args.get("month")
    if not raw:
        return complaint_stats.recent_months(market, now(), 1)[0]
    try:
        return complaint_stats.month_start(raw)
    except ValueError:
        raise BadMonth() from None


@bp.route(f"/complaints/markets/<{ID}:market_id>/stats")
@roles_required(*Role.READERS)
def stats(market_id: int):
    market = access.market_for_reader(current_user, market_id)
    month = _month_arg(market)
    return render_template(
        "complaints/stats.html",
        market=market,
        stats=complaint_stats.month_stats(market, month),
        months=complaint_stats.recent_months(market, now(), 12),
        kind_label=incidents.kind_label,
    )
