"""The supervisor's dashboard: one row per community of an area for a month, and the flags
whose rules the page writes out. Figures come from the services each community's own pages
use (the month close, occupancy, complaint stats, the ledger checks); a handful of queries
per organization."""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    Area,
    Incident,
    Market,
    MarketSession,
    MonthClose,
    Organization,
    SessionState,
)
from ..common.errors import InvalidInput
from ..common.tables import Column, Table
from ..complaints import stats as complaint_stats
from ..ledger import checkpoints, periods
from ..reports import occupancy
from ..reports.summaries import DateRange
from . import flags

RECONCILE_WITHIN_DAYS = 3
CLOSE_WITHIN_DAYS = 10
HANDOVER_WITHIN = timedelta(hours=24)
HANDOVER_DIFFERENCE_FEN = 2000

# Each flag with the rule the page writes beside the table.
FLAG_RULES = {
    "books": _l("The ledger's hash chain or its check against the operations fails."),
    "unreconciled": _l("A closed trading day is not reconciled %(n)d days later.", n=3),
    "unclosed": _l("A month is not closed %(n)d days after it ended.", n=10),
    "cash_held": _l("A guide has not handed over cash taken more than 24 hours ago."),
    "handover_gap": _l("A hand-over this month differs from the cash counted by more than ¥20."),
    "rejected": _l("Expenses of this month were rejected."),
    "overdrawn": _l("An asset account (cash, bank, receivables) is below zero."),
    "expired_cert": _l("A food vendor traded this month with an expired health certificate."),
    "complaint_late": _l("A complaint is past its promised answer time (24 hours)."),
    "stale_books": _l("Nothing was posted to the ledger after the last trading day."),
    "mutual_approval": _l(
        "Two cadres approved each other's expenses this month and nobody else approved them."
    ),
}

COLUMNS = [
    Column("community", _l("Community")),
    Column("fee_income_fen", _l("Fee income"), "fen"),
    Column("relief_fen", _l("Relief"), "fen"),
    Column("expenses_fen", _l("Expenses"), "fen"),
    Column("net_income_fen", _l("Net income"), "fen"),
    Column("governance_fund_fen", _l("Governance fund"), "fen"),
    Column("distributable_fen", _l("Distributable"), "fen"),
    Column("occupancy", _l("Occupancy"), "pct", total=False),
    Column("held", _l("Sessions held"), "int"),
    Column("cancelled", _l("Sessions cancelled"), "int"),
    Column("complaints", _l("Complaints"), "int"),
    Column("answered_in_time", _l("Answered within 24 h"), "pct", total=False),
    Column("flags", _l("Flags"), "int"),
    Column("open_questions", _l("Open questions"), "int"),
    Column("incidents", _l("Incidents"), "int"),
    Column("mtd_income_fen", _l("This month so far: fee income"), "fen"),
    Column("mtd_net_fen", _l("This month so far: net"), "fen"),
]
SORT_KEYS = {c.key for c in COLUMNS}


@dataclass
class Row:
    org: Organization
    markets: list[Market]
    closed: MonthClose | None  # None: the money figures are the close's preview, not booked
    values: dict
    flags: dict[str, int] = field(default_factory=dict)
    expenses_by_category: dict[str, int] = field(default_factory=dict)
    incidents_by_kind: dict[str, int] = field(default_factory=dict)
    # What the "books" flag stands on: the chain (checked after its checkpoint) and the books
    # against the operations (the last full check while fresh); None: not checked.
    chain_check: checkpoints.ChainCheck | None = None
    operations_check: checkpoints.OperationsCheck | None = None


def month_span(month: date) -> DateRange:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return DateRange(month, following - timedelta(days=1))


def last_full_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_of(raw: str | None, default: date) -> date:
    """The month asked for as YYYY-MM, else `default` (InvalidInput when malformed)."""
    if not raw:
        return default
    try:
        month = date.fromisoformat(f"{raw}-01")
    except ValueError:
        month = None
    if month is None or not 2000 <= month.year <= 2100:
        raise InvalidInput(_l("Give the month as YYYY-MM."), code="invalid_month", field="month")
    return month


def local_today(area: Area, now: datetime, default_tz: str) -> date:
    tz = next((m.timezone for o in area.organizations for m in o.markets), default_tz)
    return now.astimezone(ZoneInfo(tz)).date()


def default_month(area: Area, today: date) -> date:
    """The last month any community of the area closed, else the last full month."""
    closed = db.session.scalar(
        select(func.max(MonthClose.month))
        .join(Organization, Organization.id == MonthClose.organization_id)
        .where(Organization.area_id == area.id, MonthClose.month < today.replace(day=1))
    )
    return closed or last_full_month(today)


@dataclass
class AreaFigures:
    """What the rows read for all the area's communities at once, by organization id."""

    closes: dict[int, MonthClose]
    ledger: dict[tuple, dict]  # periods.months_figures of the month shown and of this one
    trading: dict[int, dict]
    flags: dict[str, dict[int, int]]
    chains: dict[int, checkpoints.ChainCheck]
    incidents: dict[int, dict[str, int]]


def rows_for(area: Area, month: date, now: datetime, today: date) -> list[Row]:
    from .questions import open_counts  # it names the flags of this module

    span = month_span(month)
    orgs = db.session.scalars(
        select(Organization)
        .where(Organization.area_id == area.id)
        .options(selectinload(Organization.markets))
        .order_by(Organization.id)
    ).all()
    markets = [m for o in orgs for m in o.markets]
    ids = [o.id for o in orgs]
    closes = db.session.scalars(
        select(MonthClose).where(
            MonthClose.organization_id.in_(ids), MonthClose.month == span.first
        )
    )
    figures = AreaFigures(
        closes={c.organization_id: c for c in closes},
        ledger=periods.months_figures(ids, [span.first, today.replace(day=1)]),
        trading=area_trading(markets, span),
        flags=area_flags(ids, span, now, today),
        chains=checkpoints.check_many(ids),
        incidents=area_incidents(markets, span),
    )
    rows = [_row(org, span, now, today, figures) for org in orgs]
    waiting = open_counts(r.org.id for r in rows)
    for r in rows:
        r.values["open_questions"] = waiting.get(r.org.id, 0)
    return rows


def _row(org: Organization, span: DateRange, now, today: date, area: AreaFigures) -> Row:
    markets = list(org.markets)
    closed = area.closes.get(org.id)
    values = {"community": org.short_name or org.name}
    if closed:
        values.update({k: getattr(closed, k) for k in MONEY})
        by_category = json.loads(closed.expenses_detail or "{}")
    else:  # what closing it would book now (the month-close page's own preview)
        month = area.ledger.get((org.id, span.first), periods.no_figures())
        preview = periods.close_figures(org, span.first, month)
        values.update(_booked_like(preview))
        by_category = preview.by_category
    so_far = periods.close_figures(
        org,
        today.replace(day=1),
        area.ledger.get((org.id, today.replace(day=1)), periods.no_figures()),
    )
    values["mtd_income_fen"] = so_far.fee_income_fen
    values["mtd_net_fen"] = so_far.net_fen
    values.update(area.trading.get(org.id) or _NO_TRADE)
    row = Row(org, markets, closed, values, expenses_by_category=by_category)
    row.incidents_by_kind = area.incidents.get(org.id, {})
    values["incidents"] = sum(row.incidents_by_kind.values())
    row.chain_check = area.chains[org.id]
    if row.chain_check.ok:
        row.operations_check = checkpoints.check_operations(org.id, now)
    books_ok = row.chain_check.ok and row.operations_check.ok
    found = {"books": int(not books_ok)} | {k: n.get(org.id, 0) for k, n in area.flags.items()}
    row.flags = {k: n for k, n in found.items() if n}
    values["flags"] = sum(row.flags.values())
    return row


_NO_TRADE = {
    "occupancy": None,
    "held": 0,
    "cancelled": 0,
    "complaints": 0,
    "answered_in_time": None,
}

MONEY = (
    "fee_income_fen",
    "relief_fen",
    "expenses_fen",
    "net_income_fen",
    "governance_fund_fen",
    "distributable_fen",
)


def _booked_like(f: periods.CloseFigures) -> dict:
    return {
        "fee_income_fen": f.fee_income_fen,
        "relief_fen": f.relief_fen,
        "expenses_fen": f.expenses_fen,
        "net_income_fen": f.net_fen,
        "governance_fund_fen": f.fund_fen,
        "distributable_fen": f.distributable_fen,
    }


def area_incidents(markets: list[Market], span: DateRange) -> dict[int, dict[str, int]]:
    """{organization id: {kind: count}} of incidents logged in the month in each market's own
    calendar (complaints included: each opens one); one statement per time zone."""
    by_zone: dict[str, list[Market]] = {}
    for m in markets:
        by_zone.setdefault(m.timezone, []).append(m)
    org_of = {m.id: m.organization_id for m in markets}
    out: dict[int, dict[str, int]] = {}
    for tz, group in by_zone.items():
        zone = ZoneInfo(tz)
        start = datetime.combine(span.first, time(), zone).astimezone(UTC)
        end = datetime.combine(span.last + timedelta(days=1), time(), zone).astimezone(UTC)
        for market_id, kind, n in db.session.execute(
            select(Incident.market_id, Incident.kind, func.count())
            .where(
                Incident.market_id.in_([m.id for m in group]),
                Incident.created_at >= start,
                Incident.created_at < end,
            )
            .group_by(Incident.market_id, Incident.kind)
        ):
            kinds = out.setdefault(org_of[market_id], {})
            kinds[kind] = kinds.get(kind, 0) + n
    return {org: dict(sorted(kinds.items())) for org, kinds in out.items()}


def area_trading(markets: list[Market], span: DateRange) -> dict[int, dict]:
    """{organization id: occupancy, sessions held and cancelled, complaints} for the month."""
    ids = [m.id for m in markets]
    occupied = occupancy.markets_occupancy(ids, span)
    cancelled = dict(
        db.session.execute(
            select(MarketSession.market_id, func.count())
            .where(
                MarketSession.market_id.in_(ids),
                MarketSession.business_date.between(span.first, span.last),
                MarketSession.state == SessionState.CANCELLED,
            )
            .group_by(MarketSession.market_id)
        ).all()
    )
    complaints = complaint_stats.counts_for_month(markets, span.first)
    sums: dict[int, list[int]] = {}
    for market in markets:
        held, used, stalls = occupied[market.id]
        got, fast = complaints[market.id]
        total = sums.setdefault(market.organization_id, [0] * 6)
        for i, n in enumerate((used, stalls * held, held, cancelled.get(market.id, 0), got, fast)):
            total[i] += n
    return {
        org: {
            "occupancy": used / possible if possible else None,
            "held": held,
            "cancelled": cancelled_n,
            "complaints": received,
            "answered_in_time": in_time / received if received else None,
        }
        for org, (used, possible, held, cancelled_n, received, in_time) in sums.items()
    }


def area_flags(org_ids: list[int], span: DateRange, now, today: date) -> dict[str, dict]:
    """Every flag's counts for the area's communities: {flag: {organization id: count}}."""
    return {
        "unreconciled": flags.unreconciled(org_ids, today - timedelta(days=RECONCILE_WITHIN_DAYS)),
        "unclosed": flags.months_not_closed(org_ids, today, CLOSE_WITHIN_DAYS),
        "cash_held": flags.cash_held(org_ids, now - HANDOVER_WITHIN),
        "handover_gap": flags.handover_gaps(
            org_ids, span.first, span.last, HANDOVER_DIFFERENCE_FEN
        ),
        "rejected": flags.rejected(org_ids, span.first, span.last),
        "overdrawn": flags.overdrawn(org_ids),
        "expired_cert": flags.expired_certificates(org_ids, span.first, span.last),
        "complaint_late": flags.late_complaints(org_ids, now),
        "stale_books": flags.stale_books(org_ids),
        "mutual_approval": flags.mutual_approvals(org_ids, span.first, span.last),
    }


def sort_rows(rows: list[Row], key: str) -> list[Row]:
    """By a column, largest first (the community's name A→Z); empty figures last."""
    if key == "community":
        return sorted(rows, key=lambda r: r.values["community"])
    return sorted(rows, key=lambda r: (r.values.get(key) is None, -(r.values.get(key) or 0)))


def table(area: Area, month: date, rows: list[Row]) -> Table:
    return Table(
        title=f"{area.name} {month:%Y-%m}",
        columns=COLUMNS,
        rows=iter([r.values for r in rows]),
    )


def monthly_net(org: Organization, last: date, count: int = 12) -> list[tuple[date, int | None]]:
    """Net income of the `count` months up to `last` as booked by their closes (None: open)."""
    months = []
    m = last
    for _ in range(count):
        months.append(m)
        m = (m - timedelta(days=1)).replace(day=1)
    months.reverse()
    booked = dict(
        db.session.execute(
            select(MonthClose.month, MonthClose.net_income_fen).where(
                MonthClose.organization_id == org.id, MonthClose.month.between(months[0], last)
            )
        ).all()
    )
    return [(m, booked.get(m)) for m in months]
