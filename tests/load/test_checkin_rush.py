"""Against a real gunicorn over real HTTP: 50 vendors tap one stall at once, and one request
is replayed 20 times with one Idempotency-Key. PostgreSQL when TEST_DATABASE_URL is set."""

import json
import sqlite3
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from bench.data.rush import rush_phone
from bench.server import running_server, scratch_database
from tests.conftest import PG_URL

VENDORS = 50  # tap one stall at once; one more vendor, who never taps, replays a request


def call(url, path, payload=None, token=None, headers=None):
    request = urllib.request.Request(
        url + path,
        data=json.dumps(payload).encode() if payload is not None else None,
        method="POST" if payload is not None else "GET",
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def count(database_url, table):
    if database_url.startswith("sqlite"):
        with sqlite3.connect(urlsplit(database_url).path) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    engine = create_engine(database_url)
    with engine.connect() as conn:
        n = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
    engine.dispose()
    return n


@pytest.fixture(scope="module", params=["sqlite"] + (["postgresql"] if PG_URL else []))
def rush_server(request, tmp_path_factory):
    setup = [["market", "rush", "--stalls", "60", "--vendors", str(VENDORS + 1)]]
    with (
        scratch_database(PG_URL if request.param == "postgresql" else None) as database_url,
        running_server(database_url, workers=4, setup=setup) as url,
    ):
        tokens = [
            call(url, "/api/v1/auth/token", {"phone": rush_phone(n), "password": "demo1234"})
            for n in range(1, VENDORS + 2)
        ]
        assert all(status == 200 for status, _ in tokens), tokens[:3]
        yield url, database_url, [body["access_token"] for _, body in tokens]


def stall_token(url, token, code):
    cadre = call(url, "/api/v1/auth/token", {"phone": "13800000001", "password": "demo1234"})[1]
    _, stalls = call(url, "/api/v1/markets/1/stalls?per_page=100", token=cadre["access_token"])
    return next(s["qr_url"].rsplit("/", 1)[1] for s in stalls["items"] if s["code"] == code)


def test_fifty_vendors_one_stall_exactly_one_wins(rush_server):
    url, database_url, tokens = rush_server
    target = stall_token(url, tokens[0], "A-07")
    before = count(database_url, "charges")
    barrier = threading.Barrier(VENDORS)
    results = []

    def tap(token):
        barrier.wait(timeout=30)
        results.append(call(url, "/api/v1/checkins", {"stall_token": target}, token=token))

    threads = [threading.Thread(target=tap, args=(t,)) for t in tokens[:VENDORS]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (VENDORS - 1)
    refused = [body for status, body in results if status == 409]
    assert all(b["error"]["code"] == "stall_taken" for b in refused)
    assert all(b["error"]["details"]["alternatives"] for b in refused)  # somewhere else to go
    assert count(database_url, "charges") == before + 1


def test_one_request_replayed_twenty_times(rush_server):
    # The vendor who took no part in the rush above (whoever won it holds a stall already).
    url, database_url, tokens = rush_server
    target = stall_token(url, tokens[-1], "B-09")
    before = (count(database_url, "checkins"), count(database_url, "charges"))
    headers = {"Idempotency-Key": "rush-replay-0001"}
    answers = [
        call(url, "/api/v1/checkins", {"stall_token": target}, token=tokens[-1], headers=headers)
        for _ in range(20)
    ]
    assert {status for status, _ in answers} == {201}
    assert all(body == answers[0][1] for _, body in answers)
    assert (count(database_url, "checkins"), count(database_url, "charges")) == (
        before[0] + 1,
        before[1] + 1,
    )
    # The same key with another body is refused, and writes nothing.
    other = stall_token(url, tokens[-1], "B-10")
    status, body = call(
        url, "/api/v1/checkins", {"stall_token": other}, token=tokens[-1], headers=headers
    )
    assert status == 422 and body["error"]["code"] == "idempotency_key_reused"
    assert count(database_url, "checkins") == before[0] + 1


def test_server_still_healthy_after_the_rush(rush_server):
    url, _, _ = rush_server
    status, body = call(url, "/healthz")
    assert status == 200 and body["db"] == "ok"
