"""The street office's dashboard over 12 communities, each with a year of trade (issue 21):
services.areas.dashboard.rows_for timed against one hand-written SQL GROUP BY over the same
rows (target: at most 3 × as slow), and the first load of the page on the wire (≤ 100 KB).

A scratch database (SQLite, or PostgreSQL next to TEST_DATABASE_URL) gets the demo, an area
东胜区 supervised by the demo's supervisor (13800000007), and 12 communities of their own
(organization, chart of accounts, market, zone, cadre, guide), each with a year of trade from
the year-data generator (bench/data/yeardata.py): STALLS stalls, two sessions a day, 80 %
taken. The year but its last day is written, then the full checks run as the nightly
`flask ledger verify --operations` does (each organization's chain checkpoint and its books
against the operations), then the last day: the dashboard re-hashes that day's entries, as it
would the morning after.

Then, in process, medians of REPEAT runs taken in turns: the dashboard's rows for the middle
month of the year, against one statement that sums fee income, relief and expenses per
community (that month and this month so far) from the ledger lines, counts sessions held and
cancelled, the stalls taken and the complaints. Last, the page through gunicorn as the
supervisor, asking for gzip and br: bytes on the wire."""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from http.cookiejar import CookieJar
from urllib.parse import urlencode

from sqlalchemy import select, text

from .reports import analyze
from .server import ROOT, running_server, scratch_database

COMMUNITIES = 12
STALLS = int(os.environ.get("BENCH_AREA_STALLS", "20"))
OCCUPANCY = 0.8
DAYS = 365
REPEAT = 5
AREA = "东胜区"
SUPERVISOR = "13800000007"
PAGE_LIMIT = 100 * 1024
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

HAND_WRITTEN = text("""
SELECT o.id AS org, 'money' AS what,
       SUM(CASE WHEN a.kind = 'income' AND e.entry_date <= :last
                THEN l.credit_fen - l.debit_fen ELSE 0 END) AS a,
       SUM(CASE WHEN a.kind = 'contra_income' AND e.entry_date <= :last
                THEN l.debit_fen - l.credit_fen ELSE 0 END) AS b,
       SUM(CASE WHEN a.kind = 'expense' AND e.entry_date <= :last
                THEN l.debit_fen - l.credit_fen ELSE 0 END) AS c,
       SUM(CASE WHEN a.kind = 'income' AND e.entry_date >= :now_first
                THEN l.credit_fen - l.debit_fen ELSE 0 END) AS d
FROM organizations o
JOIN ledger_entries e ON e.organization_id = o.id
JOIN ledger_lines l ON l.entry_id = e.id
JOIN ledger_accounts a ON a.id = l.account_id
WHERE o.area_id = :area
  AND ((e.entry_date BETWEEN :first AND :last) OR e.entry_date >= :now_first)
  AND e.source_key NOT LIKE 'month-close:%'
  AND a.kind IN ('income', 'contra_income', 'expense')
GROUP BY o.id
UNION ALL
SELECT o.id, 'sessions',
       SUM(CASE WHEN s.state IN ('open', 'closed') THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.state = 'cancelled' THEN 1 ELSE 0 END),
       (SELECT count(*) FROM checkins ci JOIN market_sessions cs ON cs.id = ci.session_id
        WHERE ci.market_id IN (SELECT id FROM markets WHERE organization_id = o.id)
          AND cs.business_date BETWEEN :first AND :last),
       (SELECT count(*) FROM complaints c
        WHERE c.market_id IN (SELECT id FROM markets WHERE organization_id = o.id)
          AND c.created_at >= :first AND c.created_at <= :last)
FROM organizations o
JOIN markets m ON m.organization_id = o.id
JOIN market_sessions s ON s.market_id = m.id
WHERE o.area_id = :area AND s.business_date BETWEEN :first AND :last
GROUP BY o.id
""")


def _flask_env(url: str, instance: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "MARKET_INSTANCE_PATH": instance,
        "SECRET_KEY": "bench",
        "SCHEDULER": "off",
        "LOG_JSON": "0",
    }


def _app(url: str, instance: str):
    from market import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "SECRET_KEY": "bench"}
        | {"SCHEDULER": False}
    )


def generate(url: str, instance: str) -> dict:
    """The demo, the area and its communities' years; the seconds each step took."""
    from bench.data import yeardata
    from market.extensions import db
    from market.services.areas import membership
    from market.services.auth import accounts
    from market.services.ledger import checkpoints, operations

    flask = [sys.executable, "-m", "flask", "--app", "app"]
    env = _flask_env(url, instance)
    for args in (["db", "upgrade"], ["market", "demo"]):
        subprocess.run([*flask, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    started = time.perf_counter()
    app = _app(url, instance)
    with app.app_context():
        area = membership.create_area(AREA)
        membership.grant_supervisor(accounts.user_by_phone(SUPERVISOR), area)
        years, days = [], None
        for n in range(COMMUNITIES):
            c = yeardata.new_community(n, f"{AREA}第{n + 1:02d}社区股份经济合作社")
            membership.attach(area, c.market.organization)
            stalls, vendors = yeardata.prepare(c.market, STALLS, STALLS, c.vendor_prefix)
            db.session.commit()
            year = yeardata.Year(
                c.market, stalls, vendors, OCCUPANCY, seed=n, guide=c.guide, cadre=c.cadre
            )
            days = days or yeardata.year_days(c.market, DAYS)
            for day in days[:-1]:
                for session in yeardata.SESSIONS:
                    year.session(day, *session)
                year.flush()
            years.append(year)
            print(f"  community {n + 1}/{COMMUNITIES}: {year.counts}", flush=True)
        made = time.perf_counter()
        # The nightly `flask ledger verify --operations`: both checks leave their checkpoints.
        checkpoints.verify_and_record()
        checkpoints.record_operations(operations.verify_operations())
        db.session.commit()
        verified = time.perf_counter()
        for year in years:  # the day after the check
            year.resume()
            for session in yeardata.SESSIONS:
                year.session(days[-1], *session)
            year.flush()
        years[-1].finish()
        db.engine.dispose()
    return {"year": made - started, "verify": verified - made, "area_name": AREA}


def _timed(work) -> tuple[float, object]:
    from market.extensions import db

    db.session.rollback()  # each run reads afresh, nothing cached in the session
    db.session.expire_all()
    started = time.perf_counter()
    result = work()
    return (time.perf_counter() - started) * 1000, result


def compare(area, month: date, now, today: date) -> tuple[float, float, list]:
    from market.extensions import db
    from market.models import Area
    from market.services.areas import dashboard

    span = dashboard.month_span(month)
    params = {
        "area": area.id,
        "first": span.first,
        "last": span.last,
        "now_first": today.replace(day=1),
    }
    service_times, sql_times = [], []
    for _ in range(REPEAT):
        ms, rows = _timed(
            lambda: dashboard.rows_for(db.session.get(Area, area.id), month, now, today)
        )
        service_times.append(ms)
        ms, sums = _timed(lambda: db.session.execute(HAND_WRITTEN, params).all())
        sql_times.append(ms)
    by_org = {(r.org, r.what): r for r in sums}
    for row in rows:  # the two must agree before their times mean anything
        money, sessions = by_org[(row.org.id, "money")], by_org[(row.org.id, "sessions")]
        assert row.values["fee_income_fen"] == money.a, row.org.name
        assert row.values["relief_fen"] == money.b, row.org.name
        assert row.values["mtd_income_fen"] == money.d, row.org.name
        assert (row.values["held"], row.values["cancelled"]) == (sessions.a, sessions.b)
    return statistics.median(service_times), statistics.median(sql_times), rows


def page_bytes(url: str, instance: str, area_id: int) -> tuple[int, int, str]:
    """(bytes on the wire, bytes decoded, encoding) of GET /areas/<id>/ as the supervisor."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{url}/login", timeout=30) as r:
        token = CSRF_RE.search(r.read().decode()).group(1)
    form = urlencode({"phone": SUPERVISOR, "password": "demo1234", "csrf_token": token})
    with opener.open(f"{url}/login", form.encode(), timeout=30) as r:
        r.read()
    request = urllib.request.Request(  # noqa: S310  (our own server)
        f"{url}/areas/{area_id}/", headers={"Accept-Encoding": "gzip, br"}
    )
    with opener.open(request, timeout=120) as r:
        assert r.status == 200, r.status
        body = r.read()
        encoding = r.headers.get("Content-Encoding") or "identity"
    if encoding == "gzip":
        import gzip

        plain = gzip.decompress(body)
    elif encoding == "br":
        import brotli

        plain = brotli.decompress(body)
    else:
        plain = body
    assert "东胜区" in plain.decode(), "not the area's page"
    return len(body), len(plain), encoding


def run(server_url: str | None, label: str) -> None:
    from market.extensions import db
    from market.models import Area
    from market.services.areas import dashboard
    from market.services.common import clock

    with (
        tempfile.TemporaryDirectory(prefix="areas-") as instance,
        scratch_database(server_url) as url,
    ):
        print(f"\n== street office dashboard on {label}: making {COMMUNITIES} communities ==")
        made = generate(url, instance)
        app = _app(url, instance)
        with app.app_context():
            analyze()
            area = db.session.scalar(select(Area).where(Area.name == AREA))
            counts = {
                t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar()  # noqa: S608
                for t in ("checkins", "ledger_entries", "ledger_lines")
            }
            now = clock.now()
            today = dashboard.local_today(area, now, "Asia/Shanghai")
            first = today - timedelta(days=DAYS)
            middle = first + timedelta(days=DAYS // 2)
            month = middle.replace(day=1)
            service_ms, sql_ms, rows = compare(area, month, now, today)
            area_id = area.id
            flags = sorted({k for r in rows for k in r.flags})
            db.session.rollback()
            db.engine.dispose()
        with running_server(url, workers=2) as base:
            wire, plain, encoding = page_bytes(base, instance, area_id)
    print(
        f"{COMMUNITIES} communities x {STALLS} stalls, 2 sessions a day, {OCCUPANCY:.0%} taken: "
        f"{counts['checkins']} check-ins, {counts['ledger_entries']} entries, "
        f"{counts['ledger_lines']} lines; made in {made['year']:.0f} s, "
        f"full chain check {made['verify']:.1f} s"
    )
    print(f"flags raised in {month:%Y-%m}: {', '.join(flags) or 'none'}")
    print(
        f"dashboard ({month:%Y-%m}): service {service_ms:.1f} ms, hand-written GROUP BY "
        f"{sql_ms:.1f} ms, ratio {service_ms / max(sql_ms, 0.001):.2f}  (target <= 3)"
    )
    print(
        f"first load GET /areas/{area_id}/: {wire} bytes on the wire ({encoding}; {plain} "
        f"decoded), target <= {PAGE_LIMIT}"
    )
