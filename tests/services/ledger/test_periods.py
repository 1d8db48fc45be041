"""Reconciled days lock, closed months take no entries, the month's distribution is exact."""

from datetime import UTC, date, datetime, timedelta

import pytest

from market.services.checkin import payments
from market.services.common.clock import FixedClock
from market.services.common.errors import Conflict, Forbidden, InvalidInput
from market.services.ledger import entries as ledger
from market.services.ledger import periods as ledger_periods
from market.services.ledger.entries import Line
from market.services.sessions import tide as sessions
from tests import builders as b
from tests.ledger_helpers import NOW, balance, charged, community, entries, lines_of


@pytest.fixture
def w(ctx):
    return community()


def close(w):
    return sessions.end_session(sessions.locked(w["session"].id), NOW, w["cadre"])


def book(w, day, income=0, relief=0, key="x"):
    org_id = w["org"].id
    lines = [Line(ledger.account(org_id, "office_cash"), debit_fen=income - relief)]
    if relief:
        lines.append(Line(ledger.account(org_id, "fee_relief"), debit_fen=relief))
    lines.append(Line(ledger.account(org_id, "fee_income"), credit_fen=income))
    return ledger.post(org_id, day, "t", key, lines)


def spend(w, day, key_account, fen, key):
    org_id = w["org"].id
    return ledger.post(
        org_id,
        day,
        "t",
        key,
        [
            Line(ledger.account(org_id, key_account), debit_fen=fen),
            Line(ledger.account(org_id, "bank"), credit_fen=fen),
        ],
    )


def test_reconciling_the_days_last_session_locks_the_day(w, ctx):
    charge = charged(w)
    close(w)
    day = w["session"].business_date
    ledger_periods.reconcile_session(w["session"], w["cadre"], at=NOW)
    assert ledger.is_day_locked(w["org"].id, day)
    with pytest.raises(InvalidInput) as e:
        book(w, day, income=100)
    assert e.value.code == "day_locked" and e.value.status == 422
    # Money that arrives later the same evening is dated on the next open day, not back into
    # the locked one (the clock stands at 21:00 in Shanghai, still the session's day).
    ctx.config["CLOCK"] = FixedClock(NOW + timedelta(hours=2))
    payments.record_cash(charge, 1500, w["guide"])
    assert entries(w["org"].id)[-1].entry_date == day + timedelta(days=1)
    with pytest.raises(Conflict):
        ledger_periods.reconcile_session(w["session"], w["cadre"], at=NOW)


def test_a_day_with_a_session_still_to_come_is_not_locked(w):
    close(w)
    day = w["session"].business_date
    b.session(w["market"], starts_at=NOW + timedelta(hours=5), business_date=day, kind="special")
    ledger_periods.reconcile_session(w["session"], w["cadre"], at=NOW)
    assert not ledger.is_day_locked(w["org"].id, day)


def test_only_a_closed_session_is_reconciled_and_only_by_a_cadre(w):
    with pytest.raises(Conflict):
        ledger_periods.reconcile_session(w["session"], w["cadre"], at=NOW)
    close(w)
    with pytest.raises(Forbidden):
        ledger_periods.reconcile_session(w["session"], w["guide"], at=NOW)


AFTER_OCTOBER = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)


def test_closing_a_month_distributes_40_percent_rounded_down(w):
    oct_ = date(2026, 10, 1)
    book(w, date(2026, 10, 3), income=100_001, relief=1_000, key="a")
    spend(w, date(2026, 10, 9), "cleaning", 20_000, "b")
    spend(w, date(2026, 10, 12), "electricity", 5_000, "c")
    book(w, date(2026, 11, 1), income=999, key="outside")  # the day after: not counted
    close_ = ledger_periods.close_month(w["org"], oct_, w["cadre"], at=AFTER_OCTOBER)
    assert close_.fee_income_fen == 100_001 and close_.relief_fen == 1_000
    assert close_.expenses_by_category == {"保洁费": 20_000, "电费": 5_000}
    net = 100_001 - 1_000 - 20_000 - 5_000
    assert close_.net_income_fen == net == 74_001
    assert close_.governance_fund_fen == 29_600  # floor(74001 × 40 / 100) = floor(29600.4)
    assert close_.distributable_fen == 44_401
    assert close_.governance_fund_fen + close_.distributable_fen == net
    org_id = w["org"].id
    assert balance(org_id, "governance_fund") == 29_600
    assert balance(org_id, "distributable") == 44_401
    closing = close_.entry
    assert closing.entry_date == date(2026, 10, 31) and closing.source_key == "month-close:2026-10"
    assert ("fee_income", 100_001, 0) in lines_of(closing)
    assert ledger.closed_months(org_id)[0].id == close_.id
    assert ledger.verify().ok
    with pytest.raises(InvalidInput) as e:
        book(w, date(2026, 10, 20), income=5, key="late")
    assert e.value.code == "period_closed"
    with pytest.raises(Conflict):
        ledger_periods.close_month(w["org"], oct_, w["cadre"], at=AFTER_OCTOBER)


def test_months_close_oldest_first_and_stay_closed_behind(w):
    book(w, date(2026, 9, 12), income=500, key="september")
    book(w, date(2026, 10, 3), income=700, key="october")
    assert ledger_periods.closable_months(w["org"], AFTER_OCTOBER) == [date(2026, 9, 1)]
    with pytest.raises(Conflict) as e:
        ledger_periods.close_month(w["org"], date(2026, 10, 1), w["cadre"], at=AFTER_OCTOBER)
    assert e.value.code == "earlier_month_open" and "2026-09" in str(e.value.message)
    assert ledger.closed_through(w["org"].id) is None  # nothing written
    ledger_periods.close_month(w["org"], date(2026, 9, 1), w["cadre"], at=AFTER_OCTOBER)
    assert ledger_periods.closable_months(w["org"], AFTER_OCTOBER) == [date(2026, 10, 1)]
    ledger_periods.close_month(w["org"], date(2026, 10, 1), w["cadre"], at=AFTER_OCTOBER)
    assert ledger_periods.closable_months(w["org"], AFTER_OCTOBER) == []  # November not over
    for day in (date(2026, 8, 20), date(2026, 9, 30)):  # before the last close: closed too
        with pytest.raises(InvalidInput) as e:
            book(w, day, income=5, key=f"late-{day}")
        assert e.value.code == "period_closed" and "2026-10" in str(e.value.message)
    with pytest.raises(Conflict) as e:
        ledger_periods.close_month(w["org"], date(2026, 8, 1), w["cadre"], at=AFTER_OCTOBER)
    assert e.value.code == "month_closed"
    assert ledger.verify().ok


def test_with_nothing_booked_last_month_can_be_closed_empty(w):
    assert ledger_periods.closable_months(w["org"], AFTER_OCTOBER) == [date(2026, 10, 1)]
    close_ = ledger_periods.close_month(w["org"], date(2026, 10, 1), w["cadre"], at=AFTER_OCTOBER)
    assert close_.net_income_fen == 0 and close_.entry is None
    assert ledger_periods.closable_months(w["org"], AFTER_OCTOBER) == []


def test_the_rule_is_the_organizations(w):
    w["org"].governance_fund_pct = 25
    book(w, date(2026, 10, 3), income=1_003, key="a")
    close_ = ledger_periods.close_month(w["org"], date(2026, 10, 1), w["cadre"], at=AFTER_OCTOBER)
    assert (close_.governance_pct, close_.governance_fund_fen, close_.distributable_fen) == (
        25,
        250,
        753,
    )


def test_a_month_with_a_loss_distributes_nothing(w):
    book(w, date(2026, 10, 3), income=1_000, key="a")
    spend(w, date(2026, 10, 4), "barriers", 3_000, "b")
    close_ = ledger_periods.close_month(w["org"], date(2026, 10, 1), w["cadre"], at=AFTER_OCTOBER)
    assert close_.net_income_fen == -2_000 and close_.is_loss
    assert close_.governance_fund_fen == 0 and close_.distributable_fen == 0
    assert balance(w["org"].id, "governance_fund") == 0
    assert balance(w["org"].id, "distributable") == -2_000
    assert ledger.verify().ok


def test_an_empty_month_closes_without_an_entry(w):
    close_ = ledger_periods.close_month(w["org"], date(2026, 10, 1), w["cadre"], at=AFTER_OCTOBER)
    assert close_.entry_id is None and close_.net_income_fen == 0


def test_a_month_not_over_yet_cannot_be_closed(w):
    with pytest.raises(InvalidInput) as e:
        ledger_periods.close_month(w["org"], date(2026, 11, 1), w["cadre"], at=NOW)
    assert e.value.code == "month_not_over"
    assert ledger.closed_months(w["org"].id) == []


def test_a_guide_cannot_close_a_month(w):
    with pytest.raises(Forbidden):
        ledger_periods.close_month(w["org"], date(2026, 10, 1), w["guide"], at=AFTER_OCTOBER)


@pytest.mark.parametrize("text", ["2026-13", "x", "", "2026/10"])
def test_month_text_is_checked(text):
    with pytest.raises(InvalidInput):
        ledger_periods.parse_month(text)


def test_split_is_exact_for_any_amount():
    for net in (0, 1, 2, 99, 100, 101, 12_345_679):
        for pct in (0, 1, 40, 99, 100):
            fund, rest = ledger_periods.split(net, pct)
            assert fund + rest == net and fund == net * pct // 100
    assert ledger_periods.split(-5, 40) == (0, 0)


@pytest.mark.parametrize("loss", [False, True])
def test_the_preview_is_what_the_close_books(w, loss):
    oct_ = date(2026, 10, 1)
    book(w, date(2026, 10, 3), income=100_001, relief=1_000, key="a")
    spend(w, date(2026, 10, 9), "cleaning", 120_000 if loss else 20_000, "b")
    spend(w, date(2026, 10, 12), "electricity", 5_000, "c")
    preview = ledger_periods.close_figures(w["org"], oct_)
    close_ = ledger_periods.close_month(
        w["org"], oct_, w["cadre"], at=AFTER_OCTOBER, shown=preview.key
    )
    booked = (
        close_.fee_income_fen,
        close_.relief_fen,
        close_.expenses_by_category,
        close_.expenses_fen,
        close_.net_income_fen,
        close_.governance_pct,
        close_.governance_fund_fen,
        close_.distributable_fen,
    )
    assert booked == (
        preview.fee_income_fen,
        preview.relief_fen,
        preview.by_category,
        preview.expenses_fen,
        preview.net_fen,
        preview.pct,
        preview.fund_fen,
        preview.distributable_fen,
    )
    assert preview.is_loss == loss
    assert balance(w["org"].id, "governance_fund") == preview.fund_fen


def test_a_close_refuses_when_the_figures_changed_since_they_were_shown(w):
    oct_ = date(2026, 10, 1)
    book(w, date(2026, 10, 3), income=10_000, key="a")
    shown = ledger_periods.close_figures(w["org"], oct_).key
    spend(w, date(2026, 10, 20), "cleaning", 3_000, "late")  # dated back meanwhile
    with pytest.raises(Conflict) as e:
        ledger_periods.close_month(w["org"], oct_, w["cadre"], at=AFTER_OCTOBER, shown=shown)
    assert e.value.code == "figures_changed"
    assert not ledger.is_month_closed(w["org"].id, oct_)
    fresh = ledger_periods.close_figures(w["org"], oct_)
    close_ = ledger_periods.close_month(
        w["org"], oct_, w["cadre"], at=AFTER_OCTOBER, shown=fresh.key
    )
    assert close_.net_income_fen == 7_000 == fresh.net_fen
