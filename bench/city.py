"""The city rush (issue 20): the installation laid out as deploy/ describes it (nginx in front
of two gunicorn instances with 2 workers each, one scheduler process, PostgreSQL, Redis), on
this machine, with a city's worth of markets in the database.

Two installations run side by side on scratch databases: one holding a single market, one
holding 100 markets × 300 stalls and 300 vendors each (bench/data/city.py). Rounds in turns:
300 logged-in vendors of one market rush through nginx on each (the rush of bench/rush.py:
scan page with the vendor's cookie, then the confirm form), then 300 vendors of each of 10
markets at once on the city. /healthz through nginx before and after each rush. Printed per
round and as medians: check-ins per second against /healthz, p99, errors, counts, and CPU per
check-in (the instances' gunicorn workers, nginx and the database's backends); then the cost
of a check-in at 100 markets against 1 market (target: at most 1.2 ×). PostgreSQL only."""

import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from .cpu import CpuMeter, _stat, server_processes
from .layout import city_env, running_city
from .load import Result, hammer
from .nginx import ensure_installed
from .rush import CONCURRENCY, HEALTH_REQUESTS, counted, log_in, rush
from .server import scratch_database

MARKETS, STALLS, VENDORS, AT_ONCE = 100, 300, 300, 10
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WORKERS = 2  # per instance: 4 in all, as the single-server rush
FAST_HASH = "scrypt:1024:8:1"  # bench vendors only: 3,300 logins are set-up, not measured


class LayoutCpu(CpuMeter):
    """CpuMeter for one installation of the two running here: its gunicorn instances with
    their workers, its nginx with its workers, and the backends of its database."""

    def __init__(self, database: str, roots: list[int]):
        super().__init__(database)
        self.roots = set(roots)

    def _ticks(self):
        stats = {pid: s for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
                 if (s := _stat(pid))}  # fmt: skip
        kinds = {
            p: "app" for p, (parent, _) in stats.items() if p in self.roots or parent in self.roots
        }
        kinds.update((p, k) for p, k in server_processes(self.database).items() if k == "db")
        return {p: (k, stats[p][1]) for p, k in kinds.items() if p in stats}


@dataclass
class Round:
    health: list[Result]
    checkins: Result
    counts: tuple[int, int]
    expected: int
    cpu_checkin_ms: float
    cpu_health_ms: float

    @property
    def health_rps(self) -> float:
        return statistics.mean(h.rps for h in self.health)

    @property
    def ratio(self) -> float:
        return self.checkins.rps / self.health_rps

    @property
    def p99_ratio(self) -> float:
        return self.checkins.pct(0.99) / max(
            statistics.mean(h.pct(0.99) for h in self.health), 0.01
        )

    def line(self) -> str:
        return (
            f"{self.checkins.rps:6.1f} check-ins/s vs /healthz {self.health_rps:7.1f}/s = "
            f"{self.ratio:.2f}  p99 {self.checkins.pct(0.99):6.1f} ms (= {self.p99_ratio:.1f} x "
            f"/healthz)  errors {self.checkins.errors}  counts {self.counts[0]} + "
            f"{self.counts[1]} of {self.expected}  CPU/check-in {self.cpu_checkin_ms:.1f} ms, "
            f"/healthz {self.cpu_health_ms:.2f} ms"
        )


class Installation:
    """One database, its data, and the layout serving it."""

    def __init__(self, stack: ExitStack, server_url: str, markets: int, label: str):
        from market import create_app  # the bench's own app: data and new sessions

        self.label = label
        self.url = stack.enter_context(scratch_database(server_url, prefix="city"))
        self.database = make_url(self.url).database
        instance = stack.enter_context(tempfile.TemporaryDirectory(prefix="city-"))
        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.url,
                "INSTANCE_PATH": instance,
                "SECRET_KEY": "city",
                "SCHEDULER": False,
                "PASSWORD_HASH_METHOD": FAST_HASH,
            }
        )
        self.generated_s, self.tick_s, self.market_ids = self._fill(markets)
        self.layout = stack.enter_context(running_city(city_env(self.url, instance), WORKERS))
        self.roots = [w.proc.pid for w in self.layout.webs] + [self.layout.nginx.proc.pid]
        self.browsers = {}

    def _fill(self, markets: int):
        from flask_migrate import upgrade

        from bench.data import city
        from market.demo.load import load_demo
        from market.extensions import db
        from market.services.common.clock import now
        from market.services.sessions import tide

        with self.app.app_context():
            upgrade()
            load_demo(activity=True)
            db.session.commit()
            started = time.perf_counter()
            ids = city.prepare(markets, STALLS, VENDORS)
            db.session.commit()
            generated = time.perf_counter() - started
            tide.reconcile(now())  # the first tick generates two weeks ahead: not timed
            db.session.commit()
            started = time.perf_counter()
            tide.reconcile(now())  # every later tick: what the scheduler spends a minute
            db.session.rollback()
            return generated, time.perf_counter() - started, ids

    def log_in(self, market_ids: list[int]) -> None:
        from bench.data import city

        with self.app.app_context():
            pairs = [p for m in market_ids for p in city.rushers(m, VENDORS)]
        browsers = log_in(self.layout.url, [phone for phone, _ in pairs])
        self.browsers[tuple(market_ids)] = (browsers, [path for _, path in pairs])

    def health(self) -> tuple[Result, float]:
        with LayoutCpu(self.database, self.roots) as cpu:
            result = hammer(self.layout.url, "/healthz", HEALTH_REQUESTS, CONCURRENCY, "healthz")
        return result, cpu.seconds * 1000 / HEALTH_REQUESTS

    def round(self, market_ids: list[int]) -> Round:
        from bench.data import city
        from market.extensions import db

        with self.app.app_context():
            sessions = city.new_sessions(market_ids)
            db.session.commit()
        browsers, paths = self.browsers[tuple(market_ids)]
        before, cpu_before = self.health()
        with LayoutCpu(self.database, self.roots) as cpu:
            checkins = rush(self.layout.url, browsers, paths)
        after, cpu_after = self.health()
        made = [counted(self.url, s) for s in sessions]
        return Round(
            [before, after],
            checkins,
            (sum(c for c, _ in made), sum(g for _, g in made)),
            len(paths),
            cpu.seconds * 1000 / len(paths),
            (cpu_before + cpu_after) / 2,
        )


def run(server_url: str | None, label: str) -> None:
    if server_url is None:
        print("\n== city rush: PostgreSQL only (set TEST_DATABASE_URL) ==")
        return
    ensure_installed()
    with ExitStack() as stack:
        one = Installation(stack, server_url, 1, "1 market")
        many = Installation(stack, server_url, MARKETS, f"{MARKETS} markets")
        first, ten = many.market_ids[:1], many.market_ids[:AT_ONCE]
        one.log_in(one.market_ids[:1])
        many.log_in(first)
        many.log_in(ten)
        runs = {"one": [], "many": [], "ten": []}
        for _ in range(ROUNDS):  # in turns, so that the machine's load hits all alike
            runs["one"].append(one.round(one.market_ids[:1]))
            runs["many"].append(many.round(first))
            runs["ten"].append(many.round(ten))
    _report(label, one, many, runs)


def _report(label: str, one: Installation, many: Installation, runs: dict) -> None:
    med = statistics.median
    print(
        f"\n== city rush on {label}: nginx -> 2 gunicorn instances x {WORKERS} workers, "
        f"1 scheduler process, Redis; {CONCURRENCY} connections, {ROUNDS} rounds in turns =="
    )
    print(
        f"data: {MARKETS} markets x {STALLS} stalls and {VENDORS} vendors generated in "
        f"{many.generated_s:.1f} s; a scheduler tick takes {many.tick_s * 1000:.0f} ms at "
        f"{MARKETS} markets, {one.tick_s * 1000:.0f} ms at 1"
    )
    names = {
        "one": f"1 market, {VENDORS} vendors",
        "many": f"{MARKETS} markets, {VENDORS} vendors of one",
        "ten": f"{MARKETS} markets, {VENDORS} vendors of each of {AT_ONCE}",
    }
    for key, name in names.items():
        print(f"-- {name}")
        for n, r in enumerate(runs[key], 1):
            print(f"   round {n}: {r.line()}")
        rounds = runs[key]
        print(
            f"   median: {med(r.checkins.rps for r in rounds):.1f} check-ins/s, ratio to "
            f"/healthz through nginx {med(r.ratio for r in rounds):.2f}, p99 "
            f"{med(r.p99_ratio for r in rounds):.1f} x, CPU/check-in "
            f"{med(r.cpu_checkin_ms for r in rounds):.1f} ms; errors "
            f"{sum(r.checkins.errors for r in rounds)}"
        )
    cpu = med(r.cpu_checkin_ms for r in runs["many"]) / med(r.cpu_checkin_ms for r in runs["one"])
    slower = med(r.ratio for r in runs["one"]) / med(r.ratio for r in runs["many"])
    print(
        f"check-in cost at {MARKETS} markets / 1 market: CPU {cpu:.2f} x, time (against "
        f"/healthz) {slower:.2f} x  (target <= 1.2)"
    )
