"""`ledger verify` over a year of one market's trade (issue 9), against hashing the same
data with hashlib alone.

A scratch database gets the demo and `flask market year-data` (300 stalls, two sessions a
day, 80 % occupancy: about 175,000 check-ins, their payments and ledger entries). Then, in
one process, best of three each:
- verify: services.ledger.verify() — read every entry and line, rebuild the canonical bytes,
  SHA-256, check links, sequence and balances;
- read + hash: the same rows read with the bare driver cursor and fed to hashlib (the least
  any check of stored data must do);
- hash only: SHA-256 of each entry's canonical bytes, built beforehand in memory.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
import time

from .server import ROOT, scratch_database

TARGET = 5.0


def _best(func, runs: int = 3) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - start)
    return best, value


def generate(url: str, instance: str, days: int = 365) -> float:
    """The demo and `days` days of trade in the database at `url`; the seconds it took."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MARKET_INSTANCE_PATH": instance,
        "SECRET_KEY": "bench",
        "SCHEDULER": "off",
        "LOG_JSON": "0",
    }
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for args in (["db", "upgrade"], ["market", "demo"]):
        subprocess.run([*flask, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    start = time.perf_counter()
    subprocess.run(
        [*flask, "market", "year-data", "--days", str(days)], cwd=ROOT, env=env, check=True
    )
    return time.perf_counter() - start


def measure(url: str, instance: str) -> dict:
    from market import create_app
    from market.extensions import db
    from market.services.ledger import entries as ledger
    from market.services.ledger.chain import ROWS_SQL, canonical_bytes

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "bench",
            "SCHEDULER": False,
        }
    )
    with app.app_context():
        verify_s, result = _best(ledger.verify)
        sql = ROWS_SQL.format(where="")

        def read_and_hash():
            cursor = db.session.connection().connection.dbapi_connection.cursor()
            cursor.execute(sql)
            digest = hashlib.sha256()
            for row in cursor:
                digest.update(repr(row).encode())
            cursor.close()
            return digest.hexdigest()

        read_s, _ = _best(read_and_hash)
        blobs, current, lines = [], None, []
        for row in db.session.connection().exec_driver_sql(sql):
            if current is not None and row[0] != current[0]:
                blobs.append(canonical_bytes(*current[1:8], lines))
                lines = []
            current = row
            lines.append(row[9:13])
        if current is not None:
            blobs.append(canonical_bytes(*current[1:8], lines))
        hash_s, _ = _best(lambda: [hashlib.sha256(b).hexdigest() for b in blobs])
        counts = {
            t: db.session.connection().exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()  # noqa: S608
            for t in ("checkins", "payments", "ledger_entries", "ledger_lines")
        }
        db.session.rollback()
        db.engine.dispose()
    return {
        "verify": verify_s,
        "read": read_s,
        "hash": hash_s,
        "ok": result.ok,
        "bytes": sum(map(len, blobs)),
        **counts,
    }


def run(server_url: str | None, label: str) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="ledger-") as instance,
        scratch_database(server_url) as url,
    ):
        generate_s = generate(url, instance)
        m = measure(url, instance)
    print(f"\n== ledger verify over a year on {label} ==")
    print(
        f"generated in {generate_s:.0f} s: {m['checkins']} check-ins, {m['payments']} payments, "
        f"{m['ledger_entries']} entries, {m['ledger_lines']} lines "
        f"({m['bytes'] / 1e6:.1f} MB canonical)"
    )
    print(f"verify:            {m['verify']:.2f} s  intact={m['ok']}")
    print(f"read + hashlib:    {m['read']:.2f} s  ratio {m['verify'] / m['read']:.1f}x")
    # The target compares verify with hashing the same bytes with hashlib alone.
    print(
        f"hashlib only:      {m['hash']:.2f} s  ratio {m['verify'] / m['hash']:.1f}x "
        f"(target <= {TARGET:.0f}x)"
    )
