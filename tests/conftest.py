"""Fixtures: an app on a freshly migrated database (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), clients, and builders for the objects tests need."""

import os
import re
import shutil

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from market import create_app
from market.demo.load import load_demo
from market.extensions import db


def _per_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (test_gw0, …),
    created on first use: the fixtures drop and truncate whole schemas."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _per_worker(os.environ.get("TEST_DATABASE_URL"))
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
FAST_HASH = "scrypt:1024:8:1"  # same algorithm, lower cost: keeps the suite quick


def base_config(tmp_path, url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "REDIS_URL": None,  # login limits count in the test's own database, whatever the env
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "SCHEDULER": False,
    }


def _migrate(tmp_path, url: str, demo: bool) -> None:
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        upgrade()
        if demo:
            load_demo()
            db.session.commit()
        db.engine.dispose()


def reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory):
    """Two migrated SQLite files, empty and with the demo data, copied for each test."""
    paths = {}
    for demo in (False, True):
        folder = tmp_path_factory.mktemp("demo" if demo else "empty")
        path = folder / "market.db"
        _migrate(folder, f"sqlite:///{path}", demo)
        paths[demo] = path
    return paths


@pytest.fixture(scope="session")
def postgres_ready(tmp_path_factory):
    if not PG_URL:
        return None
    reset_postgres(PG_URL)
    _migrate(tmp_path_factory.mktemp("pg"), PG_URL, demo=False)
    return PG_URL


def truncate_all(app) -> None:
    with app.app_context():
        names = ", ".join(t.name for t in db.metadata.sorted_tables)
        db.session.rollback()
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.session.commit()
        db.engine.dispose()


def _make_app(request, tmp_path, demo: bool):
    backend = request.param
    if backend == "sqlite":
        path = tmp_path / "market.db"
        shutil.copy(request.getfixturevalue("sqlite_templates")[demo], path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_ready")
    app = create_app(base_config(tmp_path, url))
    app.config["BACKEND"] = backend
    if backend == "postgresql" and demo:
        with app.app_context():
            load_demo()
            db.session.commit()
    return app


def _clean_up(app) -> None:
    if app.config["BACKEND"] == "postgresql":
        truncate_all(app)
    else:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    """An app on an empty, migrated database."""
    app = _make_app(request, tmp_path, demo=False)
    yield app
    _clean_up(app)


@pytest.fixture(params=BACKENDS)
def demo_app(request, tmp_path):
    """An app on a migrated database holding the demo data of INTERFACE.md."""
    app = _make_app(request, tmp_path, demo=True)
    yield app
    _clean_up(app)


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def runner(demo_app):
    return demo_app.test_cli_runner()


CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, phone="13800000001", password="demo1234", **extra):
        page = self.client.get("/login")
        data = {"phone": phone, "password": password, "csrf_token": csrf_from(page.text)}
        data.update(extra)
        return self.client.post("/login", data=data)

    def logout(self):
        page = self.client.get("/password")
        return self.client.post("/logout", data={"csrf_token": csrf_from(page.text)})


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def sqlite_app(sqlite_templates, tmp_path):
    """SQLite whatever TEST_DATABASE_URL says: for the embedded default's own behaviour."""
    path = tmp_path / "market.db"
    shutil.copy(sqlite_templates[False], path)
    app = create_app(base_config(tmp_path, f"sqlite:///{path}"))
    app.config["BACKEND"] = "sqlite"
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context on the empty database, for tests that talk to models directly."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def demo_ctx(demo_app):
    with demo_app.app_context():
        yield demo_app
        db.session.rollback()
