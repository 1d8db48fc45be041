"""How a request's transaction ends (errors.release_session): a page read on PostgreSQL ends
with COMMIT so that psycopg keeps the connection's prepared statements (it drops them all at a
rollback); anything else ends as before, with ROLLBACK."""

from contextlib import suppress

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from market.extensions import db
from market.models import Market, Organization
from tests.conftest import PG_URL


def _routes(app):
    @app.get("/test/adds-and-leaves")
    def adds_and_leaves():
        db.session.add(Organization(name="left-in-session", short_name="留下"))
        db.session.flush()
        return "added, not committed"

    @app.get("/test/reads")
    def reads():
        return str(db.session.scalar(select(func.count()).select_from(Organization)))

    @app.get("/test/loses-its-connection")
    def loses_its_connection():
        db.session.execute(text("SELECT 1"))
        if app.config["BACKEND"] == "postgresql":
            # The server ends this very connection; the page carries on regardless.
            with suppress(DBAPIError):
                db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return "answered"


def _ends(app) -> list[str]:
    ends = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", lambda conn: ends.append("commit"))
    event.listen(engine, "rollback", lambda conn: ends.append("rollback"))
    return ends


def test_a_read_ends_with_commit_on_postgresql_and_writes_left_behind_roll_back(app):
    _routes(app)
    ends = _ends(app)
    client = app.test_client()
    assert client.get("/test/reads").status_code == 200
    assert ends[-1] == ("commit" if app.config["BACKEND"] == "postgresql" else "rollback")
    # A read that added something and never committed it: rolled back, on both databases.
    assert client.get("/test/adds-and-leaves").status_code == 200
    assert ends[-1] == "rollback"
    with app.app_context():
        assert (
            db.session.scalar(select(Organization).where(Organization.name == "left-in-session"))
            is None
        )


# SQLite has no server-side prepared statements: this one is PostgreSQL's alone.
@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set (CI sets it)")
@pytest.mark.parametrize("demo_app", ["postgresql"], indirect=True)
def test_the_scan_reads_keep_their_prepared_statements_on_postgresql(demo_app):
    """Ten page reads: psycopg prepares the statements every read runs, and they last."""
    connections = set()
    with demo_app.app_context():
        engine = db.engine
    event.listen(
        engine,
        "after_cursor_execute",
        lambda conn, *_: connections.add(conn.connection.dbapi_connection),
    )
    client = demo_app.test_client()
    for _ in range(10):
        assert client.get("/p/jinhui").status_code == 200
    prepared = 0
    for raw in connections:
        with raw.cursor() as cursor:
            cursor.execute(text("SELECT count(*) FROM pg_prepared_statements").text)
            prepared += cursor.fetchone()[0]
        raw.rollback()
    assert prepared > 0


def test_a_read_whose_connection_was_lost_still_answers(app):
    """The commit is never tried on a connection known lost, and any failure of it at the
    teardown is logged, not a bare 500 after the page was made."""
    _routes(app)
    client = app.test_client()
    answer = client.get("/test/loses-its-connection")
    assert answer.status_code == 200 and answer.text == "answered"
    assert client.get("/test/reads").status_code == 200  # the pool recovered


def test_objects_read_after_a_page_read_stay_loaded(demo_app):
    """A page read in a thread leaves nothing behind for the next app context there: what it
    loads is still readable after it ends, as close() always left it."""
    demo_app.test_client().get("/healthz")
    with demo_app.app_context():
        market = db.session.scalars(select(Market)).first()
    assert market.name
