"""Reports for cadres: what they asked for (dates, months), and takings by session and by
day. Figures are summed in SQL (GROUP BY), never by looping over ORM objects, and each report
is a `Table` whose rows are a generator, so an export streams whatever the range. Occupancy
lives in reports.occupancy, a vendor's history and hand-overs in reports.histories.

The money rules are the ones of sessions.takings (a reversing payment counts negative, a
charge's unpaid part is never below zero); tests hold the two to the same figures.
"""

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select, text

from ...extensions import db
from ...models import (
    Charge,
    CheckIn,
    Market,
    MarketSession,
    Payment,
    PaymentMethod,
    PaymentStatus,
    SessionState,
    Stall,
)
from ..common.errors import InvalidInput
from ..common.tables import Column, Table
from ..sessions import takings
from ..sessions import tide as sessions

PAGE_MAX_DAYS = 366  # a page shows at most a year
EXPORT_MAX_DAYS = 3700  # a download may cover ten years: it streams
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
HELD = (SessionState.OPEN, SessionState.CLOSED)  # sessions that took place (or are under way)
STREAM_CHUNK = 500


# --- what the cadre asked for ----------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def parse_day(text: str | None, default: date, field: str = "date") -> date:
    if not text:
        return default
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day <= LATEST:
        raise InvalidInput(_l("Give the date as YYYY-MM-DD."), code="invalid_date", field=field)
    return day


def parse_range(
    first: str | None, last: str | None, today: date, *, default_days=30, max_days=PAGE_MAX_DAYS
) -> DateRange:
    """`from` and `to` as given in a query string; by default the `default_days` to today."""
    end = parse_day(last, today, "to")
    start = parse_day(first, end - timedelta(days=default_days - 1), "from")
    if end < start:
        raise InvalidInput(_l("“to” is before “from”."), code="invalid_range", field="to")
    if (end - start).days >= max_days:
        raise InvalidInput(
            _l("Ask for at most %(n)d days at a time.", n=max_days),
            code="invalid_range",
            field="to",
        )
    return DateRange(start, end)


def parse_month(text: str | None, today: date) -> DateRange:
    """YYYY-MM (this month when empty) as the range of its days."""
    if not text:
        year, month = today.year, today.month
    else:
        parts = text.strip().split("-")
        ok = len(parts) == 2 and all(p.isdigit() for p in parts) and len(parts[0]) == 4
        year, month = (int(parts[0]), int(parts[1])) if ok else (0, 0)
        if not (EARLIEST.year <= year <= LATEST.year and 1 <= month <= 12):
            raise InvalidInput(
                _l("Give the month as YYYY-MM."), code="invalid_month", field="month"
            )
    return DateRange(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def today_of(market: Market, now: datetime) -> date:
    return sessions.local_today(market, now)


# --- takings: per charge, then per session ---------------------------------------------------


def _signed():
    return case((Payment.reverses_id.is_(None), Payment.amount_fen), else_=-Payment.amount_fen)


def _sum_if(condition):
    return func.coalesce(func.sum(case((condition, _signed()), else_=0)), 0)


CONFIRMED = Payment.status == PaymentStatus.CONFIRMED


def per_charge(market_id: int, span: DateRange, *extra, with_stall: bool = False):
    """One row per charge of the market's sessions in the range, with what settled it."""
    stall = (Stall.code.label("stall"),) if with_stall else ()
    statement = (
        select(
            *stall,
            Charge.id.label("charge_id"),
            MarketSession.id.label("session_id"),
            MarketSession.business_date.label("business_date"),
            MarketSession.kind.label("kind"),
            MarketSession.starts_at.label("starts_at"),
            Charge.amount_fen.label("amount"),
            Charge.relief_fen.label("relief"),
            _sum_if(CONFIRMED & (Payment.method == PaymentMethod.CASH)).label("cash"),
            _sum_if(CONFIRMED & (Payment.method == PaymentMethod.COLLECTION_CODE)).label("code"),
            _sum_if(CONFIRMED & (Payment.method == PaymentMethod.WAIVER)).label("waived"),
            _sum_if(CONFIRMED).label("settled"),
            _sum_if(Payment.status == PaymentStatus.PENDING).label("pending"),
        )
        .select_from(Charge)
        .join(CheckIn, CheckIn.id == Charge.checkin_id)
        .join(MarketSession, MarketSession.id == CheckIn.session_id)
        .outerjoin(Payment, Payment.charge_id == Charge.id)
        .where(
            CheckIn.market_id == market_id,
            MarketSession.business_date.between(span.first, span.last),
            *extra,
        )
        # Primary keys only: the other columns depend on them (SQL:1999, PostgreSQL), and a
        # short sort key keeps the grouping cheap.
        .group_by(Charge.id, MarketSession.id, *(Stall.id,) * with_stall)
    )
    if with_stall:
        statement = statement.join(Stall, Stall.id == CheckIn.stall_id)
    return statement


def _money_columns(c):
    owed = c.amount - c.settled
    return (
        func.count(c.charge_id).label("charges"),
        func.sum(c.amount).label("expected"),
        func.sum(c.cash).label("cash"),
        func.sum(c.code).label("code"),
        func.sum(c.relief).label("relief"),
        func.sum(c.waived).label("waived"),
        func.sum(c.pending).label("pending"),
        func.sum(case((owed > 0, owed), else_=0)).label("unpaid"),
    )


MONEY_KEYS = ("charges", "expected", "cash", "code", "relief", "waived", "pending", "unpaid")


def session_totals_query(market_id: int, span: DateRange):
    """Per session: the figures of takings.session_takings, in one statement. Every session
    held or cancelled is a row (as on the daily page), with nothing in it if nobody came;
    sessions still to come are left out."""
    c = per_charge(market_id, span).subquery()
    s = MarketSession
    return (
        select(s.id.label("session_id"), s.business_date, s.kind, s.state, *_money_columns(c.c))
        .outerjoin(c, c.c.session_id == s.id)
        .where(
            s.market_id == market_id,
            s.business_date.between(span.first, span.last),
            or_(s.state != SessionState.SCHEDULED, c.c.charge_id.is_not(None)),
        )
        .group_by(s.id)
        .order_by(s.business_date, s.starts_at, s.id)
    )


def stream(statement) -> Iterator:
    """Rows fetched in chunks (a server-side cursor on PostgreSQL), never all at once."""
    # `with`: a reader that stops early (a closed download) still closes the cursor.
    with db.session.execute(statement.execution_options(yield_per=STREAM_CHUNK)) as result:
        yield from result


def _money(row) -> dict:
    values = {k: int(getattr(row, k) or 0) for k in MONEY_KEYS}
    return with_sums(values)


def with_sums(values: dict) -> dict:
    """Add what a report shows beside the sums of SQL: money collected, and the fee relief
    the ledger books (its 摊位费减免 account: relief by the fee rules plus cadres' waivers)."""
    values["collected"] = values["cash"] + values["code"]
    values["fee_relief"] = values["relief"] + values["waived"]
    return values


# One name per meaning, the same on the pages, in CSV and XLSX, and beside the ledger's
# "Fee relief" (摊位费减免), which is the two added up.
RELIEF_BY_RULES = _l("Relief by fee rules")
WAIVED_BY_CADRE = _l("Waived by a cadre")
FEE_RELIEF_TOTAL = _l("Fee relief in total")
DERIVED_KEYS = ("collected", "fee_relief")

MONEY_COLUMNS = [
    Column("charges", _l("Check-ins"), "int"),
    Column("expected", _l("Expected fees"), "fen"),
    Column("cash", _l("Cash"), "fen"),
    Column("code", _l("Collection code"), "fen"),
    Column("collected", _l("Collected"), "fen"),
    Column("relief", RELIEF_BY_RULES, "fen"),
    Column("waived", WAIVED_BY_CADRE, "fen"),
    Column("fee_relief", FEE_RELIEF_TOTAL, "fen"),
    Column("pending", _l("Reported, unconfirmed"), "fen"),
    Column("unpaid", _l("Unpaid"), "fen"),
]


def index_costs() -> None:
    """On PostgreSQL, for this transaction, price a read by index as on an SSD or a cached
    database (random_page_cost 1.1, the value PostgreSQL's manual suggests for SSDs) rather
    than the default 4 of a spinning disk. With 4 the planner finds a month's check-ins by a
    parallel scan of every year's, so a month's report grew with the years before it (45 →
    72 ms from 1 to 5 years; 38 → 41 ms with 1.1; the whole year's plan is the same)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL random_page_cost = 1.1"))


def session_rows(market: Market, span: DateRange) -> Iterator[dict]:
    # Not streamed: one row per session (two a day: 730 a year) is little to hold, and
    # PostgreSQL never runs a cursor's query in parallel, which made the year's report twice
    # as slow as the same statement read at once (3.7 x the hand-written GROUP BY, not 1.5).
    index_costs()
    for row in db.session.execute(session_totals_query(market.id, span)):
        yield {
            "date": row.business_date,
            "session_id": row.session_id,
            "kind": row.kind,
            "state": row.state,
            **_money(row),
        }


def sessions_table(market: Market, span: DateRange) -> Table:
    return Table(
        _l("Takings by session"),
        [
            Column("date", _l("Date"), "date"),
            Column("kind", _l("Session"), "kind"),
            Column("state", _l("State"), "state"),
        ]
        + MONEY_COLUMNS,
        session_rows(market, span),
    )


def day_rows(market: Market, span: DateRange) -> Iterator[dict]:
    """Per business date (sessions held that day added up), in date order, streamed."""
    held = (r for r in session_rows(market, span) if r["state"] != SessionState.CANCELLED)
    for day, group in groupby(held, key=lambda r: r["date"]):
        total = {"date": day, "sessions": 0}
        for row in group:
            total["sessions"] += 1
            for key in (*MONEY_KEYS, *DERIVED_KEYS):
                total[key] = total.get(key, 0) + row[key]
        yield total


def days_table(market: Market, span: DateRange) -> Table:
    return Table(
        _l("Takings by day"),
        [Column("date", _l("Date"), "date"), Column("sessions", _l("Sessions"), "int")]
        + MONEY_COLUMNS,
        day_rows(market, span),
    )


@dataclass(frozen=True)
class MonthlySummary:
    market: Market
    span: DateRange
    days: list[dict]
    totals: dict


def monthly_summary(market: Market, span: DateRange) -> MonthlySummary:
    """The month's days and its totals: one SQL statement, a month is at most ~62 rows."""
    days = list(day_rows(market, span))
    keys = (*MONEY_KEYS, *DERIVED_KEYS, "sessions")
    totals = {key: sum(d[key] for d in days) for key in keys}
    return MonthlySummary(market, span, days, totals)


@dataclass(frozen=True)
class SessionDay:
    session: MarketSession
    takings: takings.SessionTakings


def daily_takings(market: Market, day: date) -> list[SessionDay]:
    """Each session of the day with takings.session_takings: the figures the guide sees."""
    found = db.session.scalars(sessions.sessions_between(market, day, day)).all()
    return [SessionDay(s, takings.session_takings(s)) for s in found]


def totals_of(days: list[SessionDay]) -> dict:
    t = [d.takings for d in days]
    return {
        "charges": sum(x.charges for x in t),
        "expected": sum(x.expected_fen for x in t),
        "cash": sum(x.collected_fen.get(PaymentMethod.CASH, 0) for x in t),
        "code": sum(x.collected_fen.get(PaymentMethod.COLLECTION_CODE, 0) for x in t),
        "collected": sum(x.collected_total_fen for x in t),
        "relief": sum(x.relief_fen for x in t),
        "waived": sum(x.waived_fen for x in t),
        "fee_relief": sum(x.relief_fen + x.waived_fen for x in t),
        "pending": sum(x.pending_fen for x in t),
        "unpaid": sum(x.unpaid_fen for x in t),
    }
