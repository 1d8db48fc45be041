"""Vendor pages: registering from a stall poster, the vendor's home, editing details."""

from pathlib import Path

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..extensions import db, limiter
from ..formtools import submit
from ..models import Market
from ..services import access, checkin, payments, qr, uploads, vendor_pass, zoning
from ..services import vendors as vendor_service
from ..services.errors import DomainError
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


def _fill_choices(form: DetailsForm, market: Market | None) -> None:
    form.category.choices = [
        SelectChoice(k, vendor_service.category_label(k))
        for k in vendor_service.categories_for(market)
    ]


def _details(form: DetailsForm) -> vendor_service.Details:
    return vendor_service.Details(
        category=form.category.data,
        goods=form.goods.data,
        sells_food=form.sells_food.data,
        health_cert_no=form.health_cert_no.data,
        health_cert_expires=form.health_cert_expires.data,
        relief_kind=form.relief_kind.data or None,
        relief_note=form.relief_note.data,
    )


def _store_photo(form: DetailsForm) -> str | None:
    upload = form.health_cert_photo.data
    if not (upload and getattr(upload, "filename", "")) or not form.sells_food.data:
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
    _fill_choices(form, market)

    def action():
        vendor = vendor_service.register(
            market,
            name=form.name.data,
            phone=form.phone.data,
            password=form.password.data,
            details=_details(form),
            agreed_to_rules=form.agree.data,
            ip=request.remote_addr,
        )
        # Stored last: nothing is written to disk if the registration itself fails.
        if photo := _store_photo(form):
            vendor.health_cert_photo = photo
        login_user(vendor.user)
        flash(_("Registered. The community office will check your details soon."), "success")
        back = request.args.get("stall")
        return url_for(".home", stall=back) if back else url_for(".home")

    response = make_response(
        submit(form, action, "vendors/register.html", FIELD_MAP, market=market)
    )
    response.headers["Cache-Control"] = "no-store"  # the page may echo the password back
    return response


@bp.route("/home")
@login_required
def home():
    profiles = access.vendor_profiles(current_user)
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    passes = {
        v.id: qr.qr_svg(
            base.rstrip("/") + url_for("guide.identify", token=vendor_pass.pass_token(v)),
            _("Vendor pass"),
        )
        for v in profiles
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
    _fill_choices(form, vendor.market)

    def action():
        waiting = vendor_service.update_details(
            vendor,
            _details(form),
            actor=current_user._get_current_object(),
            ip=request.remote_addr,
        )
        if photo := _store_photo(form):
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
