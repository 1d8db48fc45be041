"""Money follows the decision: expenses charged to the project, never above its budget, and the
books-to-operations check knows it."""

import pytest
from sqlalchemy import text

from market.extensions import db
from market.models import ExpenseState
from market.services.common.errors import Conflict, InvalidInput
from market.services.fund import money
from market.services.ledger import entries as ledger
from market.services.ledger import expenses as ledger_expenses
from market.services.ledger import operations as ops
from tests.ledger_helpers import NOW, balance

from .conftest import approved, new_project, photo


def spend(w, p, fen, cadre=None, **kw):
    return money.record_project_expense(
        p,
        cadre or w["cadre"],
        amount_fen=fen,
        spent_on=NOW.date(),
        description="灯具",
        paid_from="bank",
        at=NOW,
        receipt=photo(),
        **kw,
    )


def test_spending_is_charged_to_the_project_and_lowers_the_fund(w):
    p = approved(w)
    e1 = spend(w, p, 30_000)  # below the ¥500 threshold: booked at once
    assert e1.state == ExpenseState.POSTED and p.state == "in_progress"
    e2 = spend(w, p, 290_000)  # above: waits for the second cadre
    assert e2.state == ExpenseState.PENDING
    ledger_expenses.approve_expense(e2, w["cadre2"], at=NOW, acknowledge_negative=True)
    assert balance(w["org"].id, f"fund_project_{p.id}") == -320_000  # equity: a debit
    b = money.balance(w["org"].id)
    assert (b.shares_fen, b.spent_fen, b.balance_fen, b.reserved_fen) == (0, 320_000, -320_000, 0)
    assert ops.verify_operations(w["org"].id).ok and ledger.verify().ok
    # The month's income is untouched: the project's account is not an expense account.
    assert p.account_id not in {a.id for a in ledger_expenses.expense_accounts(w["org"].id)}


def test_spending_beyond_the_budget_is_refused(w):
    p = approved(w)
    spend(w, p, 300_000)
    with pytest.raises(InvalidInput) as e:
        spend(w, p, 20_001)
    assert e.value.code == "over_budget" and "¥200.00" in str(e.value.message)
    assert money.committed_fen(p) == 300_000
    # A rejected expense frees its amount.
    pending = ledger_expenses.expenses_of(w["org"].id)[0]
    ledger_expenses.reject_expense(pending, w["cadre2"], "发票不对", at=NOW)
    spend(w, p, 20_001)


def test_a_project_not_approved_cannot_be_spent_on(w):
    p = new_project(w)
    with pytest.raises(Conflict):
        spend(w, p, 100)


def test_the_operations_check_names_an_overspent_project(w):
    p = approved(w)
    e = spend(w, p, 30_000)
    db.session.commit()
    db.session.execute(text("UPDATE fund_projects SET budget_fen = 100 WHERE id = :i"), {"i": p.id})
    db.session.commit()
    result = ops.verify_operations(w["org"].id)
    kinds = {(m.kind, m.subject_id) for m in result.mismatches}
    assert kinds == {("fund_overspent", p.id)}
    assert "project spending above its approved budget" in str(result.mismatches[0])
    assert e.state == ExpenseState.POSTED
