"""API operations for the cadres' reports: a day's takings per session, a month by day.

The same services as the report pages (services.reports.summaries): figures in integer fen."""

import marshmallow as ma
from flask import g

from ..services.auth import access
from ..services.common.clock import now as clock_now
from ..services.reports import summaries as reports
from . import bp
from .common import READ_ERRORS, errors, managers_only
from .routes import BEARER, MAX_ID
from .sessions import SANE_DATE_DOC, SANE_DATES

MONEY = ("expected", "cash", "code", "collected", "relief", "waived", "pending", "unpaid")
API_NAMES = {"code": "collection_code"}


def _fen_fields() -> dict:
    return {f"{API_NAMES.get(key, key)}_fen": ma.fields.Integer(required=True) for key in MONEY} | {
        "charges": ma.fields.Integer(required=True, metadata={"description": "check-ins"})
    }


TotalsSchema = ma.Schema.from_dict(_fen_fields(), name="ReportTotals")
SessionTakingsSchema = ma.Schema.from_dict(
    {
        "session_id": ma.fields.Integer(required=True),
        "kind": ma.fields.String(required=True),
        "state": ma.fields.String(required=True),
        "starts_at": ma.fields.DateTime(required=True),
        "ends_at": ma.fields.DateTime(required=True),
        **_fen_fields(),
    },
    name="SessionTakings",
)
DayTakingsSchema = ma.Schema.from_dict(
    {"date": ma.fields.Date(required=True), "sessions": ma.fields.Integer(required=True)}
    | _fen_fields(),
    name="DayTakings",
)


class DailyArgsSchema(ma.Schema):
    date = ma.fields.Date(
        validate=SANE_DATES, metadata={"description": "business date; today", **SANE_DATE_DOC}
    )


class MonthlyArgsSchema(ma.Schema):
    month = ma.fields.String(
        validate=ma.validate.Regexp(r"^\d{4}-\d{2}$"),
        metadata={"example": "2026-11", "description": "YYYY-MM; this month"},
    )


class DailySchema(ma.Schema):
    market_id = ma.fields.Integer(required=True)
    date = ma.fields.Date(required=True)
    sessions = ma.fields.List(ma.fields.Nested(SessionTakingsSchema), required=True)
    totals = ma.fields.Nested(TotalsSchema, required=True)


class MonthlySchema(ma.Schema):
    market_id = ma.fields.Integer(required=True)
    month = ma.fields.String(required=True)
    days = ma.fields.List(ma.fields.Nested(DayTakingsSchema), required=True)
    totals = ma.fields.Nested(TotalsSchema, required=True)


def _api_money(values: dict) -> dict:
    out = {f"{API_NAMES.get(k, k)}_fen": values[k] for k in MONEY}
    out["charges"] = values["charges"]
    return out


@bp.route(f"/markets/<{MAX_ID}:market_id>/reports/daily")
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(DailyArgsSchema, location="query")
@bp.response(200, DailySchema)
@errors(*READ_ERRORS)
def daily_report(args, market_id: int):
    """A day's takings per session (the figures of the session page and the guide's board),
    for the cadres of the market's organization."""
    market = access.market_for_manager(g.api_user, market_id)
    day = args.get("date") or reports.today_of(market, clock_now())
    found = reports.daily_takings(market, day)
    sessions = []
    for d in found:
        values = reports.totals_of([d])
        sessions.append(
            {
                "session_id": d.session.id,
                "kind": d.session.kind,
                "state": d.session.state,
                "starts_at": d.session.starts_at,
                "ends_at": d.session.ends_at,
                **_api_money(values),
            }
        )
    return {
        "market_id": market.id,
        "date": day,
        "sessions": sessions,
        "totals": _api_money(reports.totals_of(found)),
    }


@bp.route(f"/markets/<{MAX_ID}:market_id>/reports/monthly")
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(MonthlyArgsSchema, location="query")
@bp.response(200, MonthlySchema)
@errors(*READ_ERRORS)
def monthly_report(args, market_id: int):
    """A month's takings by business date, with its totals."""
    market = access.market_for_manager(g.api_user, market_id)
    span = reports.parse_month(args.get("month"), reports.today_of(market, clock_now()))
    summary = reports.monthly_summary(market, span)
    return {
        "market_id": market.id,
        "month": span.first.strftime("%Y-%m"),
        "days": [
            {"date": d["date"], "sessions": d["sessions"], **_api_money(d)} for d in summary.days
        ],
        "totals": _api_money(summary.totals),
    }
