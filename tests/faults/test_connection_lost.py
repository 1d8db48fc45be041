"""The database drops the request's own connection (pg_terminate_backend from a second
connection, like a restart or a killed backend would): at the end of the request, the answer is
the page or a translated 503, never a raw exception (under gunicorn: a bare "Internal Server
Error"), and the next request is served on a fresh connection.

Deterministic: the backend is terminated from a hook of the test app at a chosen point, and
`pg_terminate_backend(pid, timeout)` returns only once that backend is gone."""

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from market import create_app
from market.demo.load import load_demo
from market.extensions import db
from market.models import Stall
from tests.conftest import PG_URL, base_config, truncate_all

pytestmark = pytest.mark.postgres

# Reads anyone may make: a public board, a stall poster, its card as JSON, the health check.
PAGES = ["/p/jinhui", "/s/{token}", "/api/v1/stalls/by-token/{token}/card", "/healthz"]


@pytest.fixture
def pg_app(request, tmp_path):
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set (CI sets it)")
    app = create_app(base_config(tmp_path, request.getfixturevalue("postgres_ready")))
    app.config["BACKEND"] = "postgresql"
    with app.app_context():
        load_demo()
        db.session.commit()
        app.config["TEST_STALL_TOKEN"] = db.session.scalars(select(Stall.qr_token)).first()
    yield app
    truncate_all(app)


def _terminate_own_backend(url: str) -> None:
    """Terminate the backend behind the request's session, over a connection of our own."""
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    killer = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with killer.connect() as conn:
            # The timeout makes it wait until the backend has exited, not just been signalled.
            gone = conn.scalar(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
        assert gone, f"backend {pid} was not terminated"
    finally:
        killer.dispose()


def _arm(app, hook: str) -> dict:
    """Terminate the request's backend in a before- or after-request hook, once per arming."""
    armed = {"on": False}
    url = app.config["SQLALCHEMY_DATABASE_URI"]

    def kill(response=None):
        if armed.pop("on", False):
            _terminate_own_backend(url)
        return response

    if hook == "after":
        app.after_request(kill)  # the last registered runs first: right after the view
    else:
        app.before_request(kill)
    return armed


def _assert_page_or_translated_503(r, path: str) -> None:
    assert r.status_code in (200, 503), (path, r.status_code)
    if r.status_code == 503:
        if path.startswith("/api/"):
            assert r.json["error"]["code"] == "unavailable"
        elif path != "/healthz":  # /healthz says "unavailable" in its own JSON
            assert "暂时无法使用" in r.text


@pytest.mark.parametrize("path", PAGES)
def test_connection_lost_after_the_last_query(pg_app, path):
    """Only the teardown's ROLLBACK meets the dead connection: it must not escape."""
    path = path.format(token=pg_app.config["TEST_STALL_TOKEN"])
    armed = _arm(pg_app, "after")
    client = pg_app.test_client()
    assert client.get(path).status_code == 200  # a clean run first: the pool holds it
    armed["on"] = True
    r = client.get(path)  # without the fix: OperationalError raised out of the teardown
    assert "on" not in armed  # the hook did run
    _assert_page_or_translated_503(r, path)
    assert r.status_code == 200  # the view had its data before the connection went
    assert client.get(path).status_code == 200  # a fresh connection, without a restart


@pytest.mark.parametrize("path", PAGES)
def test_connection_lost_inside_the_request_gives_the_translated_503(pg_app, path):
    """The view's own query meets the dead connection: the error handler's 503."""
    path = path.format(token=pg_app.config["TEST_STALL_TOKEN"])
    armed = _arm(pg_app, "before")
    client = pg_app.test_client()
    armed["on"] = True
    r = client.get(path)
    assert "on" not in armed
    assert r.status_code == 503, r.text
    _assert_page_or_translated_503(r, path)
    assert client.get(path).status_code == 200
