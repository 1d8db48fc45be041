from flask import render_template
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import Market, Organization, Role, Stall, Vendor, VendorStatus, Zone
from ..services.auth import access
from ..services.common.clock import now
from ..services.guide import handovers
from ..services.reports import todo
from . import bp


@bp.route("/")
@roles_required(*Role.MANAGERS)
def dashboard():
    org_ids = access.managed_organization_ids(current_user)
    organizations = db.session.scalars(
        select(Organization).where(Organization.id.in_(org_ids)).order_by(Organization.id)
    ).all()
    stall_counts = dict(
        db.session.execute(
            select(Stall.market_id, func.count())
            .join(Market)
            .where(Market.organization_id.in_(org_ids))
            .group_by(Stall.market_id)
        ).all()
    )
    zone_counts = dict(
        db.session.execute(
            select(Zone.market_id, func.count())
            .join(Market)
            .where(Market.organization_id.in_(org_ids))
            .group_by(Zone.market_id)
        ).all()
    )
    pending = dict(
        db.session.execute(
            select(Vendor.organization_id, func.count())
            .where(Vendor.organization_id.in_(org_ids), Vendor.status == VendorStatus.PENDING)
            .group_by(Vendor.organization_id)
        ).all()
    )
    return render_template(
        "admin/dashboard.html",
        organizations=organizations,
        stall_counts=stall_counts,
        zone_counts=zone_counts,
        pending=pending,
        holding=handovers.cash_not_handed_over(org_ids),
        waiting=handovers.pending_for(org_ids),
        todos={org.id: todo.for_cadre(org, current_user, now()) for org in organizations},
    )
