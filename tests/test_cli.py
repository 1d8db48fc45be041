"""`flask market demo` and `flask market create-user`."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import LedgerEntry, Market, Organization, Role, Stall, User, Vendor, Zone
from market.services.auth import accounts
from market.services.common import money
from market.services.common.clock import FixedClock
from market.services.ledger import entries as ledger
from market.services.ledger import periods as ledger_periods
from tests.ledger_helpers import tamper


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (Organization, Market, Zone, Stall, User, Vendor)
    )


def test_demo_matches_interface_and_is_idempotent(app):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["market", "demo"])
    assert r.exit_code == 0 and "demo data loaded" in r.output
    with app.app_context():
        first = counts()
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        assert market.name == "金汇潮汐市场" and market.timezone == "Asia/Shanghai"
        assert market.organization.name == "金汇社区股份经济合作社"
        assert [(z.code, z.name) for z in market.zones] == [
            ("A", "熟食"),
            ("B", "果蔬"),
            ("C", "百货"),
        ]
        assert 35 <= sum(len(z.stalls) for z in market.zones) <= 45
        roles = {u.phone: {g.role for g in u.grants} for u in db.session.scalars(select(User))}
        assert Role.ADMIN in roles["13800000001"]
        assert roles["13800000002"] == {Role.GUIDE}
        assert all(roles[f"1380000000{i}"] == {Role.VENDOR} for i in (3, 4, 5))
        statuses = {
            v.user.phone: (v.status, v.sells_food) for v in db.session.scalars(select(Vendor))
        }
        assert {k: statuses[k] for k in ("13800000003", "13800000004", "13800000005")} == {
            "13800000003": ("approved", True),
            "13800000004": ("approved", False),
            "13800000005": ("pending", False),
        }
        assert accounts.authenticate("13800000003", "demo1234") is not None
    r = runner.invoke(args=["market", "demo"])
    assert r.exit_code == 0 and "already present" in r.output
    with app.app_context():
        assert counts() == first


def test_demo_if_empty_leaves_a_real_database_alone(app):
    runner = app.test_cli_runner()
    with app.app_context():
        db.session.add(Organization(name="真实社区", short_name="真实"))
        db.session.commit()
    r = runner.invoke(args=["market", "demo", "--if-empty"])
    assert "not loaded" in r.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Market)) == 0


def test_create_first_admin(app):
    runner = app.test_cli_runner()
    r = runner.invoke(
        args=[
            "market",
            "create-user",
            "--phone",
            "13912345678",
            "--name",
            "赵主任",
            "--organization",
            "新社区股份经济合作社",
            "--password",
            "strong-pass-1",
        ]
    )
    assert r.exit_code == 0, r.output
    with app.app_context():
        user = accounts.authenticate("13912345678", "strong-pass-1")
        assert user is not None
        assert [(g.role, g.organization.name) for g in user.grants] == [
            ("admin", "新社区股份经济合作社")
        ]


def test_create_user_rejects_bad_phone_and_weak_password(app):
    runner = app.test_cli_runner()
    base = ["market", "create-user", "--name", "x", "--organization", "社区"]
    r = runner.invoke(args=[*base, "--phone", "12345", "--password", "strong-pass-1"])
    assert r.exit_code != 0 and "11" in r.output
    r = runner.invoke(args=[*base, "--phone", "13912345678", "--password", "12345678"])
    assert r.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(Organization)) == 0


def test_demo_evenings_pass_ledger_verify_and_an_altered_row_fails_it(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["market", "demo"]).exit_code == 0
    r = runner.invoke(args=["ledger", "verify", "--operations"])
    assert r.exit_code == 0, r.output
    assert "ledger intact" in r.output and "books match the operations" in r.output
    with app.app_context():
        org = db.session.scalars(
            select(Organization).where(Organization.name == "金汇社区股份经济合作社")
        ).one()
        entries = db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.organization_id == org.id)
            .order_by(LedgerEntry.seq)
        ).all()
        assert len(entries) > 20
        kinds = {e.source_key.split(":")[0] for e in entries}
        assert {"payment", "session-close", "handover", "expense"} <= kinds
        head = ledger.chain_head(org.id)
        assert f"head seq {head.seq} {head.entry_hash}" in r.output
        target = entries[len(entries) // 2]
        org_id, seq, target_id = org.id, target.seq, target.id
        tamper(
            "UPDATE ledger_entries SET entry_date = :d WHERE id = :id",
            d=target.entry_date.replace(day=1),
            id=target.id,
        )
    r = runner.invoke(args=["ledger", "verify"])
    assert r.exit_code == 1
    assert f"organization {org_id}, entry seq {seq} (id {target_id})" in r.output


def test_verify_on_an_empty_ledger_passes(app):
    r = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert r.exit_code == 0 and "0 entries" in r.output


def test_year_data_writes_a_chain_that_verifies(app):
    """The benchmarks' generator, small: every stall taken on most nights, charges and
    payments behind every check-in, and a ledger chain that `ledger verify` accepts."""
    from market.models import Charge, CheckIn

    runner = app.test_cli_runner()
    assert runner.invoke(args=["market", "demo"]).exit_code == 0
    r = runner.invoke(args=["market", "year-data", "--days", "3", "--stalls", "50"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        stalls = db.session.scalar(
            select(func.count()).select_from(Stall).where(Stall.market_id == market.id)
        )
        checkins = db.session.scalar(select(func.count()).select_from(CheckIn))
        charges = db.session.scalar(select(func.count()).select_from(Charge))
        assert stalls == 50
        assert checkins == charges and checkins >= 3 * 50 * 0.5  # at least one session a day
        assert ledger.verify().ok
    verify = runner.invoke(args=["ledger", "verify"])
    assert verify.exit_code == 0, verify.output
    # Its hand-overs are real ones, so the books match the operations too.
    verify = runner.invoke(args=["ledger", "verify", "--operations"])
    assert verify.exit_code == 0, verify.output
    assert "books match the operations" in verify.output


@pytest.mark.parametrize("day", [1, 15])
def test_closing_last_month_of_the_demo_shows_the_governance_share(app, day):
    """The issue's done-means on the demo: close last month, see its 40 % on the notice board."""
    now = datetime(2026, 12, day, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    app.config["CLOCK"] = FixedClock(now)
    assert app.test_cli_runner().invoke(args=["market", "demo"]).exit_code == 0
    with app.app_context():
        org = db.session.scalars(
            select(Organization).where(Organization.name == "金汇社区股份经济合作社")
        ).one()
        cadre = db.session.scalar(select(User).where(User.phone == "13800000001"))
        close = ledger_periods.close_month(org, date(2026, 11, 1), cadre, at=now)
        db.session.commit()
        assert close.net_income_fen > 0 and close.governance_pct == 40
        share = close.governance_fund_fen
        assert share == close.net_income_fen * 40 // 100 > 0
    page = app.test_client().get("/p/jinhui").text
    assert f"× 40% = {money.amount(share)}" in page
