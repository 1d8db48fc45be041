"""Expenses: posted at once up to the threshold, above it a receipt and a second cadre."""

import io
from datetime import UTC, date, datetime

import pytest
from PIL import Image

from market.models import ExpenseState
from market.services.common.errors import Conflict, Forbidden, InvalidInput
from market.services.ledger import entries as ledger
from market.services.ledger import expenses as ledger_expenses
from market.services.ledger import periods as ledger_periods
from tests.ledger_helpers import NOW, balance, community, count_entries, entries, lines_of

DAY = date(2026, 11, 20)


@pytest.fixture
def w(ctx):
    return community()


def photo():
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buf, format="JPEG")
    buf.seek(0)
    return buf


def record(w, fen, cadre=None, receipt=None, **kw):
    args = {
        "account_id": ledger.account(w["org"].id, "cleaning").id,
        "amount_fen": fen,
        "spent_on": DAY,
        "description": "十一月保洁",
        "paid_from": "office_cash",
        "receipt": receipt,
        "at": NOW,
    }
    args.update(kw)
    return ledger_expenses.record_expense(w["org"], cadre or w["cadre"], **args)


def test_a_small_expense_posts_at_once(w):
    e = record(w, 12_000)
    assert e.state == ExpenseState.POSTED and e.entry.source_key == f"expense:{e.id}"
    assert lines_of(e.entry) == {("cleaning", 12_000, 0), ("office_cash", 0, 12_000)}
    assert balance(w["org"].id, "cleaning") == 12_000


def test_above_the_threshold_a_second_cadre_approves(w, tmp_path):
    e = record(w, 80_000, receipt=photo(), paid_from="bank")
    assert e.state == ExpenseState.PENDING and e.receipt_photo and count_entries() == 0
    assert (ledger_expenses.receipts_dir() / e.receipt_photo).is_file()
    with pytest.raises(Forbidden) as err:
        ledger_expenses.approve_expense(e, w["cadre"], at=NOW)
    assert err.value.code == "self_approval" and count_entries() == 0
    with pytest.raises(Forbidden):
        ledger_expenses.approve_expense(e, w["guide"], at=NOW)
    # The bank holds nothing yet: approving needs the cadre to acknowledge the negative.
    ledger_expenses.approve_expense(e, w["cadre2"], at=NOW, acknowledge_negative=True)
    assert e.state == ExpenseState.POSTED and e.approved_by_id == w["cadre2"].id
    assert lines_of(entries(w["org"].id)[0]) == {("cleaning", 80_000, 0), ("bank", 0, 80_000)}
    with pytest.raises(Conflict):
        ledger_expenses.approve_expense(e, w["cadre2"], at=NOW)
    assert ledger.verify().ok


def test_above_the_threshold_without_a_receipt_is_refused(w):
    with pytest.raises(InvalidInput) as e:
        record(w, 50_001)
    assert e.value.code == "receipt_required" and "500.00" in str(e.value.message)
    assert count_entries() == 0
    assert ledger_expenses.expenses_of(w["org"].id) == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount_fen": -100}, "negative_amount"),
        ({"amount_fen": 0}, "negative_amount"),
        ({"amount_fen": 12.5}, "invalid_amount"),
        ({"description": "  "}, "description_required"),
        ({"paid_from": "pocket"}, "invalid_paid_from"),
        ({"spent_on": date(2027, 1, 1)}, "future_date"),
        ({"spent_on": date(1999, 1, 1)}, "date_too_old"),
        ({"spent_on": date(2025, 11, 19)}, "date_too_old"),  # over a year before 2026-11-23
        ({"account_id": 999_999}, "invalid_account"),
    ],
)
def test_bad_expenses_write_nothing(w, changes, code):
    with pytest.raises(InvalidInput) as e:
        record(w, 100, **changes)
    assert e.value.code == code
    assert count_entries() == 0 and ledger_expenses.expenses_of(w["org"].id) == []


def test_an_income_account_is_not_an_expense_category(w):
    with pytest.raises(InvalidInput):
        record(w, 100, account_id=ledger.account(w["org"].id, "fee_income").id)


def test_a_pdf_is_not_a_receipt(w):
    with pytest.raises(InvalidInput) as e:
        record(w, 80_000, receipt=io.BytesIO(b"%PDF-1.4 not an image"))
    assert e.value.code == "not_an_image" and count_entries() == 0


def test_expense_dated_in_a_closed_month_is_refused(w):
    ledger_periods.close_month(
        w["org"], date(2026, 10, 1), w["cadre"], at=datetime(2026, 11, 2, tzinfo=UTC)
    )
    with pytest.raises(InvalidInput) as e:
        record(w, 100, spent_on=date(2026, 10, 30))
    assert e.value.code == "period_closed"
    assert ledger_expenses.expenses_of(w["org"].id) == []


def test_the_list_is_by_the_day_of_the_expense(w):
    late = record(w, 100, spent_on=date(2026, 11, 2), description="补录")
    newer = record(w, 200, spent_on=date(2026, 11, 18))
    older = record(w, 300, spent_on=date(2026, 10, 30))
    listed = ledger_expenses.expenses_of(w["org"].id, ExpenseState.POSTED)
    assert [e.id for e in listed] == [newer.id, late.id, older.id]


def deposit(w, fen, key="dep"):
    org_id = w["org"].id
    ledger.post(
        org_id,
        DAY,
        "存入",
        key,
        [
            ledger.Line(ledger.account(org_id, "office_cash"), debit_fen=fen),
            ledger.Line(ledger.account(org_id, "fee_income"), credit_fen=fen),
        ],
    )


def test_approval_shows_the_paying_balance_before_and_after(w):
    deposit(w, 100_000)
    e = record(w, 80_000, receipt=photo())
    paying = ledger_expenses.paying_balance(e)
    assert paying.account.key == "office_cash"
    assert (paying.before_fen, paying.after_fen, paying.goes_below_zero) == (100_000, 20_000, False)
    assert [u.name for u in ledger_expenses.approvers(e)] == ["王主任"]
    ledger_expenses.approve_expense(e, w["cadre2"], at=NOW)  # no acknowledgement needed
    assert balance(w["org"].id, "office_cash") == 20_000


def test_approval_below_zero_needs_an_acknowledgement(w):
    deposit(w, 50_000)
    e = record(w, 80_000, receipt=photo())
    paying = ledger_expenses.paying_balance(e)
    assert (paying.before_fen, paying.after_fen, paying.goes_below_zero) == (50_000, -30_000, True)
    with pytest.raises(InvalidInput) as err:
        ledger_expenses.approve_expense(e, w["cadre2"], at=NOW)
    assert err.value.code == "negative_balance_unacknowledged"
    assert "-¥300.00" in str(err.value.message)
    assert e.state == ExpenseState.PENDING and balance(w["org"].id, "office_cash") == 50_000
    ledger_expenses.approve_expense(e, w["cadre2"], at=NOW, acknowledge_negative=True)
    assert e.state == ExpenseState.POSTED and balance(w["org"].id, "office_cash") == -30_000
