"""The governance fund's opening balance: what a community brought along, booked once; the
books-to-operations check counts it beside the month closes, and only it."""

from datetime import date

import pytest

from market.services.common.errors import Conflict, Forbidden
from market.services.ledger import entries as ledger
from market.services.ledger import operations as ops
from tests.ledger_helpers import NOW, balance, community

DAY = date(2026, 11, 20)


@pytest.fixture
def w(ctx):
    return community()


def test_the_opening_balance_is_booked_once_and_matches_the_operations(w):
    entry = ledger.post_fund_opening(w["org"], w["cadre"], DAY, 1_500_000, at=NOW)
    assert entry.source_key == ledger.FUND_OPENING_KEY
    assert balance(w["org"].id, "governance_fund") == 1_500_000  # in its own (credit) sense
    assert balance(w["org"].id, "bank") == 1_500_000
    assert ops.verify_operations(w["org"].id).ok
    with pytest.raises(Conflict):
        ledger.post_fund_opening(w["org"], w["cadre"], DAY, 100, at=NOW)
    with pytest.raises(Forbidden):
        ledger.post_fund_opening(w["org"], w["guide"], DAY, 100, at=NOW)


def test_any_other_credit_to_the_fund_is_a_mismatch(w):
    accounts = {a.key: a.id for a in ledger.accounts_of(w["org"].id)}
    ledger.post_manual(
        w["org"],
        w["cadre"],
        DAY,
        "私自记入治理资金",
        [
            {"account_id": accounts["bank"], "debit_fen": 50_000},
            {"account_id": accounts["governance_fund"], "credit_fen": 50_000},
        ],
        at=NOW,
    )
    result = ops.verify_operations(w["org"].id)
    assert not result.ok
    assert [m.kind for m in result.mismatches] == [ops.GOVERNANCE_FUND]
