"""The opening rush (issue 7): 300 vendors scan their stall's poster and confirm at once.

Each vendor GETs the scan page of its own stall, then POSTs the check-in to the API with an
Idempotency-Key. Printed: check-ins per second, p50 / p99 of the confirm, the /healthz rate
and p99 under the same concurrency in the same run, their ratios, and the final counts."""

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text

from .load import Result, hammer
from .server import running_server, scratch_database

STALLS = VENDORS = 300
CONCURRENCY = 16


class Client:
    def __init__(self, base: str):
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def call(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(
            method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw and raw[:1] in b"{[" else raw)


def _logins(base: str) -> tuple[str, list[str], list[dict]]:
    client = Client(base)
    _, cadre = client.call(
        "POST", "/api/v1/auth/token", {"phone": "13800000001", "password": "demo1234"}
    )
    auth = {"Authorization": f"Bearer {cadre['access_token']}"}
    stalls, page = [], 1
    while True:
        _, body = client.call(
            "GET", f"/api/v1/markets/1/stalls?per_page=100&page={page}", headers=auth
        )
        stalls += body["items"]
        if len(stalls) >= body["total"]:
            break
        page += 1
    tokens = []
    for n in range(1, VENDORS + 1):
        status, body = client.call(
            "POST", "/api/v1/auth/token", {"phone": f"137{n:08d}", "password": "demo1234"}
        )
        assert status == 200, body
        tokens.append(body["access_token"])
    return cadre["access_token"], tokens, stalls[:VENDORS]


def rush(base: str, tokens: list[str], stalls: list[dict]) -> tuple[Result, set[int]]:
    jobs = list(zip(tokens, stalls, strict=True))
    lock = threading.Lock()
    latencies, statuses, sessions = [], [], set()

    def worker():
        client = Client(base)
        while True:
            with lock:
                if not jobs:
                    return
                token, stall = jobs.pop()
            started = time.perf_counter()
            client.call("GET", urlsplit(stall["qr_url"]).path)  # the scan page
            status, body = client.call(
                "POST",
                "/api/v1/checkins",
                {"stall_id": stall["id"]},
                {"Authorization": f"Bearer {token}", "Idempotency-Key": f"rush-{stall['id']}"},
            )
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                statuses.append(status)
                if status == 201:
                    sessions.add(body["session_id"])

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    errors = sum(1 for s in statuses if s != 201)
    return Result("scan + confirm check-in", len(statuses), errors, elapsed, latencies), sessions


def counted(database_url: str, session_id: int) -> tuple[int, int]:
    """Check-ins and charges of the session, read from the database itself."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        checkins = conn.execute(
            text("SELECT count(*) FROM checkins WHERE session_id = :s"), {"s": session_id}
        ).scalar()
        charges = conn.execute(
            text(
                "SELECT count(*) FROM charges JOIN checkins ON checkins.id = charges.checkin_id "
                "WHERE checkins.session_id = :s"
            ),
            {"s": session_id},
        ).scalar()
    engine.dispose()
    return checkins, charges


def run(server_url: str | None, label: str) -> None:
    with scratch_database(server_url) as database_url:
        _run(database_url, label)


def _run(database_url: str, label: str) -> None:
    setup = [["market", "rush", "--stalls", str(STALLS), "--vendors", str(VENDORS)]]
    with running_server(database_url, workers=4, setup=setup) as base:
        cadre, tokens, stalls = _logins(base)
        hammer(base, "/healthz", 200, 4)  # warm every worker
        checkins, sessions = rush(base, tokens, stalls)
        health = hammer(base, "/healthz", 2000, CONCURRENCY, "GET /healthz")
        made = counted(database_url, next(iter(sessions))) if sessions else (0, 0)
    print(
        f"\n== opening rush on {label}: {VENDORS} vendors, {STALLS} stalls, "
        f"{CONCURRENCY} connections, gunicorn 4 workers =="
    )
    print(checkins.line())
    print(health.line())
    print(f"ratio check-ins/healthz throughput: {checkins.rps / health.rps:.2f}  (target >= 0.30)")
    p99 = checkins.pct(0.99) / max(health.pct(0.99), 0.01)
    print(f"ratio check-in/healthz p99:         {p99:.2f}  (target < 10)")
    print(f"afterwards: {made[0]} check-ins, {made[1]} charges (expected {VENDORS} and {VENDORS})")
