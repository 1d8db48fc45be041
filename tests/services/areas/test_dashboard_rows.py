"""The dashboard's rows beyond the month close: what an open month would book, this month so
far, expenses by category, incidents by kind, and the two flags about the books' people and
their freshness."""

from datetime import UTC, date, datetime, timedelta

import pytest

from market.extensions import db
from market.models import Incident, MarketSession, Role
from market.services.areas import dashboard, membership
from market.services.ledger import expenses as ledger_expenses
from market.services.ledger import periods
from tests import builders as b
from tests.ledger_helpers import NOW, charged, community
from tests.services.ledger.test_expenses import photo, record

NOVEMBER = date(2026, 11, 1)
TODAY = date(2026, 12, 6)
AT = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


@pytest.fixture
def w(ctx):
    w = community()
    w["area"] = membership.create_area("测试街道")
    membership.attach(w["area"], w["org"])
    db.session.flush()
    return w


def _row(w, month=NOVEMBER):
    return dashboard.rows_for(w["area"], month, AT, TODAY)[0]


def _approved(w, recorder, approver):
    e = record(w, 80_000, cadre=recorder, receipt=photo(), paid_from="bank")
    ledger_expenses.approve_expense(e, approver, at=NOW, acknowledge_negative=True)


def test_an_open_month_shows_what_closing_it_would_book(w):
    record(w, 12_000)  # cleaning, posted at once
    row = _row(w)
    preview = periods.close_figures(w["org"], NOVEMBER)
    assert row.closed is None
    assert row.values["expenses_fen"] == preview.expenses_fen == 12_000
    assert row.values["net_income_fen"] == preview.net_fen
    assert row.expenses_by_category == preview.by_category
    assert sum(row.expenses_by_category.values()) == 12_000
    assert row.values["mtd_income_fen"] == 0  # December so far: nothing


def test_two_cadres_approving_only_each_other_raise_a_flag(w):
    _approved(w, w["cadre"], w["cadre2"])
    _approved(w, w["cadre2"], w["cadre"])
    assert _row(w).flags.get("mutual_approval") == 1
    # A third cadre approving one of them: the four eyes are real again.
    third = b.user(role=Role.CADRE, organization=w["org"], name="赵主任")
    _approved(w, w["cadre"], third)
    assert "mutual_approval" not in _row(w).flags


def test_trade_after_the_ledgers_last_entry_raises_stale_books(w):
    record(w, 12_000)  # the ledger's newest entry: 2026-11-20
    w["session"].state = "closed"
    w["session"].closed_at = NOW
    w["session"].business_date = date(2026, 11, 28)
    db.session.flush()
    assert _row(w).flags.get("stale_books") == 1
    w["session"].business_date = date(2026, 11, 20)
    db.session.flush()
    assert "stale_books" not in _row(w).flags


def test_incidents_are_counted_by_kind_in_the_markets_month(w):
    for kind, at in [
        ("hygiene", datetime(2026, 11, 3, 12, tzinfo=UTC)),
        ("hygiene", datetime(2026, 11, 30, 16, 30, tzinfo=UTC)),  # 1 Dec in Shanghai
        ("noise", datetime(2026, 10, 31, 17, tzinfo=UTC)),  # 1 Nov 01:00 in Shanghai
    ]:
        db.session.add(Incident(market_id=w["market"].id, kind=kind, note="x", created_at=at))
    db.session.flush()
    row = _row(w)
    assert row.incidents_by_kind == {"hygiene": 1, "noise": 1}
    assert row.values["incidents"] == 2


def test_the_default_month_is_the_last_closed_one(w):
    assert dashboard.default_month(w["area"], TODAY) == NOVEMBER  # none closed: the last full
    db.session.execute(MarketSession.__table__.delete().where(MarketSession.id == w["session"].id))
    periods.close_month(w["org"], date(2026, 10, 1), w["cadre"], at=NOW)
    assert dashboard.default_month(w["area"], TODAY) == date(2026, 10, 1)


def test_cash_held_over_a_day_is_flagged_until_it_is_handed_over(w):
    from market.services.checkin import payments
    from market.services.guide import handovers

    cash = payments.record_cash(charged(w), 1500, w["guide"])
    cash.recorded_at = AT - timedelta(hours=25)
    fresh = payments.record_cash(charged(w), 1000, w["guide"])
    fresh.recorded_at = AT - timedelta(hours=2)
    db.session.flush()
    assert _row(w).flags.get("cash_held") == 1  # one guide, one market, the oldest past 24 h
    cash.recorded_at = AT - timedelta(hours=3)
    db.session.flush()
    assert "cash_held" not in _row(w).flags  # all of it taken within the day
    cash.recorded_at = AT - timedelta(hours=25)
    handed = handovers.hand_over(w["guide"], w["market"], 2500, now=AT)
    assert {cash.handover_id, fresh.handover_id} == {handed.id}
    assert "cash_held" not in _row(w).flags
