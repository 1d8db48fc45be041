"""帮摊主登记: a guide registers a vendor without a smartphone, on her own phone.

The guide stays logged in as herself (registering from /vendors/register would log her in as
the vendor). She lands on the new vendor's page: the vendor pass to print and a one-time code
with which the vendor sets a password later."""

from flask import make_response, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import formstash
from ..auth.decorators import roles_required
from ..extensions import db
from ..models import Role, Vendor
from ..publicurl import local_only_base_url, public_base_url
from ..services.auth import access
from ..services.common.errors import NotFound
from ..services.vendors import passes as vendor_pass
from ..services.vendors import registry as vendor_service
from ..services.zoning import qr
from ..vendors.forms import GuideRegisterForm
from ..vendors.views import FIELD_MAP, fill_choices, form_details, store_photo
from . import bp

ID = "int(max=2147483647)"
CODE_KEY = "new_vendor_code"  # shown once on the next page, then gone from the session


def _vendor_of(market_id: int, vendor_id: int):
    market = access.market_for_guide(current_user, market_id)
    vendor = db.session.get(Vendor, vendor_id)
    if vendor is None or vendor.market_id != market.id:
        raise NotFound()
    return market, vendor


def _no_store(body):
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route(f"/markets/<{ID}:market_id>/vendors/new", methods=["GET", "POST"])
@roles_required(*Role.STAFF)
def register_vendor(market_id: int):
    market = access.market_for_guide(current_user, market_id)
    form = GuideRegisterForm()
    fill_choices(form, market)

    def action():
        done = vendor_service.register_for(
            market,
            guide=current_user._get_current_object(),
            name=form.name.data,
            phone=form.phone.data,
            details=form_details(form),
            agreed_to_rules=form.agree.data,
            ip=request.remote_addr,
        )
        vendor = done.vendor
        if photo := store_photo(form, vendor.sells_food):
            vendor.health_cert_photo = photo
        if done.code is not None:
            session[CODE_KEY] = {
                "vendor": vendor.id,
                "code": done.code.shown,
                "expires": done.code.expires_at.isoformat(),
            }
        return url_for(".registered_vendor", market_id=market.id, vendor_id=vendor.id)

    return _no_store(
        formstash.submit(form, action, "guide/register.html", FIELD_MAP, market=market)
    )


@bp.route(f"/markets/<{ID}:market_id>/vendors/<{ID}:vendor_id>")
@roles_required(*Role.STAFF)
def registered_vendor(market_id: int, vendor_id: int):
    market, vendor = _vendor_of(market_id, vendor_id)
    code = session.get(CODE_KEY)
    if code and code.get("vendor") == vendor.id:
        session.pop(CODE_KEY)
    else:
        code = None
    return _no_store(
        render_template(
            "guide/registered.html",
            market=market,
            vendor=vendor,
            code=code,
            has_pass=vendor_pass.has_pass(vendor),
            status_label=vendor_service.status_label,
            category_label=vendor_service.category_label,
        )
    )


@bp.route(f"/markets/<{ID}:market_id>/vendors/<{ID}:vendor_id>/pass")
@roles_required(*Role.STAFF)
def print_pass(market_id: int, vendor_id: int):
    """The vendor pass on paper, for a vendor without a smartphone."""
    market, vendor = _vendor_of(market_id, vendor_id)
    if not vendor_pass.has_pass(vendor):
        raise NotFound(_("A rejected vendor has no vendor pass."))
    svg = qr.qr_svg(vendor_pass.pass_url(public_base_url(), vendor), _("Vendor pass"))
    return render_template(
        "guide/vendor_pass.html",
        market=market,
        vendor=vendor,
        svg=svg,
        local_base_url=local_only_base_url(),
    )
