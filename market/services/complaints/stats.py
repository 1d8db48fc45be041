"""Complaint figures for cadres (per month, zone, kind and vendor) and the public page (how
many came in and how many were handled within 24 hours: numbers only)."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from ...extensions import db
from ...models import Complaint, Incident, IncidentState, Market, Stall, Vendor, Zone
from ..sessions.plan import local_to_utc, zone_of

HANDLED_WITHIN = timedelta(hours=24)


FIRST_YEAR, LAST_YEAR = 2000, 2100  # as the reports' months: the UTC bounds stay in range


def month_start(month) -> date:
    """The first day of a month given as a date (any day of it) or as 'YYYY-MM' (ValueError
    when it is not one, or is before FIRST_YEAR or after LAST_YEAR)."""
    if isinstance(month, str):
        year, _, number = month.strip().partition("-")
        if not (len(year) == 4 and year.isdigit() and number.isdigit() and len(number) <= 2):
            raise ValueError(f"not a month: {month!r}")
        if not FIRST_YEAR <= int(year) <= LAST_YEAR:
            raise ValueError(f"month out of range: {month!r}")
        return date(int(year), int(number), 1)
    return month.replace(day=1)


def next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def month_bounds(market: Market, month) -> tuple[datetime, datetime]:
    """The month in the market's own time, as UTC instants [start, end)."""
    first = month_start(month)
    tz = zone_of(market)
    return local_to_utc(first, time(0), tz), local_to_utc(next_month(first), time(0), tz)


def _rows(market: Market, month):
    start, end = month_bounds(market, month)
    return db.session.execute(
        select(
            Complaint.kind,
            Complaint.created_at,
            Complaint.vendor_id,
            Zone.name,
            Incident.state,
            Incident.resolved_at,
        )
        .join(Incident, Complaint.incident_id == Incident.id)
        .outerjoin(Stall, Complaint.stall_id == Stall.id)
        .outerjoin(Zone, Stall.zone_id == Zone.id)
        .where(
            Complaint.market_id == market.id,
            Complaint.created_at >= start,
            Complaint.created_at < end,
        )
    ).all()


def _in_time(row) -> bool:
    return (
        row.state == IncidentState.RESOLVED and row.resolved_at - row.created_at <= HANDLED_WITHIN
    )


def counts_for_month(markets: list[Market], month) -> dict[int, tuple[int, int]]:
    """complaint_counts_for_month of several markets: one statement per time zone among them."""
    out = {m.id: (0, 0) for m in markets}
    by_zone: dict[str, list[Market]] = {}
    for m in markets:
        by_zone.setdefault(m.timezone, []).append(m)
    for group in by_zone.values():
        start, end = month_bounds(group[0], month)
        rows = db.session.execute(
            select(Complaint.market_id, Complaint.created_at, Incident.state, Incident.resolved_at)
            .join(Incident, Complaint.incident_id == Incident.id)
            .where(
                Complaint.market_id.in_([m.id for m in group]),
                Complaint.created_at >= start,
                Complaint.created_at < end,
            )
        ).all()
        for row in rows:
            got, fast = out[row.market_id]
            out[row.market_id] = (got + 1, fast + int(_in_time(row)))
    return out


def complaint_counts_for_month(market_id: int, month) -> tuple[int, int]:
    """(received, handled within 24 hours) in a month of the market's own calendar."""
    market = db.session.get(Market, market_id)
    rows = _rows(market, month)
    return len(rows), sum(1 for r in rows if _in_time(r))


@dataclass
class MonthStats:
    month: date
    received: int = 0
    handled: int = 0
    handled_in_time: int = 0
    by_kind: Counter = field(default_factory=Counter)
    by_zone: Counter = field(default_factory=Counter)  # None: about the market as a whole
    by_vendor: list[tuple[Vendor, int]] = field(default_factory=list)


def month_stats(market: Market, month) -> MonthStats:
    rows = _rows(market, month)
    stats = MonthStats(month=month_start(month), received=len(rows))
    stats.handled = sum(1 for r in rows if r.state == IncidentState.RESOLVED)
    stats.handled_in_time = sum(1 for r in rows if _in_time(r))
    stats.by_kind = Counter(r.kind for r in rows)
    stats.by_zone = Counter(r.name for r in rows)
    per_vendor = Counter(r.vendor_id for r in rows if r.vendor_id is not None)
    if per_vendor:
        found = {
            v.id: v
            for v in db.session.scalars(select(Vendor).where(Vendor.id.in_(per_vendor.keys())))
        }
        stats.by_vendor = [(found[i], n) for i, n in per_vendor.most_common()]
    return stats


def recent_months(market: Market, now: datetime, count: int = 6) -> list[date]:
    first = now.astimezone(zone_of(market)).date().replace(day=1)
    months = [first]
    for _ in range(count - 1):
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return months


def vendor_complaint_count(vendor_id: int, since: datetime | None = None) -> int:
    query = select(func.count()).select_from(Complaint).where(Complaint.vendor_id == vendor_id)
    if since is not None:
        query = query.where(Complaint.created_at >= since)
    return db.session.scalar(query)
