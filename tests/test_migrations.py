"""`flask db upgrade` on an empty database gives exactly the models, on each backend."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from bench.server import scratch_database
from market import create_app
from market.extensions import db
from tests.conftest import PG_URL, base_config


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set (CI sets it)")
    with scratch_database(PG_URL) as url:
        yield url


def test_upgrade_matches_models(empty_database_url, tmp_path):
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert {t.name for t in db.metadata.sorted_tables} <= tables


def test_downgrade_and_upgrade_again(empty_database_url, tmp_path):
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "stalls" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_session_notes_of_before_the_codes_become_codes(empty_database_url, tmp_path):
    from market.demo.load import load_demo

    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        load_demo(activity=True)
        db.session.commit()
        first, second, third = db.session.scalars(
            text("SELECT id FROM market_sessions ORDER BY id LIMIT 3")
        ).all()
        db.session.remove()
        downgrade(revision="0007_complaints")
        with db.engine.begin() as conn:  # what those rows said before the codes
            conn.execute(
                text("UPDATE market_sessions SET change_note = 'opened early' WHERE id = :i"),
                {"i": first},
            )
            conn.execute(
                text(
                    "UPDATE market_sessions SET change_note = '暴雨', cancel_reason = '暴雨' "
                    "WHERE id = :i"
                ),
                {"i": second},
            )
            conn.execute(
                text("UPDATE market_sessions SET change_note = 'tent fell' WHERE id = :i"),
                {"i": third},
            )
        upgrade()
        with db.engine.connect() as conn:
            notes = dict(conn.execute(text("SELECT id, change_note FROM market_sessions")).all())
        db.engine.dispose()
    assert notes[first] == "opened_early"
    assert notes[second] == "cancelled"
    assert notes[third] == "tent fell"  # not a phrase of the code era: left as it was
