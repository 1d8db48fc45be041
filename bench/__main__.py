"""`make bench`: figures as ratios to /healthz measured in the same run on the same server.

Foundation benchmark: the rendered login page (session, CSRF token, translations, template)
against /healthz (one SELECT 1). Later benchmarks (the opening rush, the year's reports) add
their own sections here: the opening rush (bench/rush.py), `ledger verify` over a year
(bench/ledger.py), what any logged-in page costs before the check-in's own work
(bench/floor.py), the monthly report over a year (bench/reports.py) and the city rush
through nginx to two instances (bench/city.py, PostgreSQL only). Name some to run
only those: `python -m bench ledger reports`."""

import os
import sys

from . import areas, city, floor, ledger, reports, rush, scale
from .load import hammer
from .server import running_server

TOTAL = int(os.environ.get("BENCH_REQUESTS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))


def foundation(database_url: str | None, label: str) -> None:
    with running_server(database_url) as url:
        hammer(url, "/healthz", 200, 4)  # warm up every worker
        health = hammer(url, "/healthz", TOTAL, CONCURRENCY, "GET /healthz")
        page = hammer(url, "/login", TOTAL, CONCURRENCY, "GET /login (rendered page)")
    print(f"\n== foundation on {label}: {TOTAL} requests, {CONCURRENCY} connections ==")
    print(health.line())
    print(page.line())
    print(f"ratio login/healthz throughput: {page.rps / health.rps:.2f}")
    print(f"ratio login/healthz p99:        {page.pct(0.99) / max(health.pct(0.99), 0.01):.2f}")


PARTS = {
    "foundation": foundation,
    "rush": rush.run,
    "floor": floor.run,
    "ledger": ledger.run,
    "reports": reports.run,
    "areas": areas.run,
    "scale": scale.run,
    "city": city.run,
}


def main() -> None:
    """All benchmarks, or those named: `python -m bench reports`."""
    pg = os.environ.get("TEST_DATABASE_URL")
    chosen = sys.argv[1:] or list(PARTS)
    unknown = set(chosen) - set(PARTS)
    if unknown:
        sys.exit(f"unknown benchmark: {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    for label, url in [("SQLite", None)] + ([("PostgreSQL", pg)] if pg else []):
        for name in chosen:
            PARTS[name](url, label)


if __name__ == "__main__":
    main()
