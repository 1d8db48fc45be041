"""Report pages for the cadres of a market's organization, and their CSV / XLSX downloads.

Views parse the query string and check who asks; the figures come from
services.reports.summaries."""

from datetime import timedelta
from urllib.parse import quote

from flask import Response, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import Market, Role
from ..services.auth import access
from ..services.common import exports
from ..services.common.clock import now as clock_now
from ..services.common.errors import InvalidInput, NotFound
from ..services.common.money import yuan
from ..services.reports import histories
from ..services.reports import occupancy as occupancy_service
from ..services.reports import summaries as reports
from ..services.sessions import owing
from ..services.sessions import tide as sessions
from . import bp, charts

ID = "int(max=2147483647)"
# Read-only pages: the organization's cadres, and the supervisors of its street office.
manager_only = roles_required(*Role.READERS)


def _market(market_id: int) -> Market:
    return access.market_for_reader(current_user, market_id)


def _today(market: Market):
    return reports.today_of(market, clock_now())


def _range(market: Market, default_days=30, max_days=reports.PAGE_MAX_DAYS):
    return reports.parse_range(
        request.args.get("from"),
        request.args.get("to"),
        _today(market),
        default_days=default_days,
        max_days=max_days,
    )


def _vendor_id() -> int | None:
    raw = request.args.get("vendor", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise InvalidInput(_("Choose a vendor from the list."), code="invalid_vendor")
    return int(raw)


def _fmt_yuan(fen: int) -> str:
    return yuan(fen).replace("¥", "")


REPORT_PAGES = ("daily", "monthly", "occupancy", "vendor_history", "handovers")


def managed_markets() -> list[Market]:
    org_ids = access.readable_organization_ids(current_user)
    return db.session.scalars(
        select(Market).where(Market.organization_id.in_(org_ids)).order_by(Market.id)
    ).all()


@bp.route("/")
@manager_only
def index():
    """The cadre's markets; `?market=<id>&report=<page>` (the market picker) goes there."""
    raw, report = request.args.get("market", ""), request.args.get("report", "daily")
    if raw:
        if not raw.isdigit() or len(raw) > 9 or report not in REPORT_PAGES:
            raise InvalidInput(_("Choose a market from the list."), code="invalid_market")
        market = _market(int(raw))
        return redirect(url_for(f".{report}", market_id=market.id))
    return render_template("reports/index.html", markets=managed_markets())


@bp.route(f"/markets/<{ID}:market_id>/daily")
@manager_only
def daily(market_id):
    market = _market(market_id)
    day = reports.parse_day(request.args.get("date"), _today(market))
    found = reports.daily_takings(market, day)
    return render_template(
        "reports/daily.html",
        market=market,
        day=day,
        found=found,
        totals=reports.totals_of(found),
        zone=sessions.zone_of(market),
        owes=owing.who_owes(market, current_user, [d.session.id for d in found]),
    )


@bp.route(f"/markets/<{ID}:market_id>/monthly")
@manager_only
def monthly(market_id):
    market = _market(market_id)
    span = reports.parse_month(request.args.get("month"), _today(market))
    summary = reports.monthly_summary(market, span)
    by_day = {d["date"]: d for d in summary.days}
    items = []
    for n in range(span.days):
        day = span.first + timedelta(days=n)
        d = by_day.get(day, {})
        parts = [
            ("bar-cash", d.get("cash", 0)),
            ("bar-code", d.get("code", 0)),
            ("bar-unpaid", d.get("unpaid", 0)),
        ]
        title = _(
            "%(date)s: collected %(collected)s, unpaid %(unpaid)s yuan",
            date=day.isoformat(),
            collected=_fmt_yuan(d.get("collected", 0)),
            unpaid=_fmt_yuan(d.get("unpaid", 0)),
        )
        items.append((str(day.day), title, parts))
    chart = charts.stacked(items, fmt=lambda fen: str(fen // 100), label_every=5)
    previous = span.first - timedelta(days=1)
    following = span.last + timedelta(days=1)
    return render_template(
        "reports/monthly.html",
        market=market,
        summary=summary,
        chart=chart,
        month=span.first.strftime("%Y-%m"),
        previous=previous.strftime("%Y-%m"),
        following=following.strftime("%Y-%m"),
    )


@bp.route(f"/markets/<{ID}:market_id>/occupancy")
@manager_only
def occupancy(market_id):
    market = _market(market_id)
    span = _range(market)
    return render_template(
        "reports/occupancy.html",
        market=market,
        span=span,
        held=occupancy_service.held_sessions(market, span),
        zones=occupancy_service.zone_rows(market, span),
        stalls=list(occupancy_service.stall_rows(market, span)),
    )


@bp.route(f"/markets/<{ID}:market_id>/vendors")
@manager_only
def vendor_history(market_id):
    market = _market(market_id)
    span = _range(market, default_days=90)
    vendor_id = _vendor_id()
    table = None
    if vendor_id is not None:
        table = histories.vendor_table(market, histories.vendor_of(market, vendor_id), span)
    return render_template(
        "reports/vendor.html",
        market=market,
        span=span,
        vendors=histories.vendors_of(market),
        vendor_id=vendor_id,
        table=table,
        rows=list(table.walk()) if table else [],
    )


@bp.route(f"/markets/<{ID}:market_id>/handovers")
@manager_only
def handovers(market_id):
    market = _market(market_id)
    span = _range(market)
    table = histories.handovers_table(market, span)
    return render_template(
        "reports/handovers.html", market=market, span=span, table=table, rows=list(table.walk())
    )


# --- downloads -------------------------------------------------------------------------------

EXPORTS = {
    "sessions": reports.sessions_table,
    "days": reports.days_table,
    "stalls": occupancy_service.stalls_table,
    "zones": occupancy_service.zones_table,
    "handovers": histories.handovers_table,
}


def _export_table(market: Market, kind: str):
    """(table, span, disposition): a vendor's history is named after the vendor, so that ten
    downloads in one folder can be told apart."""
    span = _range(market, max_days=reports.EXPORT_MAX_DAYS)
    dates = f"{span.first.isoformat()}-{span.last.isoformat()}"
    if kind == "vendor":
        vendor = histories.vendor_of(market, _vendor_id())
        table = histories.vendor_table(market, vendor, span)
        name = f"{market.slug}-vendor-{vendor.id}-{dates}"
        return table, span, (name, f"{market.slug}-{vendor.user.name}-{vendor.id}-{dates}")
    if kind not in EXPORTS:
        raise NotFound()
    return EXPORTS[kind](market, span), span, (f"{market.slug}-{kind}-{dates}",) * 2


def _attachment(names: tuple[str, str], ext: str) -> dict:
    """An ASCII filename for old clients and the UTF-8 one (RFC 6266) for the rest."""
    ascii_name, full_name = names
    utf8 = quote(f"{full_name}.{ext}", safe="")
    value = f"attachment; filename=\"{ascii_name}.{ext}\"; filename*=UTF-8''{utf8}"
    return {"Content-Disposition": value}


@bp.route(f"/markets/<{ID}:market_id>/export/<string(maxlength=20):kind>.csv")
@manager_only
def export_csv(market_id, kind):
    market = _market(market_id)
    table, _span, names = _export_table(market, kind)
    return Response(
        stream_with_context(exports.csv_stream(table)),
        mimetype=exports.CSV_MIME,
        headers=_attachment(names, "csv"),
    )


@bp.route(f"/markets/<{ID}:market_id>/export/<string(maxlength=20):kind>.xlsx")
@manager_only
def export_xlsx(market_id, kind):
    market = _market(market_id)
    table, _span, names = _export_table(market, kind)
    return Response(
        exports.xlsx_bytes(table), mimetype=exports.XLSX_MIME, headers=_attachment(names, "xlsx")
    )
