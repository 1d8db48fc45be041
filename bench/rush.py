"""The opening rush (issues 7 and 20): 300 logged-in vendors scan their stall's poster and
confirm at once, as they do on their phones.

Every vendor logged in beforehand (on the web: a cookie; on the API: a bearer token). In the
rush each GETs the scan page of its own stall with the cookie (the page a vendor sees: the fee
and the confirm button), then confirms: by default through the API (POST /api/v1/checkins
with an Idempotency-Key, as the issue's audit measured it; 201), with BENCH_CONFIRM=form by
posting the page's own form (its CSRF token and nonce; 303 to the receipt), as a phone's
browser does.

Three rounds on one server, each on a session opened for it (`flask market rush
--new-session`), with /healthz under the same concurrency before and after each. Printed per
round and as medians: check-ins per second against the /healthz rate, p99 against the /healthz
p99, errors, the check-ins and charges the round's session holds, and the CPU time the server
spent per check-in and per /healthz (gunicorn workers, plus the PostgreSQL backends of the
bench's database): steadier than rates on a machine others share.

After each round, a floor round on the same server, shaped as the check-in: each vendor asks
for a logged-in base page with its cookie, then POSTs with its bearer token to a page that
writes nothing (bench/floor.py's pages, added by bench/floor_app.py). Its ratio is the best a
check-in of these two requests could reach in this stack, whatever the check-in itself did."""

import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlencode, urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .cpu import CpuMeter
from .load import Result, hammer
from .server import ROOT, running_server, scratch_database

STALLS = VENDORS = 300
CONCURRENCY = 16
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONFIRM = os.environ.get("BENCH_CONFIRM", "api")  # or "form"
HEALTH_REQUESTS = 2000
FORM_RE = re.compile(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', re.S)
HIDDEN_RE = re.compile(r'<input[^>]*type="hidden"[^>]*>')
ATTR_RE = re.compile(r'(\w+)="([^"]*)"')


class Client:
    """A JSON client over one keep-alive connection (the fault tests' retrying vendors)."""

    def __init__(self, base: str):
        self.conn = connect(base)

    def call(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(
            method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw and raw[:1] in b"{[" else raw)


class Browser:
    """One vendor's phone: a cookie jar and an API token, over a keep-alive connection
    (given per call)."""

    def __init__(self):
        self.cookies: dict[str, str] = {}
        self.token = ""

    def call(self, conn, method, path, form=None, json_body=None, headers=None):
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            **(headers or {}),
        }
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
            headers["Authorization"] = f"Bearer {self.token}"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        for cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
        return response.status, response.getheader("Location"), raw.decode(errors="replace")


def form_fields(page: str, action_ends: str = "", needs: str = "") -> tuple[str, dict]:
    """The action and hidden fields of the page's first POST form whose action ends with
    `action_ends` and whose body contains `needs`."""
    for action, inner in FORM_RE.findall(page):
        if action.endswith(action_ends) and needs in inner:
            fields = {}
            for tag in HIDDEN_RE.findall(inner):
                attrs = dict(ATTR_RE.findall(tag))
                fields[attrs["name"]] = unescape(attrs.get("value", ""))
            return unescape(action), fields
    raise LookupError(f"no form {action_ends!r} on the page")


def connect(base: str) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)


def log_in(base: str, phones: list[str]) -> list[Browser]:
    """Each phone logged in through the login page, as a vendor does once a month."""
    browsers = [Browser() for _ in phones]
    jobs = list(zip(phones, browsers, strict=True))
    lock = threading.Lock()

    def worker():
        conn = connect(base)
        while True:
            with lock:
                if not jobs:
                    return
                phone, browser = jobs.pop()
            _, _, page = browser.call(conn, "GET", "/login")
            _, fields = form_fields(page, needs='name="phone"')
            status, home, _ = browser.call(
                conn, "POST", "/login", {**fields, "phone": phone, "password": "demo1234"}
            )
            assert status in (302, 303), f"login of {phone}: {status}"
            # The phone follows the redirect, as a browser does: the page there gives the
            # logged-in session its CSRF token, which a rush's first scan would otherwise sign.
            while status in (302, 303):
                status, home, _ = browser.call(conn, "GET", urlsplit(home).path)
            assert status == 200, f"home of {phone}: {status}"
            status, _, body = Browser().call(
                conn,
                "POST",
                "/api/v1/auth/token",
                json_body={"phone": phone, "password": "demo1234"},
            )
            assert status == 200, f"token of {phone}: {status}"
            browser.token = json.loads(body)["access_token"]

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return browsers


def stall_paths(base: str) -> list[str]:
    """The scan paths (/s/<token>) of the rush's stalls, from the cadre's API."""
    conn = connect(base)
    conn.request(
        "POST",
        "/api/v1/auth/token",
        body=b'{"phone": "13800000001", "password": "demo1234"}',
        headers={"Content-Type": "application/json"},
    )
    token = json.loads(conn.getresponse().read())["access_token"]
    stalls, page = [], 1
    while True:
        conn.request(
            "GET",
            f"/api/v1/markets/1/stalls?per_page=100&page={page}",
            headers={"Authorization": f"Bearer {token}"},
        )
        body = json.loads(conn.getresponse().read())
        stalls += body["items"]
        if len(stalls) >= body["total"]:
            break
        page += 1
    return [urlsplit(s["qr_url"]).path for s in stalls[:VENDORS]]


def rush(base: str, browsers: list[Browser], paths: list[str], floor=False) -> Result:
    """Each vendor: the scan page with its cookie, then the confirm form on it. With `floor`,
    each vendor asks for the framework's floor instead, shaped as the check-in is: a logged-in
    base page with its cookie, then a POST with its bearer token that writes nothing
    (bench/floor.py): what a check-in would cost that did no work of its own."""
    jobs = list(zip(browsers, paths, strict=True))
    lock = threading.Lock()
    latencies, failures = [], []

    def one(conn, browser, path) -> str | None:
        if floor:  # the same two requests, doing nothing: a logged-in page, a token POST
            status, _, _ = browser.call(conn, "GET", "/bench/page")
            if status != 200:
                return f"/bench/page {status}"
            status, _, _ = browser.call(conn, "POST", "/bench/token", json_body={})
            return None if status == 201 else f"/bench/token {status}"
        status, _, page = browser.call(conn, "GET", path)
        if status != 200:
            return f"scan {status}"
        try:
            action, fields = form_fields(page, action_ends="/checkin")
        except LookupError:
            return "scan page without the confirm form"
        if CONFIRM == "form":
            status, location, _ = browser.call(conn, "POST", action, fields)
            if status != 303 or "/receipts/" not in (location or ""):
                return f"confirm {status}"
            return None
        token = path.rsplit("/", 1)[1]
        status, _, _ = browser.call(
            conn,
            "POST",
            "/api/v1/checkins",
            json_body={"stall_token": token},
            headers={"Idempotency-Key": f"rush-{fields['nonce']}"},
        )
        return None if status == 201 else f"confirm {status}"

    def worker():
        conn = connect(base)
        while True:
            with lock:
                if not jobs:
                    return
                browser, path = jobs.pop()
            started = time.perf_counter()
            try:
                failure = one(conn, browser, path)
            except (OSError, http.client.HTTPException) as e:
                failure = type(e).__name__
                conn.close()
                conn = connect(base)
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                if failure:
                    failures.append(failure)

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        print(f"  failures: {sorted(set(failures))[:5]}")
    name = "framework floor" if floor else "scan + confirm check-in"
    return Result(name, len(latencies), len(failures), elapsed, latencies)


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


def new_session(env: dict) -> int:
    """Close the open session and open another (the CLI, on the server's database)."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "market", "rush", "--stalls",
         str(STALLS), "--vendors", str(VENDORS), "--new-session"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return int(re.search(r"session (\d+) open", done.stdout).group(1))


@dataclass
class Round:
    health: list[Result]  # before and after
    checkins: Result
    counts: tuple[int, int]
    cpu_checkin_ms: float
    cpu_health_ms: float

    @property
    def health_rps(self) -> float:
        return statistics.mean(h.rps for h in self.health)

    @property
    def health_p99(self) -> float:
        return statistics.mean(h.pct(0.99) for h in self.health)

    @property
    def ratio(self) -> float:
        return self.checkins.rps / self.health_rps

    @property
    def p99_ratio(self) -> float:
        return self.checkins.pct(0.99) / max(self.health_p99, 0.01)


def measured_health(base: str, database: str | None) -> tuple[Result, float]:
    with CpuMeter(database) as cpu:
        result = hammer(base, "/healthz", HEALTH_REQUESTS, CONCURRENCY, "GET /healthz")
    return result, cpu.seconds * 1000 / HEALTH_REQUESTS


def one_round(base, env, browsers, paths, database_url, database, floor=False) -> Round:
    session_id = None if floor else new_session(env)
    before, cpu_before = measured_health(base, database)
    with CpuMeter(database) as cpu:
        checkins = rush(base, browsers, paths, floor=floor)
    after, cpu_after = measured_health(base, database)
    return Round(
        [before, after],
        checkins,
        (0, 0) if floor else counted(database_url, session_id),
        cpu.seconds * 1000 / VENDORS,
        (cpu_before + cpu_after) / 2,
    )


def run(server_url: str | None, label: str) -> None:
    with scratch_database(server_url) as database_url:
        _run(database_url, label)


def _run(database_url: str, label: str) -> None:
    setup = [["market", "rush", "--stalls", str(STALLS), "--vendors", str(VENDORS)]]
    database = make_url(database_url).database if database_url.startswith("postgresql") else None
    env: dict = {}
    app = "bench.floor_app:app"
    with running_server(database_url, workers=4, setup=setup, env_out=env, app=app) as base:
        paths = stall_paths(base)
        browsers = log_in(base, [f"137{n:08d}" for n in range(1, VENDORS + 1)])
        hammer(base, "/healthz", 200, 4)  # warm every worker
        rounds, floors = [], []
        for _ in range(ROUNDS):  # interleaved: both see the machine as it is
            rounds.append(one_round(base, env, browsers, paths, database_url, database))
            floors.append(one_round(base, env, browsers, paths, database_url, database, floor=True))
    print(
        f"\n== opening rush on {label}: {VENDORS} logged-in vendors (scan page + confirm by "
        f"{CONFIRM}), {STALLS} stalls, {CONCURRENCY} connections, gunicorn 4 workers, "
        f"{ROUNDS} rounds =="
    )
    for n, r in enumerate(rounds, 1):
        print(
            f"round {n}: {r.checkins.rps:6.1f} check-ins/s vs /healthz {r.health_rps:7.1f}/s "
            f"= {r.ratio:.2f}  p99 {r.checkins.pct(0.99):6.1f} ms vs {r.health_p99:5.1f} ms "
            f"= {r.p99_ratio:.2f}  errors {r.checkins.errors}  "
            f"counts {r.counts[0]} + {r.counts[1]}  "
            f"CPU/check-in {r.cpu_checkin_ms:.1f} ms, /healthz {r.cpu_health_ms:.2f} ms"
        )
    med = statistics.median
    print(f"median check-ins/s:              {med(r.checkins.rps for r in rounds):.1f}")
    print(f"median /healthz req/s:           {med(r.health_rps for r in rounds):.1f}")
    print(
        f"median ratio check-ins/healthz:  {med(r.ratio for r in rounds):.2f}  "
        "(target >= 0.25 SQLite, >= 0.18 PostgreSQL)"
    )
    print(f"median p99 ratio:                {med(r.p99_ratio for r in rounds):.2f}  (target <= 5)")
    print(f"errors:                          {sum(r.checkins.errors for r in rounds)}")
    print(
        f"CPU per check-in (median):       {med(r.cpu_checkin_ms for r in rounds):.2f} ms  "
        f"per /healthz {med(r.cpu_health_ms for r in rounds):.3f} ms  "
        f"(= {med(r.cpu_checkin_ms / r.cpu_health_ms for r in rounds):.1f} x)"
    )
    print(
        f"framework floor (a logged-in base page + a token POST that does nothing, per vendor, "
        f"same server, {ROUNDS} rounds): ratio {med(r.ratio for r in floors):.2f} at best "
        f"(rounds {', '.join(f'{r.ratio:.2f}' for r in floors)}), p99 ratio "
        f"{med(r.p99_ratio for r in floors):.2f}, CPU "
        f"{med(r.cpu_checkin_ms / r.cpu_health_ms for r in floors):.1f} x /healthz, errors "
        f"{sum(r.checkins.errors for r in floors)}"
    )
    print(
        "afterwards, each round's session: "
        + ", ".join(f"{c} check-ins + {g} charges" for c, g in (r.counts for r in rounds))
        + f" (expected {VENDORS} + {VENDORS})"
    )
