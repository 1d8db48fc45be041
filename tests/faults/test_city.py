"""The city layout of deploy/ under faults (PostgreSQL): Debian's nginx with the repository's
site in front of two gunicorn instances, one scheduler process, Redis.

0. nginx serves the static files under their digest names from disk, kept a year, and passes
   the app's compressed pages through as they are.
1. During a rush of 60 vendors of two markets through nginx, kill -9 one instance (master and
   workers). nginx sends new requests to the other; the answers lost with the dead one (502,
   a dropped connection) are repeated by the clients with the same Idempotency-Key. Afterwards
   every vendor has exactly one check-in with one charge, the guide's cash one ledger entry
   each, and both `flask ledger verify` and `flask ledger verify --operations` pass.
2. A second scheduler stands by while the first acts; kill -9 the first: the second acts
   within two of its ticks (SCHEDULER_TICK_SECONDS=3 here; the advisory lock dies with the
   first one's connection).

Runs when nginx is installed and TEST_DATABASE_URL is set; CI sets REQUIRE_NGINX=1 (and
installs nginx), so that a missing nginx fails instead of skipping."""

import gzip
import http.client
import os
import re
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.layout import city_env, running_city, scheduler
from bench.nginx import NGINX
from bench.server import ROOT, scratch_database
from market.assets import DIGEST_NAME
from tests.conftest import FAST_HASH

from .procs import call, flask, wait_until

if not Path(NGINX).exists():
    if os.environ.get("REQUIRE_NGINX") == "1":
        raise pytest.UsageError(f"REQUIRE_NGINX=1 but {NGINX} is missing (apt-get install nginx)")
    pytest.skip(f"{NGINX} is not installed", allow_module_level=True)
PG = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not PG, reason="the city runs on PostgreSQL (TEST_DATABASE_URL)")

MARKETS, VENDORS = 2, 30  # 60 vendors in all
CONCURRENCY = 8
KILL_AFTER = 20  # check-ins confirmed before one instance dies
TICK = 3
RETRY = (502, 503, 504, "lost")


def _prepare(url: str, instance: str) -> list[int]:
    from flask_migrate import upgrade

    from bench.data import city
    from market import create_app
    from market.demo.load import load_demo
    from market.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "SCHEDULER": False,
         "SECRET_KEY": "city", "PASSWORD_HASH_METHOD": FAST_HASH}
    )  # fmt: skip
    with app.app_context():
        upgrade()
        load_demo(activity=True)  # evenings of trade: the ledger has entries to verify
        market_ids = city.prepare(MARKETS, VENDORS, VENDORS)
        db.session.commit()
        db.engine.dispose()
    return market_ids


def _jobs(url: str, market_ids: list[int]) -> list[tuple[str, int, int]]:
    """(vendor phone, stall id, market id): each market's rush vendors paired with its first
    stalls, as bench/data/city.rushers pairs them."""
    engine = create_engine(url)
    jobs = []
    with engine.connect() as conn:
        for m in market_ids:
            phones = conn.scalars(
                text(
                    "SELECT u.phone FROM users u JOIN vendors v ON v.user_id = u.id "
                    "WHERE v.market_id = :m AND (u.phone LIKE '137%' OR u.phone LIKE '130%') "
                    "ORDER BY u.phone LIMIT :n"
                ),
                {"m": m, "n": VENDORS},
            ).all()
            stalls = conn.scalars(
                text("SELECT id FROM stalls WHERE market_id = :m ORDER BY id LIMIT :n"),
                {"m": m, "n": VENDORS},
            ).all()
            jobs += [(p, s, m) for p, s in zip(phones, stalls, strict=True)]
    engine.dispose()
    return jobs


def _post(url: str, path: str, body: dict, headers: dict, key: str) -> tuple[dict, int]:
    """POST until answered, repeating with the same Idempotency-Key; (body, repeats)."""
    for attempt in range(40):
        try:
            status, answer = call(
                url + path, "POST", body, {**headers, "Idempotency-Key": key}, timeout=30
            )
        except (OSError, http.client.HTTPException):  # reset, or a reply cut off by the kill
            status, answer = "lost", None
        if status in (200, 201):
            return answer, attempt
        assert status in RETRY, (path, status, answer)
        time.sleep(0.25)
    raise AssertionError(f"{path} never answered")


def _rush(city, jobs, guide: dict, tokens: dict) -> Counter:
    """Every vendor checks in through nginx (the demo market's pay the guide cash at once);
    web1 is killed -9 once KILL_AFTER have been confirmed. Returns how often clients repeated."""
    queue, lock, done = list(jobs), threading.Lock(), Counter()
    killed = threading.Event()
    errors = []

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                phone, stall, market = queue.pop()
            try:
                body, repeats = _post(
                    city.url, "/api/v1/checkins", {"stall_id": stall}, tokens[phone],
                    f"city-{stall}",
                )  # fmt: skip
                assert body["stall_id"] == stall, body
                if market == 1:
                    amount = body["charge"]["unpaid_fen"]
                    _, more = _post(
                        city.url, f"/api/v1/checkins/{body['id']}/payments",
                        {"method": "cash", "amount_fen": amount}, guide, f"cash-{stall}",
                    )  # fmt: skip
                    repeats += more
            except Exception as e:  # noqa: BLE001  (reported after the threads are joined)
                errors.append(e)
                return
            with lock:
                done["confirmed"] += 1
                done["repeated"] += repeats
                if done["confirmed"] >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    city.webs[0].kill9()

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert killed.is_set(), "the rush ended before the kill"
    return done


RUSH_CASH = (
    "SELECT {} FROM payments p JOIN charges ch ON ch.id = p.charge_id JOIN checkins c ON "
    "c.id = ch.checkin_id JOIN vendors v ON v.id = c.vendor_id JOIN users u ON u.id = v.user_id "
    "WHERE p.method = 'cash' AND u.phone LIKE '137%'"
)


def _facts(url: str) -> dict:
    engine = create_engine(url)
    with engine.connect() as conn:

        def one(sql):
            return conn.execute(text(sql)).scalar()

        facts = {
            "checkins": one("SELECT count(*) FROM checkins c JOIN users u ON u.id = "
                            "(SELECT user_id FROM vendors WHERE id = c.vendor_id) "
                            "WHERE u.phone LIKE '137%' OR u.phone LIKE '130%'"),
            "per_vendor": one("SELECT max(n) FROM (SELECT count(*) AS n FROM checkins "
                              "GROUP BY vendor_id, session_id) x"),
            "orphans": one("SELECT count(*) FROM checkins WHERE NOT EXISTS "
                           "(SELECT 1 FROM charges WHERE charges.checkin_id = checkins.id)"),
            "charges_per_checkin": one("SELECT max(n) FROM (SELECT count(*) AS n FROM charges "
                                       "GROUP BY checkin_id) x"),
            "cash": one(RUSH_CASH.format("count(*)")),
            "cash_entries": one(RUSH_CASH.format("count(e.id)").replace(
                "WHERE", "LEFT JOIN ledger_entries e ON e.source_key = "
                "'payment:' || CAST(p.id AS VARCHAR(20)) WHERE")),
        }  # fmt: skip
    engine.dispose()
    return facts


def test_an_instance_killed_mid_rush_loses_nothing_and_doubles_nothing():
    with (
        tempfile.TemporaryDirectory(prefix="city-") as instance,
        scratch_database(PG, prefix="faults") as url,
    ):
        market_ids = _prepare(url, instance)
        jobs = _jobs(url, market_ids)
        assert len(jobs) == MARKETS * VENDORS
        env = city_env(url, instance, SCHEDULER_TICK_SECONDS=str(TICK))
        with running_city(env, workers=1) as city:
            _nginx_serves_static_and_passes_compressed_pages(city)
            tokens = {}
            for phone, _, _ in jobs:
                status, body = call(f"{city.url}/api/v1/auth/token", "POST",
                                    {"phone": phone, "password": "demo1234"})  # fmt: skip
                assert status == 200, body
                tokens[phone] = {"Authorization": f"Bearer {body['access_token']}"}
            status, body = call(f"{city.url}/api/v1/auth/token", "POST",
                                {"phone": "13800000002", "password": "demo1234"})  # fmt: skip
            guide = {"Authorization": f"Bearer {body['access_token']}"}
            done = _rush(city, jobs, guide, tokens)
            print("rush through nginx:", dict(done))
            assert done["confirmed"] == len(jobs)
            assert not city.webs[0].alive and city.webs[1].alive
            assert re.search(r"refused|prematurely closed|reset by peer", city.nginx.error_log())

            facts = _facts(url)
            assert facts == {"checkins": len(jobs), "per_vendor": 1, "orphans": 0,
                             "charges_per_checkin": 1, "cash": VENDORS,
                             "cash_entries": VENDORS}, facts  # fmt: skip
            _scheduler_takes_over(city, url, market_ids[-1])
        for args in (["ledger", "verify"], ["ledger", "verify", "--operations"]):
            done = flask(env, *args, check=False)
            assert done.returncode == 0, done.stdout + done.stderr


def _get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310  (urllib never decodes)
        return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()


def _nginx_serves_static_and_passes_compressed_pages(city) -> None:
    status, headers, page = _get(f"{city.url}/login", **{"Accept-Encoding": "br"})
    assert status == 200 and headers["content-encoding"] == "br"  # the app's, passed through
    assert "x-request-id" in headers  # an answer of the app
    html = _get(f"{city.url}/login")[2].decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert assets and all(DIGEST_NAME.match(a.removeprefix("/static/")) for a in assets)
    for path in assets:
        status, headers, body = _get(city.url + path, **{"Accept-Encoding": "gzip"})
        assert status == 200 and "x-request-id" not in headers  # from disk, not the app
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        match = DIGEST_NAME.match(path.removeprefix("/static/"))
        plain = ROOT / "static" / (match["stem"] + match["ext"])
        raw = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
        assert raw == plain.read_bytes()


def _scheduled(url: str, market_id: int) -> int:
    """A special session that began a minute ago, still scheduled: the acting scheduler's
    next tick opens it."""
    now = datetime.now(UTC)
    engine = create_engine(url)
    with engine.begin() as conn:
        session_id = conn.scalar(
            text(
                "INSERT INTO market_sessions (market_id, kind, business_date, starts_at, "
                "ends_at, state, is_manual, created_at) VALUES (:m, 'special', :d, :s, :e, "
                "'scheduled', true, :s) RETURNING id"
            ),
            {"m": market_id, "d": now.date(), "s": now - timedelta(minutes=1),
             "e": now + timedelta(hours=1)},
        )  # fmt: skip
    engine.dispose()
    return session_id


def _opened_at_tick(process, session_id: int) -> datetime | None:
    """The instant of the tick (from its report line) in which `process` opened the session."""
    found = re.search(rf"tick at (\S+); [^\n]*opened #{session_id} ", process.output())
    return datetime.fromisoformat(found.group(1)) if found else None


def _scheduler_takes_over(city, url: str, market_id: int) -> None:
    first = city.scheduler
    second = scheduler(city.env, "scheduler-2")
    second.start()
    try:
        wait_until(lambda: "stands by" in second.output(), 60, "the second scheduler standing by")
        assert "holds the scheduler lock" in first.output()
        before = _scheduled(url, market_id)
        wait_until(lambda: _opened_at_tick(first, before), 30, "the first one acting")
        assert _opened_at_tick(second, before) is None  # one acts at a time

        first.kill9()  # no shutdown hook: its advisory lock goes with its connection
        killed = time.time()
        after = _scheduled(url, market_id)
        tick = wait_until(lambda: _opened_at_tick(second, after), 60, "the second one acting")
        assert "holds the scheduler lock" in second.output()
        # Ticks fall on multiples of TICK seconds: count those from the kill to the tick that
        # acted (0 when that tick was already under way as the first one died).
        ticks = int(tick.timestamp() // TICK) - int(killed // TICK)
        assert ticks <= 2, (ticks, killed, tick)
    finally:
        second.stop()
