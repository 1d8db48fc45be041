"""The supervisor's pages: which areas, and one area's communities side by side."""

from datetime import date
from urllib.parse import quote

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import Area, Role
from ..services.areas import dashboard
from ..services.auth import access
from ..services.common import exports
from ..services.common.clock import now as clock_now
from ..services.common.errors import NotFound
from ..services.guide import incidents
from . import bp, chart

ID = "int(max=2147483647)"
supervisors = roles_required(Role.SUPERVISOR)


def area_for_supervisor(area_id: int) -> Area:
    area = db.session.get(Area, area_id)
    if area is None or area.id not in access.supervised_area_ids(current_user):
        raise NotFound()
    return area


def _sort() -> str:
    key = request.args.get("sort", "community")
    return key if key in dashboard.SORT_KEYS else "community"


def _rows(area: Area):
    now = clock_now()
    today = dashboard.local_today(area, now, current_app.config["MARKET_TIMEZONE"])
    month = dashboard.month_of(request.args.get("month"), dashboard.default_month(area, today))
    rows = dashboard.sort_rows(dashboard.rows_for(area, month, now, today), _sort())
    return month, rows


@bp.route("/")
@supervisors
def index():
    ids = sorted(access.supervised_area_ids(current_user))
    if len(ids) == 1:
        return redirect(url_for(".dashboard", area_id=ids[0]))
    areas = db.session.scalars(select(Area).where(Area.id.in_(ids)).order_by(Area.name)).all()
    return render_template("areas/index.html", areas=areas)


@bp.route(f"/<{ID}:area_id>/", endpoint="dashboard")
@supervisors
def dashboard_page(area_id):
    area = area_for_supervisor(area_id)
    month, rows = _rows(area)
    previous = (month.replace(day=1) - date.resolution).replace(day=1)
    following = dashboard.month_span(month).last + date.resolution
    nets = [(r.values["community"], dashboard.monthly_net(r.org, month)) for r in rows]
    return render_template(
        "areas/dashboard.html",
        area=area,
        month=month.strftime("%Y-%m"),
        month_date=month,
        month_last=dashboard.month_span(month).last,
        previous=previous.strftime("%Y-%m"),
        following=following.strftime("%Y-%m"),
        rows=rows,
        columns=dashboard.COLUMNS,
        sort=_sort(),
        rules=dashboard.FLAG_RULES,
        money=dashboard.MONEY,
        incident_kind_label=incidents.kind_label,
        charts=chart.small_multiples(nets),
    )


@bp.route(f"/<{ID}:area_id>/dashboard.xlsx")
@supervisors
def dashboard_xlsx(area_id):
    area = area_for_supervisor(area_id)
    month, rows = _rows(area)
    name = f"area-{area.id}-{month:%Y-%m}"
    full = quote(f"{area.name}-{month:%Y-%m}.xlsx", safe="")
    disposition = f"attachment; filename=\"{name}.xlsx\"; filename*=UTF-8''{full}"
    return Response(
        exports.xlsx_bytes(dashboard.table(area, month, rows)),
        mimetype=exports.XLSX_MIME,
        headers={"Content-Disposition": disposition},
    )
