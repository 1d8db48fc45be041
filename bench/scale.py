"""The app as markets grow (issue 20): nothing may cost more than the work it does.

Pages, in process (the Flask test client: the app's own cost, no network), on a busy evening
of the demo market grown to 40, 300 and 3,000 stalls (80 % taken, bench/data/scale.py), the
worker warmed up and its objects frozen as gunicorn's are:
- scan + confirm: a logged-in vendor's scan page of a free stall and the confirm POST;
- move page: the scan page of another free stall for a vendor already checked in;
- board page: the guide's whole board (map view);
- occupancy API: GET /api/v1/markets/{id}/occupancy, every stall as JSON;
- unchanged poll: the board's poll with its current version (204).
Medians in ms. Scan, confirm, move and the poll should not grow with the market; the board
and the API grow with the stalls they show, no faster.

History: the monthly report (services.reports.summaries against the hand-written GROUP BY,
bench/reports.py) and `ledger verify` (services.ledger.entries.verify) over 1 and 5 years of
trade (`flask market year-data`: 300 stalls, two sessions a day). A month's report should not
grow with the years before it; verify reads every entry, so it grows with them, no faster.

`python -m bench scale` runs both; BENCH_SCALE_YEARS=1 leaves out the 5 years (their data take
a few minutes to make)."""

import gc
import logging
import os
import re
import statistics
import tempfile
import time
from html import unescape

from flask_migrate import upgrade
from sqlalchemy import select, update

from bench.data import rush, scale
from market import create_app
from market.demo.load import DEMO_PASSWORD, load_demo
from market.extensions import db
from market.models import CheckIn, CheckInState, Market
from market.warmup import freeze, warm

from . import ledger, reports
from .server import scratch_database

SIZES = (40, 300, 3000)
SCANS = 12  # vendors who scan and confirm, then open a move page, at each size
REPEAT = 9
GUIDE = "13800000002"
FORM_RE = re.compile(r'<form method="post" action="([^"]*/checkin)"[^>]*>(.*?)</form>', re.S)
INPUT_RE = re.compile(r'<input[^>]*type="hidden"[^>]*>')
ATTR_RE = re.compile(r'(name|value)="([^"]*)"')
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _app(url: str, instance: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "bench",
            "SCHEDULER": False,
            "RATELIMIT_ENABLED": False,  # a dozen logins from one address in a second
            "REDIS_URL": None,
        }
    )


def _ms(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return (time.perf_counter() - started) * 1000, result


def _login(client, phone: str) -> None:
    page = client.get("/login")
    token = CSRF_RE.search(page.text).group(1)
    r = client.post("/login", data={"phone": phone, "password": DEMO_PASSWORD, "csrf_token": token})
    assert r.status_code in (302, 303), r.status_code
    home = client.get(r.headers["Location"], follow_redirects=True)  # as a browser does
    assert home.status_code == 200, home.status_code


def _token(client, phone: str) -> str:
    """An API bearer token for the phone, as the app gives one."""
    answer = client.post("/api/v1/auth/token", json={"phone": phone, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.status_code
    return answer.json["access_token"]


def _confirm_form(html: str) -> tuple[str, dict]:
    action, body = FORM_RE.search(html).groups()
    fields = {}
    for tag in INPUT_RE.findall(body):
        attrs = dict(ATTR_RE.findall(tag))
        fields[attrs.get("name")] = unescape(attrs.get("value", ""))
    return unescape(action), fields


def _leave(app, location: str) -> None:
    """The vendor leaves again (not timed), so that the next one finds the same stall free
    and the evening stays as full as it was."""
    checkin_id = int(location.rstrip("/").rsplit("/", 1)[-1])
    with app.app_context():
        db.session.execute(
            update(CheckIn)
            .where(CheckIn.id == checkin_id)
            .values(state=CheckInState.CHECKED_OUT, left_at=CheckIn.arrived_at)
        )
        db.session.commit()


def _scan_confirm_move(app, here: str, there: str) -> dict[str, float]:
    """Vendor after vendor scans the free stall `here` and confirms, then scans `there`: the
    page that offers to move."""
    scans, moves = [], []
    for n in range(1, SCANS + 1):
        client = app.test_client()
        _login(client, rush.rush_phone(n))
        ms_scan, page = _ms(lambda c=client: c.get(f"/s/{here}"))
        action, fields = _confirm_form(page.text)
        ms_post, done = _ms(lambda c=client, a=action, f=fields: c.post(a, data=f))
        assert done.status_code == 303, done.status_code
        scans.append(ms_scan + ms_post)
        ms_move, page = _ms(lambda c=client: c.get(f"/s/{there}"))
        assert page.status_code == 200 and "/move" in page.text, page.status_code
        moves.append(ms_move)
        _leave(app, done.headers["Location"])
    return {"scan + confirm": statistics.median(scans), "move page": statistics.median(moves)}


def _board(app, market_id: int) -> dict[str, float]:
    client = app.test_client()
    _login(client, GUIDE)
    api = {"Authorization": f"Bearer {_token(client, GUIDE)}"}
    board = f"/guide/markets/{market_id}/board"
    figures = {}
    for name, ask, status in (
        ("board page", lambda: client.get(board), 200),
        (
            "occupancy API",
            lambda: client.get(f"/api/v1/markets/{market_id}/occupancy", headers=api),
            200,
        ),  # noqa: E501
    ):
        times = []
        for _ in range(REPEAT):
            ms, r = _ms(ask)
            assert r.status_code == status, (name, r.status_code)
            times.append(ms)
        figures[name] = statistics.median(times)
    version = client.get(f"/api/v1/markets/{market_id}/occupancy", headers=api).json["version"]
    times = []
    for _ in range(REPEAT * 3):
        ms, r = _ms(lambda: client.get(f"{board}/live", query_string={"v": version}))
        assert r.status_code == 204, r.status_code
        times.append(ms)
    figures["unchanged poll"] = statistics.median(times)
    return figures


def measure_pages(server_url: str | None, stalls: int) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory(prefix="scale-") as instance,
        scratch_database(server_url, prefix="scale") as url,
    ):
        app = _app(url, instance)
        with app.app_context():
            upgrade()
            load_demo()
            made = scale.evening(stalls, login_vendors=SCANS)
            db.session.commit()
            market_id = made["market_id"]
            tokens = made["free_tokens"]
            db.session.remove()
        warm(app)
        # The access log line per request is the app's, but printed here it would bury the
        # table; what it costs is a few microseconds.
        logging.getLogger("market.access").setLevel(logging.WARNING)
        freeze()  # as a gunicorn worker does after warming up
        try:
            figures = _scan_confirm_move(app, *tokens[:2]) | _board(app, market_id)
        finally:
            gc.unfreeze()
            with app.app_context():
                db.engine.dispose()
    return figures


PAGES = ("scan + confirm", "move page", "board page", "occupancy API", "unchanged poll")


def pages(server_url: str | None, label: str) -> None:
    print(f"\n== scale on {label}: a busy evening at {', '.join(map(str, SIZES))} stalls ==")
    table = {n: measure_pages(server_url, n) for n in SIZES}
    first, last = SIZES[0], SIZES[-1]
    print(f"{'ms (median)':<16}" + "".join(f"{n:>9}" for n in SIZES) + f"{'x':>8}")
    for name in PAGES:
        row = [table[n][name] for n in SIZES]
        growth = row[-1] / max(row[0], 0.001)
        print(f"{name:<16}" + "".join(f"{v:>9.1f}" for v in row) + f"{growth:>8.1f}")
    print(f"(x: {last} stalls against {first}; the stalls grew {last / first:.0f} x)")


def _history(server_url: str | None, days: int) -> dict:
    with (
        tempfile.TemporaryDirectory(prefix="years-") as instance,
        scratch_database(server_url, prefix="years") as url,
    ):
        generate_s = ledger.generate(url, instance, days)
        app = _app(url, instance)
        with app.app_context():
            reports.analyze()
            market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
            month, _year = reports.spans(market)
            service_ms, sql_ms, charges = reports.compare(market, month)
            db.session.rollback()
            db.engine.dispose()
        verified = ledger.measure(url, instance)
    return {
        "generate_s": generate_s,
        "report_ms": service_ms,
        "sql_ms": sql_ms,
        "month_checkins": charges,
        "verify_s": verified["verify"],
        "entries": verified["ledger_entries"],
        "ok": verified["ok"],
    }


def history(server_url: str | None, label: str) -> None:
    years = [1] if os.environ.get("BENCH_SCALE_YEARS") == "1" else [1, 5]
    print(f"\n== scale on {label}: the monthly report and ledger verify over years of trade ==")
    rows = {y: _history(server_url, 365 * y) for y in years}
    print(f"{'':<28}" + "".join(f"{y:>4} year{'s' if y > 1 else ' '}" for y in years))
    lines = (
        ("monthly report (ms)", "report_ms", "{:>10.1f}"),
        ("hand-written GROUP BY (ms)", "sql_ms", "{:>10.1f}"),
        ("ledger entries", "entries", "{:>10d}"),
        ("ledger verify (s)", "verify_s", "{:>10.2f}"),
    )
    for name, key, fmt in lines:
        print(f"{name:<28}" + "".join(fmt.format(rows[y][key]) for y in years))
    if len(years) > 1:
        a, b = rows[years[0]], rows[years[-1]]
        print(
            f"5 years against 1: report {b['report_ms'] / a['report_ms']:.2f} x (a month is a "
            f"month), verify {b['verify_s'] / a['verify_s']:.2f} x for "
            f"{b['entries'] / a['entries']:.2f} x the entries; intact={a['ok'] and b['ok']}"
        )


def run(server_url: str | None, label: str) -> None:
    pages(server_url, label)
    history(server_url, label)
