"""The audit log page of an organization, for its cadres: filter, page, download."""

from flask import Response, current_app, render_template, request, stream_with_context
from flask_login import current_user

from ..queryargs import page_arg
from ..services.auth import access
from ..services.common import exports
from ..services.common.clock import now as clock_now
from ..services.reports import audit_log
from ..services.reports import summaries as reports
from . import bp
from .views import ID, manager_only


def _filter(org, zone, max_days):
    today = clock_now().astimezone(zone).date()
    args = request.args
    return audit_log.AuditFilter(
        span=reports.parse_range(args.get("from"), args.get("to"), today, max_days=max_days),
        action=audit_log.parse_word(args.get("action"), "action"),
        object_type=audit_log.parse_word(args.get("type"), "type"),
        actor_id=audit_log.parse_actor(args.get("actor")),
    )


def _org_and_zone(org_id):
    org = access.organization_for_manager(current_user, org_id)
    return org, audit_log.zone_of(org, current_app.config.get("MARKET_TIMEZONE", "Asia/Shanghai"))


@bp.route(f"/organizations/<{ID}:org_id>/audit")
@manager_only
def audit(org_id):
    org, zone = _org_and_zone(org_id)
    f = _filter(org, zone, reports.PAGE_MAX_DAYS)
    number = page_arg()
    items, total = audit_log.page(org, f, zone, max(number, 1))
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "reports/audit.html",
        org=org,
        zone=zone,
        f=f,
        items=items,
        total=total,
        page=max(number, 1),
        pages=max((total + audit_log.PER_PAGE - 1) // audit_log.PER_PAGE, 1),
        query=query,
        choices=audit_log.choices(org),
        detail_text=audit_log.detail_text,
    )


@bp.route(f"/organizations/<{ID}:org_id>/audit.csv")
@manager_only
def audit_csv(org_id):
    org, zone = _org_and_zone(org_id)
    f = _filter(org, zone, reports.EXPORT_MAX_DAYS)
    name = f"audit-{org.id}-{f.span.first.isoformat()}-{f.span.last.isoformat()}.csv"
    return Response(
        stream_with_context(exports.csv_stream(audit_log.table(org, f, zone))),
        mimetype=exports.CSV_MIME,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
