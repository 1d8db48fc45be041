"""The monthly report over a year of trade (issue 9):
services.reports.summaries.monthly_summary timed against one hand-written SQL GROUP BY over the
same rows (target: at most 3 × as slow).

A scratch database (SQLite, or PostgreSQL next to TEST_DATABASE_URL) gets the demo and
`flask market year-data` (the same year as the ledger benchmark: 300 stalls, two sessions a
day, 80 % occupancy, about 175,000 check-ins). Then, in process: the hand-written query sums
the payments by method per business date, the least any report of the month must do; the
service also works out each charge's unpaid part, as session_takings does, and returns typed
rows. Both for the middle month of the year and for the whole year."""

import statistics
import tempfile
import time

from sqlalchemy import func, select, text

from bench.data.yeardata import demo_market
from market import create_app
from market.extensions import db
from market.models import MarketSession
from market.services.reports import summaries as reports

from .ledger import generate
from .server import scratch_database

REPEAT = 7

HAND_WRITTEN = text("""
SELECT s.business_date AS day,
       SUM(CASE WHEN p.status = 'confirmed' AND p.method = 'cash'
                THEN CASE WHEN p.reverses_id IS NULL THEN p.amount_fen ELSE -p.amount_fen END
                ELSE 0 END) AS cash,
       SUM(CASE WHEN p.status = 'confirmed' AND p.method = 'collection_code'
                THEN CASE WHEN p.reverses_id IS NULL THEN p.amount_fen ELSE -p.amount_fen END
                ELSE 0 END) AS code,
       SUM(CASE WHEN p.status = 'confirmed' AND p.method = 'waiver'
                THEN p.amount_fen ELSE 0 END) AS waived,
       SUM(CASE WHEN p.status = 'pending' THEN p.amount_fen ELSE 0 END) AS pending
FROM charges c
JOIN checkins ci ON ci.id = c.checkin_id
JOIN market_sessions s ON s.id = ci.session_id
LEFT JOIN payments p ON p.charge_id = c.id
WHERE ci.market_id = :market AND s.business_date BETWEEN :first AND :last
GROUP BY s.business_date
ORDER BY s.business_date
""")


def _timed(work) -> tuple[float, object]:
    db.session.rollback()  # each run reads afresh, nothing cached in the session
    started = time.perf_counter()
    result = work()
    return (time.perf_counter() - started) * 1000, result


def _hand_written(market, span: reports.DateRange) -> list:
    reports.index_costs()  # the same planner costs as the report's own statement
    return db.session.execute(
        HAND_WRITTEN, {"market": market.id, "first": span.first, "last": span.last}
    ).all()


def compare(market, span: reports.DateRange) -> tuple[float, float, int]:
    """Medians of REPEAT runs each, taken in turns so that both see the same machine load:
    (service ms, hand-written ms, check-ins in the span)."""
    service_times, sql_times = [], []
    for _ in range(REPEAT):
        ms, summary = _timed(lambda: reports.monthly_summary(market, span))
        service_times.append(ms)
        ms, rows = _timed(lambda: _hand_written(market, span))
        sql_times.append(ms)
    by_day = {str(r.day): (r.cash, r.code) for r in rows}
    for d in summary.days:  # the two must agree before their times mean anything
        assert by_day[str(d["date"])] == (d["cash"], d["code"]), d["date"]
    return statistics.median(service_times), statistics.median(sql_times), summary.totals["charges"]


def _compare(market, span: reports.DateRange, label: str) -> float:
    service_ms, sql_ms, charges = compare(market, span)
    ratio = service_ms / max(sql_ms, 0.001)
    print(
        f"{label}: service {service_ms:.1f} ms, hand-written GROUP BY {sql_ms:.1f} ms, "
        f"ratio {ratio:.2f}  (target <= 3), {charges} check-ins"
    )
    return ratio


def spans(market) -> tuple[reports.DateRange, reports.DateRange]:
    """The middle month of the generated year, and the whole year."""
    first, last = db.session.execute(
        select(func.min(MarketSession.business_date), func.max(MarketSession.business_date)).where(
            MarketSession.market_id == market.id
        )
    ).one()
    middle = first + (last - first) / 2
    month = reports.parse_month(middle.strftime("%Y-%m"), middle)
    return month, reports.DateRange(first, last)


def analyze() -> None:
    """Planner statistics, as a live database has them (autovacuum on PostgreSQL; PRAGMA
    optimize or ANALYZE on SQLite): without them SQLite scans every check-in."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def run(server_url: str | None, label: str) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="reports-") as instance,
        scratch_database(server_url) as url,
    ):
        generate_s = generate(url, instance)
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "SECRET_KEY": "bench"}
            | {"SCHEDULER": False}
        )
        with app.app_context():
            analyze()
            market = demo_market()
            month, year = spans(market)
            print(
                f"\n== monthly report on {label}: a year of trade ({generate_s:.0f} s to make) =="
            )
            _compare(market, month, f"month ({month.first:%Y-%m})")
            _compare(market, year, "whole year     ")
            db.session.rollback()
            db.engine.dispose()
