"""`make bench`: figures as ratios to /healthz measured in the same run on the same server.

Foundation benchmark: the rendered login page (session, CSRF token, translations, template)
against /healthz (one SELECT 1). Later benchmarks (the opening rush, the year's reports) add
their own sections here."""

import os

from . import rush
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


def main() -> None:
    pg = os.environ.get("TEST_DATABASE_URL")
    foundation(None, "SQLite")
    rush.run(None, "SQLite")
    if pg:
        foundation(pg, "PostgreSQL")
        rush.run(pg, "PostgreSQL")


if __name__ == "__main__":
    main()
