"""The cadre's side: the approval queue, the vendor list and a vendor's page."""

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import Role, Vendor, VendorStatus
from ..queryargs import page_arg
from ..services.auth import access
from ..services.common import uploads
from ..services.common.errors import DomainError, NotFound
from ..services.complaints import stats as complaint_stats
from ..services.vendors import registry as vendor_service
from . import bp
from .forms import DecisionForm
from .views import certs_dir

ID = "int(max=2147483647)"
manager_only = roles_required(*Role.MANAGERS)
PER_PAGE = 30


def vendor_for_manager(vendor_id: int) -> Vendor:
    vendor = db.session.get(Vendor, vendor_id)
    if vendor is None or not access.has_org_role(current_user, vendor.organization_id):
        raise NotFound()
    return vendor


def _labels() -> dict:
    return {
        "category_label": vendor_service.category_label,
        "status_label": vendor_service.status_label,
        "relief_labels": vendor_service.RELIEF_LABELS,
        "certificate_state": vendor_service.certificate_state,
        "history_label": vendor_service.history_label,
        "history_line": vendor_service.history_line,
    }


@bp.route("/queue")
@manager_only
def queue():
    """Everything waiting for a cadre: new vendors, renewed certificates, relief claims."""
    org_ids = access.managed_organization_ids(current_user)
    pending, _total = vendor_service.search(org_ids, status=VendorStatus.PENDING, per_page=200)
    waiting = vendor_service.awaiting_review(org_ids)
    return render_template(
        "vendors/queue.html", pending=pending, waiting=waiting, form=DecisionForm(), **_labels()
    )


@bp.route("/list")
@roles_required(*Role.READERS)
def listing():
    org_ids = access.readable_organization_ids(current_user)
    status = request.args.get("status") or None
    if status not in (None, *VendorStatus.ALL):
        abort(400)
    page = page_arg()
    q = request.args.get("q")
    if q and org_ids != access.managed_organization_ids(current_user):
        # A supervisor sees phones masked: searching by their digits would unmask them.
        q = "".join(c for c in q if not c.isdigit()).strip() or None
    items, total = vendor_service.search(
        org_ids,
        q=q,
        status=status,
        category=request.args.get("category") or None,
        page=page,
        per_page=PER_PAGE,
    )
    return render_template(
        "vendors/list.html",
        vendors=items,
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        statuses=VendorStatus.ALL,
        categories=vendor_service.CATEGORY_LABELS,
        **_labels(),
    )


def vendor_for_reader(vendor_id: int) -> Vendor:
    """The community's cadres, and the supervisors of its area (phone masked, read-only)."""
    vendor = db.session.get(Vendor, vendor_id)
    if vendor is None or not access.can_read_org(current_user, vendor.organization_id):
        raise NotFound()
    return vendor


@bp.route(f"/<{ID}:vendor_id>")
@roles_required(*Role.READERS)
def detail(vendor_id):
    vendor = vendor_for_reader(vendor_id)
    return render_template(
        "vendors/detail.html",
        vendor=vendor,
        masked=access.masks_phones(current_user, vendor.organization_id),
        history=vendor_service.history(vendor),
        complaint_count=complaint_stats.vendor_complaint_count(vendor.id),
        form=DecisionForm(),
        **_labels(),
    )


# What was done, said with the vendor's name (a bare "Done." left the cadre guessing).
DONE = {
    "approve": _l("%(name)s is approved and can check in now."),
    "reject": _l("%(name)s's registration is rejected; they see the reason."),
    "suspend": _l("%(name)s is suspended."),
    "reinstate": _l("%(name)s is reinstated and can check in again."),
    "accept": _l("%(name)s's new health certificate is accepted."),
    "decline": _l("%(name)s's request is declined; they see the reason."),
    "confirm": _l("%(name)s's relief status is confirmed: it applies from the next session."),
}


def _act(vendor_id: int, run, done: str) -> tuple:
    vendor = vendor_for_manager(vendor_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        run(vendor, form.reason.data, current_user._get_current_object())
    except DomainError as e:
        db.session.rollback()
        flash(str(e.message), "error")
        return redirect(url_for(".detail", vendor_id=vendor.id)), 303
    db.session.commit()
    flash(str(DONE[done]) % {"name": vendor.user.name}, "success")
    return redirect(request.form.get("back") or url_for(".detail", vendor_id=vendor.id)), 303


@bp.route(f"/<{ID}:vendor_id>/<any(approve, reject, suspend, reinstate):action>", methods=["POST"])
@manager_only
def decide(vendor_id, action):
    return _act(
        vendor_id,
        lambda v, reason, actor: vendor_service.decide(
            v, action, actor=actor, reason=reason, ip=request.remote_addr
        ),
        action,
    )


@bp.route(f"/<{ID}:vendor_id>/certificate/<any(accept, decline):answer>", methods=["POST"])
@manager_only
def certificate(vendor_id, answer):
    return _act(
        vendor_id,
        lambda v, reason, actor: vendor_service.decide_certificate(
            v, answer == "accept", actor=actor, reason=reason, ip=request.remote_addr
        ),
        answer,
    )


@bp.route(f"/<{ID}:vendor_id>/relief/<any(confirm, decline):answer>", methods=["POST"])
@manager_only
def relief(vendor_id, answer):
    return _act(
        vendor_id,
        lambda v, reason, actor: vendor_service.decide_relief(
            v, answer == "confirm", actor=actor, reason=reason, ip=request.remote_addr
        ),
        answer,
    )


@bp.route(f"/<{ID}:vendor_id>/certificate-photo")
@roles_required(*Role.READERS)
def certificate_photo(vendor_id):
    """Only the vendor's organization's cadres and its area's supervisors see the photo."""
    vendor = vendor_for_reader(vendor_id)
    name = vendor.pending_cert_photo if request.args.get("pending") else vendor.health_cert_photo
    path = uploads.stored_path(certs_dir(), name)
    if path is None:
        abort(404)
    response = send_file(path, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
