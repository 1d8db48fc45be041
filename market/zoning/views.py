"""Cadre pages for the layout. Views parse and authorise; services.zoning holds the rules."""

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..auth.decorators import roles_required
from ..extensions import db
from ..formtools import form_values, submit
from ..models import Market, Organization, Role
from ..publicurl import local_only_base_url, public_base_url
from ..queryargs import id_arg
from ..services.auth import access
from ..services.common import uploads
from ..services.zoning import layout, qr
from ..services.zoning import places as zoning
from . import bp
from .forms import BulkStallForm, ConfirmForm, DisableForm, MarketForm, StallForm, ZoneForm

ID = "int(max=2147483647)"
POSTER_STEPS = (
    _l("Scan with WeChat or the camera"),
    _l("Confirm the stall"),
    _l("Pay the fee"),
)
manager_only = roles_required(*Role.MANAGERS)


def _user():
    return current_user._get_current_object()


def _ip():
    return request.remote_addr


# --- markets ---------------------------------------------------------------------------------


@bp.route("/")
@manager_only
def index():
    org_ids = access.managed_organization_ids(current_user)
    organizations = db.session.scalars(
        select(Organization).where(Organization.id.in_(org_ids)).order_by(Organization.id)
    ).all()
    return render_template("zoning/index.html", organizations=organizations)


@bp.route(f"/orgs/<{ID}:org_id>/markets/new", methods=["GET", "POST"])
@manager_only
def market_new(org_id):
    org = access.organization_for_manager(current_user, org_id)
    form = MarketForm()

    def action():
        market = zoning.save_market(
            org, form_values(form, zoning.MARKET_FIELDS), actor=_user(), ip=_ip()
        )
        _store_collection_code(form, market)
        db.session.flush()
        flash(_("Market created. Now add its zones."), "success")
        return url_for(".market", market_id=market.id)

    return submit(form, action, "zoning/market_form.html", organization=org, market=None)


@bp.route(f"/markets/<{ID}:market_id>/edit", methods=["GET", "POST"])
@manager_only
def market_edit(market_id):
    market = access.market_for_manager(current_user, market_id)
    form = MarketForm(obj=market)

    def action():
        zoning.save_market(
            market.organization,
            form_values(form, zoning.MARKET_FIELDS),
            market,
            actor=_user(),
            ip=_ip(),
        )
        _store_collection_code(form, market)
        flash(_("Saved."), "success")
        return url_for(".market", market_id=market.id)

    return submit(
        form, action, "zoning/market_form.html", organization=market.organization, market=market
    )


def _store_collection_code(form, market):
    upload = form.collection_code.data
    if upload and getattr(upload, "filename", ""):
        name = uploads.save_image(
            upload.stream,
            uploads.uploads_dir(),
            field="collection_code",
            limit=current_app.config["UPLOAD_MAX_BYTES"],
        )
        zoning.set_collection_code(market, name, actor=_user(), ip=_ip())


@bp.route(f"/markets/<{ID}:market_id>/collection-code")
@manager_only
def collection_code(market_id):
    market = access.market_for_manager(current_user, market_id)
    path = uploads.stored_path(uploads.uploads_dir(), market.collection_code_path)
    if path is None:
        abort(404)
    return send_file(path, max_age=300)


@bp.route(f"/markets/<{ID}:market_id>")
@manager_only
def market(market_id):
    market = access.market_for_manager(current_user, market_id)
    zone_id = id_arg("zone")
    stalls = zoning.stalls_of(market)
    shown = [s for s in stalls if not zone_id or s.zone_id == zone_id]
    return render_template(
        "zoning/market.html",
        market=market,
        map=layout.build(market, market.zones, stalls),
        stalls=shown,
        counts=zoning.stall_counts(market),
        zone_id=zone_id,
        confirm=ConfirmForm(),
    )


@bp.route(f"/markets/<{ID}:market_id>/rotate-tokens", methods=["POST"])
@manager_only
def rotate_market_tokens(market_id):
    market = access.market_for_manager(current_user, market_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    count = zoning.rotate_market_tokens(market, actor=_user(), ip=_ip())
    db.session.commit()
    flash(
        _("%(n)d stalls have new QR codes. Print and put up the new posters.", n=count), "success"
    )
    return redirect(url_for(".market", market_id=market.id))


# --- zones -----------------------------------------------------------------------------------


@bp.route(f"/markets/<{ID}:market_id>/zones/new", methods=["GET", "POST"])
@manager_only
def zone_new(market_id):
    market = access.market_for_manager(current_user, market_id)
    form = ZoneForm()

    def action():
        zoning.save_zone(market, form_values(form, zoning.ZONE_FIELDS), actor=_user(), ip=_ip())
        flash(_("Zone added."), "success")
        return url_for(".market", market_id=market.id)

    return submit(form, action, "zoning/zone_form.html", market=market, zone=None)


@bp.route(f"/zones/<{ID}:zone_id>/edit", methods=["GET", "POST"])
@manager_only
def zone_edit(zone_id):
    zone = access.zone_for_manager(current_user, zone_id)
    form = ZoneForm(obj=zone)

    def action():
        zoning.save_zone(
            zone.market, form_values(form, zoning.ZONE_FIELDS), zone, actor=_user(), ip=_ip()
        )
        flash(_("Saved."), "success")
        return url_for(".market", market_id=zone.market_id)

    return submit(form, action, "zoning/zone_form.html", market=zone.market, zone=zone)


# --- stalls ----------------------------------------------------------------------------------


def _zone_choices(form, market: Market):
    form.zone_id.choices = [SelectChoice(z.id, f"{z.code} {z.name}") for z in market.zones]


@bp.route(f"/markets/<{ID}:market_id>/stalls/new", methods=["GET", "POST"])
@manager_only
def stall_new(market_id):
    market = access.market_for_manager(current_user, market_id)
    form = StallForm()
    _zone_choices(form, market)

    def action():
        stall = zoning.save_stall(
            market, form_values(form, zoning.STALL_FIELDS), actor=_user(), ip=_ip()
        )
        flash(_("Stall %(code)s added.", code=stall.code), "success")
        return url_for(".market", market_id=market.id)

    return submit(form, action, "zoning/stall_form.html", market=market, stall=None)


@bp.route(f"/markets/<{ID}:market_id>/stalls/bulk", methods=["GET", "POST"])
@manager_only
def stall_bulk(market_id):
    market = access.market_for_manager(current_user, market_id)
    form = BulkStallForm()
    _zone_choices(form, market)

    def action():
        zone = zoning.zone_of_market(market, form.zone_id.data)
        stalls = zoning.bulk_create_stalls(
            market,
            zone,
            form.codes.data,
            rows=form.rows.data,
            start_row=form.start_row.data,
            start_col=form.start_col.data,
            walkway=form.walkway.data,
            has_power=form.has_power.data,
            actor=_user(),
            ip=_ip(),
        )
        flash(_("%(n)d stalls added.", n=len(stalls)), "success")
        return url_for(".market", market_id=market.id)

    return submit(form, action, "zoning/bulk_form.html", {"grid_row": "start_row"}, market=market)


def _stall_context(stall, disable_form=None) -> dict:
    return {
        "market": stall.market,
        "stall": stall,
        "disable_form": disable_form or DisableForm(prefix="d"),
        "confirm": ConfirmForm(),
        "qr_svg": qr.qr_svg(qr.stall_url(public_base_url(), stall.qr_token), stall.code),
        "local_base_url": local_only_base_url(),
    }


@bp.route(f"/stalls/<{ID}:stall_id>/edit", methods=["GET", "POST"])
@manager_only
def stall_edit(stall_id):
    stall = access.stall_for_manager(current_user, stall_id)
    form = StallForm(obj=stall)
    _zone_choices(form, stall.market)

    def action():
        zoning.save_stall(
            stall.market, form_values(form, zoning.STALL_FIELDS), stall, actor=_user(), ip=_ip()
        )
        flash(_("Saved."), "success")
        return url_for(".market", market_id=stall.market_id)

    return submit(form, action, "zoning/stall_form.html", **_stall_context(stall))


@bp.route(f"/stalls/<{ID}:stall_id>/disable", methods=["POST"])
@manager_only
def stall_disable(stall_id):
    stall = access.stall_for_manager(current_user, stall_id)
    disable_form = DisableForm(prefix="d")
    if disable_form.validate_on_submit():
        zoning.disable_stall(stall, disable_form.reason.data, actor=_user(), ip=_ip())
        db.session.commit()
        flash(_("Stall %(code)s is disabled.", code=stall.code), "success")
        return redirect(url_for(".stall_edit", stall_id=stall.id))
    form = StallForm(obj=stall, formdata=None)
    _zone_choices(form, stall.market)
    context = _stall_context(stall, disable_form)
    return render_template("zoning/stall_form.html", form=form, **context), 400


@bp.route(f"/stalls/<{ID}:stall_id>/enable", methods=["POST"])
@manager_only
def stall_enable(stall_id):
    stall = access.stall_for_manager(current_user, stall_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    zoning.enable_stall(stall, actor=_user(), ip=_ip())
    db.session.commit()
    flash(_("Stall %(code)s is in use again.", code=stall.code), "success")
    return redirect(url_for(".stall_edit", stall_id=stall.id))


@bp.route(f"/stalls/<{ID}:stall_id>/delete", methods=["POST"])
@manager_only
def stall_delete(stall_id):
    stall = access.stall_for_manager(current_user, stall_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    market_id, code = stall.market_id, stall.code
    outcome = zoning.remove_stall(stall, actor=_user(), ip=_ip())
    db.session.commit()
    if outcome == "deleted":
        flash(_("Stall %(code)s deleted.", code=code), "success")
    else:
        flash(
            _("Stall %(code)s has history, so it was disabled instead of deleted.", code=code),
            "info",
        )
    return redirect(url_for(".market", market_id=market_id))


@bp.route(f"/stalls/<{ID}:stall_id>/rotate-token", methods=["POST"])
@manager_only
def stall_rotate(stall_id):
    stall = access.stall_for_manager(current_user, stall_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    zoning.rotate_token(stall, actor=_user(), ip=_ip())
    db.session.commit()
    flash(_("Stall %(code)s has a new QR code. Print its new poster.", code=stall.code), "success")
    return redirect(url_for(".stall_edit", stall_id=stall.id))


# --- posters ---------------------------------------------------------------------------------


@bp.route(f"/markets/<{ID}:market_id>/posters")
@manager_only
def posters(market_id):
    market = access.market_for_manager(current_user, market_id)
    zone_id = id_arg("zone")
    if zone_id is not None:
        zoning.zone_of_market(market, zone_id)
    per_page = 2 if request.args.get("per_page") == "2" else 1
    base = public_base_url()
    stalls = [s for s in zoning.stalls_of(market, zone_id) if s.status == "active"]
    zones = {z.id: z for z in market.zones}
    sheets = [
        {
            "stall": s,
            "zone": zones[s.zone_id],
            "url": qr.stall_url(base, s.qr_token),
            "svg": qr.qr_svg(qr.stall_url(base, s.qr_token), s.code),
        }
        for s in stalls
    ]
    with force_locale("zh_CN"):  # the poster speaks to vendors at the stall: always Chinese
        steps = [str(step) for step in POSTER_STEPS]
    return render_template(
        "zoning/posters.html",
        market=market,
        sheets=sheets,
        per_page=per_page,
        zone_id=zone_id,
        steps=steps,
        local_base_url=local_only_base_url(),
    )


@bp.route(f"/stalls/<{ID}:stall_id>/qr.png")
@manager_only
def stall_png(stall_id):
    stall = access.stall_for_manager(current_user, stall_id)
    png = qr.qr_png(qr.stall_url(public_base_url(), stall.qr_token))
    filename = f"{stall.market.slug}-{stall.code}.png"
    return Response(
        png,
        mimetype="image/png",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
