"""Vendor pages: registering from a stall poster, the vendor's home, editing details."""

from pathlib import Path

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from .. import formstash
from ..extensions import db, limiter
from ..formtools import submit
from ..models import Market
from ..publicurl import public_base_url
from ..services.auth import access
from ..services.checkin import checkins as checkin
from ..services.checkin import payments
from ..services.common import uploads
from ..services.common.errors import DomainError
from ..services.vendors import passes as vendor_pass
from ..services.vendors import registry as vendor_service
from ..services.zoning import places as zoning
from ..services.zoning import qr
from . import bp
from .forms import DetailsForm, RegisterForm

FIELD_MAP = {"image": "health_cert_photo"}


def certs_dir() -> Path:
    return uploads.uploads_dir() / "certs"


def _registration_market() -> Market | None:
    """The market a registration is for: from the scanned stall, a slug, or the only one."""
    if token := request.args.get("stall"):
        try:
            return zoning.stall_for_token(token).market
        except DomainError:
            return None
    if slug := request.args.get("market"):
        return db.session.scalar(select(Market).where(Market.slug == slug, Market.is_active))
    markets = db.session.scalars(select(Market).where(Market.is_active).limit(2)).all()
    return markets[0] if len(markets) == 1 else None


def fill_choices(form: DetailsForm, market: Market | None) -> None:
    # No category is preselected: the first one in the list was taken by mistake.
    form.category.choices = [SelectChoice("", _l("Choose one"))] + [
        SelectChoice(k, vendor_service.category_label(k))
        for k in vendor_service.categories_for(market)
    ]


def form_details(form: DetailsForm) -> vendor_service.Details:
    return vendor_service.Details(
        category=form.category.data,
        goods=form.goods.data,
        sells_food=form.sells_food.data,
        health_cert_no=form.health_cert_no.data,
        health_cert_expires=form.health_cert_expires.data,
        relief_kind=form.relief_kind.data or None,
        relief_note=form.relief_note.data,
    )


def store_photo(form: DetailsForm, sells_food: bool) -> str | None:
    """The certificate photo, when the vendor (as the service decided) sells food."""
    upload = form.health_cert_photo.data
    if not (upload and getattr(upload, "filename", "")) or not sells_food:
        return None
    return uploads.save_image(
        upload.stream,
        certs_dir(),
        field="health_cert_photo",
        limit=current_app.config["UPLOAD_MAX_BYTES"],
    )


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per minute;60 per day", methods=["POST"])
def register():
    if current_user.is_authenticated and access.vendor_profiles(current_user):
        return redirect(url_for(".home"))
    market = _registration_market()
    if market is None:
        markets = db.session.scalars(select(Market).where(Market.is_active).order_by(Market.id))
        return render_template("vendors/choose_market.html", markets=markets.all())
    form = RegisterForm()
    fill_choices(form, market)

    def action():
        vendor = vendor_service.register(
            market,
            name=form.name.data,
            phone=form.phone.data,
            password=form.password.data,
            details=form_details(form),
            agreed_to_rules=form.agree.data,
            ip=request.remote_addr,
        )
        # Stored last: nothing is written to disk if the registration itself fails.
        if photo := store_photo(form, vendor.sells_food):
            vendor.health_cert_photo = photo
        login_user(vendor.user)
        flash(_("Registered. The community office will check your details soon."), "success")
        back = request.args.get("stall")
        return url_for(".home", stall=back) if back else url_for(".home")

    # Errors come back on a GET of this same URL (Back never asks to resubmit the form).
    response = make_response(
        formstash.submit(form, action, "vendors/register.html", FIELD_MAP, market=market)
    )
    response.headers["Cache-Control"] = "no-store"  # what was typed: name, phone
    return response


@bp.route("/home")
@login_required
def home():
    profiles = access.vendor_profiles(current_user)
    base = public_base_url()
    passes = {
        v.id: qr.qr_svg(vendor_pass.pass_url(base, v), _("Vendor pass"))
        for v in profiles
        if vendor_pass.has_pass(v)  # a rejected vendor has none
    }
    return render_template(
        "vendors/home.html",
        vendors=profiles,
        passes=passes,
        certificate_state=vendor_service.certificate_state,
        category_label=vendor_service.category_label,
        status_label=vendor_service.status_label,
        relief_labels=vendor_service.RELIEF_LABELS,
        stall_token=request.args.get("stall"),
        recent={v.id: checkin.recent_of(v) for v in profiles},
        unpaid_fen=payments.unpaid_fen,
    )


@bp.route("/details", methods=["GET", "POST"])
@login_required
def edit_details():
    profiles = access.vendor_profiles(current_user)
    if not profiles:
        return redirect(url_for(".register"))
    vendor = profiles[0]
    form = DetailsForm(obj=vendor)
    if request.method == "GET" and vendor.pending_cert_no:
        form.health_cert_no.data = vendor.pending_cert_no
        form.health_cert_expires.data = vendor.pending_cert_expires
    if request.method == "GET":
        form.relief_kind.data = vendor.relief_kind or ""
    fill_choices(form, vendor.market)

    def action():
        waiting = vendor_service.update_details(
            vendor,
            form_details(form),
            actor=current_user._get_current_object(),
            ip=request.remote_addr,
        )
        if photo := store_photo(form, vendor.sells_food):
            if waiting:
                vendor.pending_cert_photo = photo
            else:
                vendor.health_cert_photo = photo
        if waiting:
            flash(_("Saved. Your new certificate waits for the community office."), "info")
        else:
            flash(_("Saved."), "success")
        return url_for(".home")

    return submit(form, action, "vendors/details.html", FIELD_MAP, vendor=vendor)
