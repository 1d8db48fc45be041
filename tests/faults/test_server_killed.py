"""kill -9 of the whole gunicorn (master and workers) in the middle of the opening rush
(the bench's load: `flask market rush`, vendors confirming check-ins with Idempotency-Keys).

After a restart on the same database: every check-in the client was told succeeded (201) is
there, none twice, each with its one charge (nothing half-written); the vendors whose answer
was lost retry with the same key and end up with exactly one check-in each. The guide's cash
taken during the rush has exactly one ledger entry per payment, and `flask ledger verify`
passes before and after the restart."""

import os
import tempfile
import threading
from collections import Counter

import pytest
from sqlalchemy import create_engine, text

from bench.data.rush import rush_phone
from bench.rush import Client
from bench.server import scratch_database

from .procs import Gunicorn, app_env, call, flask, prepare, token, wait_until

VENDORS = 40
CONCURRENCY = 8
KILL_AFTER = 12  # successful check-ins before the kill

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _stalls(base: str, cadre: dict) -> list[dict]:
    status, body = call(f"{base}/api/v1/markets/1/stalls?per_page=100", headers=cadre)
    assert status == 200, body
    stalls = body["items"]
    status, more = call(f"{base}/api/v1/markets/1/stalls?per_page=100&page=2", headers=cadre)
    return (stalls + more["items"])[:VENDORS]


def _rush(server: Gunicorn, jobs: list, guide: dict) -> dict:
    """Check in every (vendor, stall), the guide taking the fee in cash (a ledger posting) at
    once; kill -9 the server once KILL_AFTER have succeeded.
    Returns stall_id → status (or "lost" when the connection failed)."""
    results, lock, queue = {}, threading.Lock(), list(jobs)
    killed = threading.Event()

    def worker():
        client = Client(server.url)
        while True:
            with lock:
                if not queue:
                    client.conn.close()
                    return
                headers, stall = queue.pop()
            try:
                status, body = client.call(
                    "POST",
                    "/api/v1/checkins",
                    {"stall_id": stall["id"]},
                    {**headers, "Idempotency-Key": f"rush-{stall['id']}"},
                )
                if status == 201:
                    client.call(
                        "POST",
                        f"/api/v1/checkins/{body['id']}/payments",
                        {"method": "cash", "amount_fen": body["charge"]["unpaid_fen"]},
                        {**guide, "Idempotency-Key": f"cash-{stall['id']}"},
                    )
            except (OSError, ValueError):  # the server died under this request
                status = "lost"
                client.conn.close()
                client = Client(server.url)
            with lock:
                results[stall["id"]] = status
                if not killed.is_set() and Counter(results.values())[201] >= KILL_AFTER:
                    killed.set()
                    server.kill9()

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert killed.is_set(), "the rush ended before the kill"
    return results


def _cash_postings(url: str) -> tuple[int, int]:
    """Cash payments, and the ledger entries posted for them (one each, in one transaction)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        paid = conn.execute(text("SELECT count(*) FROM payments WHERE method = 'cash'")).scalar()
        posted = conn.execute(
            text(
                "SELECT count(*) FROM ledger_entries e JOIN payments p "
                "ON e.source_key = 'payment:' || CAST(p.id AS VARCHAR(20)) "
                "WHERE p.method = 'cash'"
            )
        ).scalar()
    engine.dispose()
    return paid, posted


def _in_database(url: str) -> tuple[list, int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT stall_id, vendor_id, session_id FROM checkins")).all()
        charges = conn.execute(text("SELECT count(*) FROM charges")).scalar()
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM checkins WHERE NOT EXISTS "
                "(SELECT 1 FROM charges WHERE charges.checkin_id = checkins.id)"
            )
        ).scalar()
    engine.dispose()
    return rows, charges, orphans


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_confirmed_check_in_survives_kill_9(backend):
    server_url = os.environ.get("TEST_DATABASE_URL") if backend == "postgresql" else None
    with (
        tempfile.TemporaryDirectory(prefix="faults-") as instance,
        scratch_database(server_url, prefix="faults") as url,
    ):
        env = app_env(url, instance)
        prepare(env, rush=VENDORS)
        server = Gunicorn(env, workers=2)
        try:
            base = server.start()
            cadre = token(base, "13800000001")
            stalls = _stalls(base, cadre)
            vendors = [token(base, rush_phone(n)) for n in range(1, VENDORS + 1)]
            jobs = list(zip(vendors, stalls, strict=True))
            results = _rush(server, jobs, token(base, "13800000002"))
            print("rush before the kill:", Counter(results.values()))

            told_ok = {s for s, status in results.items() if status == 201}
            assert len(told_ok) >= KILL_AFTER
            assert not {s for s, st in results.items() if st not in (201, "lost")}, results
            rows, charges, orphans = _in_database(url)
            stalls_in_db = Counter(r.stall_id for r in rows)
            assert told_ok <= set(stalls_in_db), "a check-in the client was told about is gone"
            assert max(stalls_in_db.values()) == 1
            assert max(Counter(r.vendor_id for r in rows).values()) == 1
            assert charges == len(rows) and orphans == 0
            paid, posted = _cash_postings(url)
            assert paid >= 1 and posted == paid, (paid, posted)
            verified = flask(env, "ledger", "verify", check=False)
            assert verified.returncode == 0, verified.stdout + verified.stderr

            base = server.start()  # same database, after the crash
            for headers, stall in jobs:
                if results[stall["id"]] != 201:
                    status, body = call(
                        f"{base}/api/v1/checkins",
                        "POST",
                        {"stall_id": stall["id"]},
                        {**headers, "Idempotency-Key": f"rush-{stall['id']}"},
                    )
                    assert status == 201, body
            rows, charges, orphans = _in_database(url)
            assert sorted(r.stall_id for r in rows) == sorted(s["id"] for s in stalls)
            assert len({r.vendor_id for r in rows}) == VENDORS == len(rows)
            assert charges == VENDORS and orphans == 0
            wait_until(lambda: call(f"{base}/healthz")[0] == 200, 10, "healthy after restart")
            assert flask(env, "ledger", "verify", check=False).returncode == 0
        finally:
            server.stop()
