"""The app factory, configuration from the environment, health check and headers."""

import os
import stat

from sqlalchemy.exc import OperationalError

from market import config, create_app
from tests.conftest import base_config


def test_testing_flag(tmp_path):
    assert not create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"}).testing
    assert create_app(base_config(tmp_path, "sqlite://")).testing


def test_secret_key_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    second = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    assert first == second and len(first) >= 64
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/market")
    monkeypatch.setenv("MARKET_TIMEZONE", "Asia/Urumqi")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SCHEDULER", "off")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/market"
    assert app.config["MARKET_TIMEZONE"] == "Asia/Urumqi"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert app.config["SCHEDULER"] is False


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/market.db"


def test_normalise_database_url():
    assert config.normalise_database_url("postgresql://a/b") == "postgresql+psycopg://a/b"
    assert config.normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_healthz_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json["status"] == "ok" and r.json["db"] == "ok"


def test_healthz_503_when_database_unreachable(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    app = create_app(base_config(tmp_path, url))
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.json["db"] == "unavailable"


def test_pages_get_503_page_when_database_down(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    app = create_app(base_config(tmp_path, url))

    @app.route("/needs-db")
    def needs_db():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    r = app.test_client().get("/needs-db")
    assert r.status_code == 503
    assert "暂时无法使用" in r.text


def test_the_database_lost_mid_request_is_still_a_503(tmp_path, monkeypatch):
    """PostgreSQL stopped while a request ran: the connection is closed, and even the
    rollback of the error handler fails. The answer is still the 503 page, not gunicorn's 500."""
    from sqlalchemy.exc import InterfaceError

    from market.extensions import db

    app = create_app(base_config(tmp_path, "sqlite://"))

    @app.route("/lost")
    def lost():
        raise InterfaceError("SELECT 1", {}, Exception("the connection is closed"))

    def broken_rollback():
        raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))

    with app.app_context():
        monkeypatch.setattr(db.session, "rollback", broken_rollback)
    r = app.test_client().get("/lost")
    assert r.status_code == 503 and "暂时无法使用" in r.text


def test_security_headers_and_request_id(client):
    r = client.get("/", headers={"X-Request-ID": "abcdef123456"})
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Request-ID"] == "abcdef123456"
    # A malformed request id is replaced, never echoed.
    r = client.get("/", headers={"X-Request-ID": "<script>"})
    assert r.headers["X-Request-ID"] != "<script>" and len(r.headers["X-Request-ID"]) == 32


def test_unexpected_error_is_a_translated_500_page(demo_app):
    @demo_app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    demo_app.testing = False  # let the error handler answer, as in production
    client = demo_app.test_client()
    r = client.get("/boom")
    assert r.status_code == 500
    assert "出错了" in r.text and "RuntimeError" not in r.text
    assert "Something went wrong" in client.get("/boom?lang=en").text


def test_static_htmx_is_vendored(client):
    with client.get("/static/vendor/htmx-2.0.11.min.js") as r:
        assert r.status_code == 200
        assert b"htmx" in r.data[:200]
