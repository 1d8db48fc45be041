"""Public pages, no login: the stall card, the complaint forms and the tracking page."""

import uuid

from babel.dates import format_skeleton
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..extensions import db, limiter
from ..formtools import attach_error
from ..models import Market, Stall, StallStatus
from ..services.common.clock import now
from ..services.common.errors import DomainError, NotFound
from ..services.complaints import codes
from ..services.complaints import filing as complaints
from ..services.complaints import guard as complaint_guard
from ..services.complaints import stats as complaint_stats
from ..services.complaints.guard import ChallengeFailed
from ..services.guide import incidents
from ..services.zoning import places as zoning
from . import bp
from .forms import ComplaintForm
from .pages import card_page

FIELD_MAP = {"image": "photo"}


def address_limit() -> str:
    return current_app.config["COMPLAINT_ADDRESS_LIMIT"]


def place_limit() -> str:
    return current_app.config["COMPLAINT_PLACE_LIMIT"]


def tracking_limit() -> str:
    return current_app.config["TRACKING_RATE_LIMIT"]


def place_key() -> str:
    """Per stall (or per market): a burst against one vendor is stopped whoever sends it."""
    args = request.view_args or {}
    return "complaint-place:" + str(args.get("token") or args.get("slug") or "")


def limited(view):
    view = limiter.limit(place_limit, methods=["POST"], key_func=place_key, scope="place")(view)
    return limiter.limit(address_limit, methods=["POST"], scope="complaint-address")(view)


@bp.app_template_filter("month_name")
def month_name(day) -> str:
    """2027年3月 / Mar 2027: a month in the reader's language."""
    return format_skeleton("yMMM", day, locale=get_locale())


@bp.route("/s/<path:token>/card")
def card(token: str):
    return card_page(zoning.stall_for_token(token))


def _market_by_slug(slug: str) -> Market:
    market = db.session.scalar(select(Market).where(Market.slug == slug, Market.is_active))
    if market is None:
        raise NotFound()
    return market


def _kind_choices(form: ComplaintForm, stall: Stall | None) -> None:
    form.kind.choices = [
        SelectChoice(k, incidents.kind_label(k)) for k in complaints.kinds_for(stall)
    ]


def _near_choices(form: ComplaintForm, market: Market) -> dict[str, Stall]:
    stalls = zoning.stalls_of(market, status=StallStatus.ACTIVE)
    form.near.choices = [SelectChoice("", _("Not sure / the whole market"))] + [
        SelectChoice(s.code, _("Near stall %(code)s (%(zone)s)", code=s.code, zone=s.zone.name))
        for s in stalls
    ]
    return {s.code: s for s in stalls}


def _where(form: ComplaintForm, near: dict[str, Stall]) -> complaints.Where:
    spot = near.get(form.near.data or "")
    if spot is None:
        return complaints.Where()
    return complaints.Where(map_x=spot.grid_col, map_y=spot.grid_row)


def _complain(market: Market, stall: Stall | None):
    form = ComplaintForm()
    _kind_choices(form, stall)
    near = _near_choices(form, market) if stall is None else {}
    if request.method == "GET":
        form.nonce.data = uuid.uuid4().hex
    address = complaint_guard.ip_hash(request.remote_addr)
    challenge = None
    status = 200
    if request.method == "POST":
        if not form.validate():
            status = 400
        else:
            upload = form.photo.data
            photo = upload.stream if upload and upload.filename else None
            try:
                complaint, _created = complaints.file_complaint(
                    market,
                    form.kind.data or "",
                    form.text.data,
                    now(),
                    stall=stall,
                    photo=photo,
                    where=_where(form, near),
                    ip=request.remote_addr,
                    challenge_token=form.challenge.data,
                    challenge_answer=form.answer.data,
                    idempotency_key=form.nonce.data,
                )
            except ChallengeFailed as e:
                db.session.rollback()
                status = attach_error(form, e, FIELD_MAP)
                challenge = e.challenge
            except DomainError as e:
                db.session.rollback()
                status = attach_error(form, e, FIELD_MAP)
            else:
                db.session.commit()
                flash(_("Thank you. Your complaint was received."), "success")
                return redirect(url_for(".track", code=complaint.tracking_code), 303)
    if challenge is None and complaint_guard.needs_challenge(address, now()):
        challenge = complaint_guard.new_challenge(address)
    if challenge is not None:
        form.challenge.data = challenge.token
        form.answer.data = ""
    return (
        render_template(
            "complaints/complain.html",
            form=form,
            market=market,
            stall=stall,
            challenge=challenge,
            text_max=complaints.TEXT_MAX,
        ),
        status,
    )


@bp.route("/s/<path:token>/complain", methods=["GET", "POST"])
@limited
def complain_stall(token: str):
    stall = zoning.stall_for_token(token)
    return _complain(stall.market, stall)


@bp.route("/p/<string(maxlength=60):slug>/complain", methods=["GET", "POST"])
@limited
def complain_market(slug: str):
    return _complain(_market_by_slug(slug), None)


@bp.route("/c/")
@limiter.limit(tracking_limit, scope="tracking")
def find():
    """The notice board's form: a short code typed in, to its page (the same 404 if unknown)."""
    complaint = complaints.by_tracking_code(request.args.get("code", "")[:60])
    return redirect(url_for(".track", code=complaint.tracking_code), 303)


@bp.route("/c/<string(maxlength=60):code>")
@limiter.limit(tracking_limit, scope="tracking")
def track(code: str):
    complaint = complaints.by_tracking_code(code)
    return render_template(
        "complaints/track.html",
        complaint=complaint,
        short_code=codes.display(complaint.short_code) if complaint.short_code else None,
        promise_hours=int(complaint_stats.HANDLED_WITHIN.total_seconds() // 3600),
        answer_by=complaint.created_at + complaint_stats.HANDLED_WITHIN,
        incident=complaint.incident,
        status=complaints.status_of(complaint),
        market=db.session.get(Market, complaint.market_id),
        kind_label=incidents.kind_label,
    )
