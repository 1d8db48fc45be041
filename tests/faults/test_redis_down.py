"""Redis is optional, so its failure must be too: with REDIS_URL pointing at a Redis that is
down (nothing listens) or hangs (accepts, never answers), vendors still log in, the public
still files complaints, login limits still count (in the database), and /healthz says
"redis": "down" with a 200. Never the machine's own Redis: a port of the test's own."""

import logging
import socket
import threading
import time

import pytest

from market import create_app
from market.extensions import db
from tests.conftest import Auth, base_config
from tests.views.test_complaints import complain, evening  # noqa: F401  (a fixture)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SilentRedis:
    """Accepts connections and never answers: a Redis hung on a full disk or a dead peer."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:  # closed: the test is over
                return
            self.accepted.append(conn)

    def close(self):
        self.server.close()
        self.thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_redis():
    server = SilentRedis()
    yield f"redis://127.0.0.1:{server.port}/0"
    server.close()


@pytest.fixture
def dead_redis():
    return f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there


def app_with_redis(demo_app, tmp_path, url):
    """A second app on the demo's database, configured as production is with REDIS_URL."""
    config = base_config(tmp_path / "redis", demo_app.config["SQLALCHEMY_DATABASE_URI"])
    config.update(REDIS_URL=url, RATELIMIT_STORAGE_URI=url)
    if "CLOCK" in demo_app.config:
        config["CLOCK"] = demo_app.config["CLOCK"]
    return create_app(config)


@pytest.fixture
def broken(demo_app, tmp_path, request):
    app = app_with_redis(demo_app, tmp_path, request.getfixturevalue(request.param))
    yield app
    with app.app_context():
        db.engine.dispose()


BROKEN = pytest.mark.parametrize("broken", ["dead_redis", "silent_redis"], indirect=True)


@BROKEN
def test_vendors_log_in_on_the_page_and_the_api(broken):
    client = broken.test_client()
    started = time.monotonic()
    assert Auth(client).login("13800000003", "demo1234").status_code == 302
    token = client.post("/api/v1/auth/token", json={"phone": "13800000004", "password": "demo1234"})
    assert token.status_code == 200 and token.json["access_token"]
    # A hung Redis costs its short timeouts, not 5 s a request (generous bound: busy CI).
    assert time.monotonic() - started < 3


@BROKEN
def test_wrong_passwords_still_lock_the_phone(broken, caplog):
    auth = Auth(broken.test_client())
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="market.redis"):
        statuses = [auth.login("13800000003", "wrong-pass").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]  # counted in the database meanwhile
    assert time.monotonic() - started < 3
    # Said once in the log, then Redis is left alone for a while (not a timeout per request).
    warnings = [r for r in caplog.records if r.name == "market.redis"]
    assert len(warnings) == 1 and "Redis unavailable" in warnings[0].getMessage()


@BROKEN
def test_healthz_says_redis_is_down_and_stays_200(broken):
    started = time.monotonic()
    r = broken.test_client().get("/healthz")
    assert r.status_code == 200
    assert r.json["redis"] == "down" and r.json["status"] == "ok" and r.json["db"] == "ok"
    assert time.monotonic() - started < 3


@BROKEN
def test_complaints_are_filed_and_tracked(broken, evening):  # noqa: F811
    client = broken.test_client()
    r = complain(client, f"/s/{evening['A-01']}/complain", kind="hygiene", text="苍蝇多")
    assert r.status_code == 303
    assert client.get(r.headers["Location"]).status_code == 200
    api = client.post(
        "/api/v1/complaints",
        json={"stall_token": evening["A-02"], "kind": "price", "text": "价格不清"},
        environ_base={"REMOTE_ADDR": "10.9.0.1"},
    )
    assert api.status_code == 201, api.text
    assert client.get(f"/api/v1/complaints/{api.json['tracking_code']}").status_code == 200


def test_healthz_says_ok_with_a_live_redis(demo_app, tmp_path):
    """The machine's Redis, only pinged (6379 in this project's CI image)."""
    app = app_with_redis(demo_app, tmp_path, "redis://127.0.0.1:6379/0")
    try:
        assert app.test_client().get("/healthz").json["redis"] == "ok"
    finally:
        with app.app_context():
            db.engine.dispose()


def test_no_redis_url_no_redis_key(client):
    assert "redis" not in client.get("/healthz").json
