"""Backup and restore (`flask market backup` / `market restore`): a restore into an empty
database gives back the same facts (services.backup.fingerprint: rows of every table, every
session's takings, the schema revision, the ledger chain heads and that they verify); a
database holding data is refused."""

from contextlib import contextmanager

import pytest
from flask_migrate import upgrade

from bench.server import scratch_database
from market import create_app
from market.extensions import db
from market.models import Market, User
from market.services.admin import backup
from market.services.checkin import payments
from tests import builders as b
from tests.conftest import base_config


def _activity(app) -> None:
    """An evening on top of the demo: check-ins, charges, cash, a pending code payment."""
    with app.app_context():
        market = db.session.scalars(db.select(Market).where(Market.slug == "jinhui")).one()
        session = b.session(market)
        guide = db.session.scalars(db.select(User).where(User.phone == "13800000002")).one()
        for n, amount in enumerate((800, 1200, 1500)):
            charge = b.charge(b.checkin(session, b.stall(b.zone(market))), base_fen=amount)
            if n:  # cash through the service, so the ledger posts it and has a chain head
                payments.record_cash(charge, amount, guide)
            else:
                b.payment(charge, amount, method="collection_code", confirmed=False)
        db.session.commit()


@contextmanager
def _target(app, tmp_path, blank: bool):
    """An empty database of the same kind as the app's: migrated, or without any table."""
    server = app.config["SQLALCHEMY_DATABASE_URI"] if app.config["BACKEND"] != "sqlite" else None
    with scratch_database(server) as url:
        if server is None:
            url = f"sqlite:///{tmp_path}/restored.db"
        target = create_app(base_config(tmp_path / "target", url))
        if not blank:
            with target.app_context():
                upgrade()
        try:
            yield target
        finally:
            with target.app_context():
                db.engine.dispose()


def _fingerprint(app) -> dict:
    with app.app_context():
        facts = backup.fingerprint()
        db.session.remove()
        return facts


@pytest.mark.parametrize("blank", [False, True], ids=["migrated", "blank"])
def test_restore_into_an_empty_database_gives_the_same_facts(demo_app, tmp_path, blank):
    _activity(demo_app)
    before = _fingerprint(demo_app)
    assert before["rows"]["payments"] == 3 and len(before["session_takings"]) >= 1
    assert before["ledger_verifies"] and any(before["ledger_heads"].values())
    path = tmp_path / "market.backup"
    result = demo_app.test_cli_runner().invoke(args=["market", "backup", str(path)])
    assert result.exit_code == 0, result.output
    assert path.stat().st_size > 0

    with _target(demo_app, tmp_path, blank) as target:
        result = target.test_cli_runner().invoke(args=["market", "restore", str(path)])
        assert result.exit_code == 0, result.output
        after = _fingerprint(target)
    assert after == before
    takings = [t for t in after["session_takings"].values() if t["charges"] == 3]
    assert takings[0]["collected_total_fen"] == 2700 and takings[0]["pending_fen"] == 800


def test_restore_refuses_a_database_holding_data(demo_app, tmp_path):
    path = tmp_path / "market.backup"
    runner = demo_app.test_cli_runner()
    assert runner.invoke(args=["market", "backup", str(path)]).exit_code == 0
    _activity(demo_app)
    before = _fingerprint(demo_app)
    result = runner.invoke(args=["market", "restore", str(path)])
    assert result.exit_code == 1
    assert "not empty" in result.output and "organizations" in result.output
    assert _fingerprint(demo_app) == before


def test_backup_never_overwrites_and_restore_checks_its_file(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    path = tmp_path / "market.backup"
    assert runner.invoke(args=["market", "backup", str(path)]).exit_code == 0
    again = runner.invoke(args=["market", "backup", str(path)])
    assert again.exit_code == 1 and "exists already" in again.output
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"<html>not a backup</html>")
    with _target(demo_app, tmp_path, blank=False) as target:
        result = target.test_cli_runner().invoke(args=["market", "restore", str(junk)])
        assert result.exit_code == 1 and "not a" in result.output


def test_backup_without_a_path_goes_to_the_instance_folder(demo_app):
    result = demo_app.test_cli_runner().invoke(args=["market", "backup"])
    assert result.exit_code == 0, result.output
    written = result.output.strip().rsplit(" ", 1)[-1]
    assert written.startswith(demo_app.instance_path) and "/backups/market-" in written
