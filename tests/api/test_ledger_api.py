"""The ledger API on the demo: reads for cadres, manual entries, expenses, month close, and
every kind of bad input answered with a clear 4xx and nothing written."""

import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import func, select

from market.extensions import db
from market.models import Expense, LedgerEntry, MonthClose, Organization, Role
from market.services.auth import accounts
from market.services.common.clock import FixedClock
from market.services.common.money import MAX_FEN
from market.services.ledger import entries as ledger
from tests.api.test_api import assert_error, bearer, token_for

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


@pytest.fixture
def org(demo_app):
    demo_app.config["CLOCK"] = FixedClock(NOW)
    with demo_app.app_context():
        org = db.session.scalars(select(Organization)).one()
        second = accounts.create_user("13800000099", "赵会计", "secret-pass-1")
        accounts.grant_role(second, org, Role.CADRE)
        db.session.commit()
        ids = {a.key: a.id for a in ledger.accounts_of(org.id)}
        return {"id": org.id, "accounts": ids}


@pytest.fixture
def cadre(client, org):
    return bearer(token_for(client))


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def base(org, cadre):
    return f"/api/v1/organizations/{org['id']}/ledger"


def deposit(client, org, cadre, day="2026-10-15", debit=10_000, credit=10_000):
    a = org["accounts"]
    return client.post(
        f"{base(org, cadre)}/entries",
        headers=cadre,
        json={
            "entry_date": day,
            "description": "收入入账",
            "lines": [
                {"account_id": a["bank"], "debit_fen": debit},
                {"account_id": a["fee_income"], "credit_fen": credit},
            ],
        },
    )


def test_cadre_posts_and_reads_the_journal_accounts_and_verify(client, org, cadre):
    r = deposit(client, org, cadre)
    assert r.status_code == 201, r.json
    assert r.json["seq"] == 1 and len(r.json["entry_hash"]) == 64
    journal = client.get(f"{base(org, cadre)}/entries?per_page=10", headers=cadre).json
    assert journal["total"] == 1 and journal["items"][0]["lines"][0]["debit_fen"] == 10_000
    accounts_ = client.get(f"{base(org, cadre)}/accounts?per_page=100", headers=cadre).json
    balances = {a["key"]: a["balance_fen"] for a in accounts_["items"]}
    assert balances["bank"] == 10_000 and balances["fee_income"] == 10_000
    v = client.get(f"{base(org, cadre)}/verify", headers=cadre).json
    assert v["ok"] and v["entries_checked"] == 1 and v["head"]["seq"] == 1


def test_guides_and_vendors_cannot_read_the_ledger(client, org):
    for phone in ("13800000002", "13800000003"):
        r = client.get(
            f"/api/v1/organizations/{org['id']}/ledger/entries",
            headers=bearer(token_for(client, phone)),
        )
        assert_error(r, 403)


def test_another_organizations_ledger_is_404(client, org, cadre):
    assert_error(client.get("/api/v1/organizations/999/ledger/verify", headers=cadre), 404)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"debit": 10_000, "credit": 9_000}, "unbalanced"),
        ({"debit": -100, "credit": -100}, "negative_amount"),
        ({"day": "2027-01-01"}, "future_date"),
    ],
)
def test_bad_entries_answer_422_and_write_nothing(demo_app, client, org, cadre, kwargs, code):
    err = assert_error(deposit(client, org, cadre, **kwargs), 422, code)
    assert err["message"]
    assert count(demo_app, LedgerEntry) == 0


def test_a_fractional_amount_is_a_validation_error(demo_app, client, org, cadre):
    assert_error(deposit(client, org, cadre, debit=10.5, credit=10.5), 422, "validation_error")
    assert count(demo_app, LedgerEntry) == 0


def test_messages_are_translated(demo_app, client, org, cadre):
    r = deposit(client, org, {**cadre, "Accept-Language": "zh-CN"}, debit=5, credit=4)
    assert "借方" in assert_error(r, 422, "unbalanced")["message"]


def receipt():
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buf, format="PNG")
    buf.seek(0)
    return buf


def expense(client, org, cadre, fen, with_receipt=False, **extra):
    data = {
        "account_id": str(org["accounts"]["cleaning"]),
        "amount_fen": str(fen),
        "spent_on": "2026-11-20",
        "description": "保洁",
        "paid_from": "office_cash",
        **extra,
    }
    if with_receipt:
        data["receipt"] = (receipt(), "r.png")
    return client.post(
        f"{base(org, cadre)}/expenses",
        headers=cadre,
        data=data,
        content_type="multipart/form-data",
    )


def test_expense_above_threshold_needs_receipt_and_another_cadre(demo_app, client, org, cadre):
    assert_error(expense(client, org, cadre, 60_000), 422, "receipt_required")
    assert count(demo_app, Expense) == 0
    r = expense(client, org, cadre, 60_000, with_receipt=True)
    assert r.status_code == 201, r.json
    assert r.json["state"] == "pending" and r.json["has_receipt"] and r.json["entry_id"] is None
    url = f"/api/v1/ledger/expenses/{r.json['id']}/approve"
    assert_error(client.post(url, headers=cadre), 403, "self_approval")
    assert count(demo_app, LedgerEntry) == 0
    second = bearer(token_for(client, "13800000099", "secret-pass-1"))
    # Office cash holds nothing: below zero needs saying so.
    assert_error(client.post(url, headers=second), 422, "negative_balance_unacknowledged")
    assert count(demo_app, LedgerEntry) == 0
    ok = client.post(url, headers=second, json={"acknowledge_negative_balance": True})
    assert ok.status_code == 200 and ok.json["state"] == "posted" and ok.json["entry_id"]
    assert_error(client.post(url, headers=second), 409, "already_approved")


def test_a_cadre_rejects_a_pending_expense_with_a_reason(demo_app, client, org, cadre):
    r = expense(client, org, cadre, 60_000, with_receipt=True)
    url = f"/api/v1/ledger/expenses/{r.json['id']}"
    second = bearer(token_for(client, "13800000099", "secret-pass-1"))
    assert client.post(f"{url}/reject", json={"reason": ""}, headers=second).status_code == 422
    assert_error(client.post(f"{url}/reject", json={"reason": "   "}, headers=second), 422)
    no = client.post(f"{url}/reject", json={"reason": "发票抬头不对"}, headers=second)
    assert no.status_code == 200 and no.json["state"] == "rejected"
    assert no.json["rejection_reason"] == "发票抬头不对" and no.json["entry_id"] is None
    assert_error(client.post(f"{url}/approve", headers=second), 409, "expense_rejected")
    again = client.post(f"{url}/reject", json={"reason": "again"}, headers=second)
    assert_error(again, 409, "not_pending")
    assert count(demo_app, LedgerEntry) == 0


def test_small_expense_posts_and_negative_is_refused(demo_app, client, org, cadre):
    r = expense(client, org, cadre, 3_000)
    assert r.status_code == 201 and r.json["state"] == "posted"
    assert_error(expense(client, org, cadre, -3_000), 422, "negative_amount")
    assert_error(expense(client, org, cadre, 100, paid_from="pocket"), 422)
    assert count(demo_app, Expense) == 1


def test_month_close_and_no_entry_in_the_closed_month(demo_app, client, org, cadre):
    assert deposit(client, org, cadre, debit=10_001, credit=10_001).status_code == 201
    r = client.post(f"{base(org, cadre)}/month-closes", headers=cadre, json={"month": "2026-10"})
    assert r.status_code == 201, r.json
    assert r.json["net_income_fen"] == 10_001
    assert (r.json["governance_fund_fen"], r.json["distributable_fen"]) == (4_000, 6_001)
    assert_error(
        client.post(f"{base(org, cadre)}/month-closes", headers=cadre, json={"month": "2026-10"}),
        409,
        "month_closed",
    )
    assert_error(deposit(client, org, cadre, day="2026-10-20"), 422, "period_closed")
    assert_error(expense(client, org, cadre, 100, spent_on="2026-10-20"), 422, "period_closed")
    assert count(demo_app, LedgerEntry) == 2
    listed = client.get(f"{base(org, cadre)}/month-closes", headers=cadre).json
    assert [m["month"] for m in listed] == ["2026-10-01"]


@pytest.mark.parametrize(
    ("month", "code"), [("2026-11", "month_not_over"), ("2026-13", "invalid_month")]
)
def test_bad_months_are_refused(demo_app, client, org, cadre, month, code):
    r = client.post(f"{base(org, cadre)}/month-closes", headers=cadre, json={"month": month})
    assert_error(r, 422, code)
    assert count(demo_app, MonthClose) == 0


@pytest.mark.parametrize(
    "fen",
    [
        2**63,  # past every integer column: was an OverflowError and a 500
        2**63 - 1,
        10**13 * 100,  # ¥10 trillion
        MAX_FEN + 1,
    ],
)
def test_amounts_past_the_limit_are_a_4xx_not_a_500(demo_app, client, org, cadre, fen):
    err = assert_error(deposit(client, org, cadre, debit=fen, credit=fen), 422, "validation_error")
    assert "金额太大" in str(err["details"])  # the API speaks Chinese unless asked
    err = assert_error(expense(client, org, cadre, fen), 422, "validation_error")
    assert "金额太大" in str(err["details"])
    assert count(demo_app, LedgerEntry) == 0 and count(demo_app, Expense) == 0


def test_the_limit_itself_is_accepted(client, org, cadre):
    r = deposit(client, org, cadre, debit=MAX_FEN, credit=MAX_FEN)
    assert r.status_code == 201, r.json


def test_the_limit_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    line = spec["components"]["schemas"]["Line"]["properties"]
    assert line["debit_fen"]["maximum"] == MAX_FEN and line["credit_fen"]["maximum"] == MAX_FEN


@pytest.mark.parametrize(
    ("day", "code"), [("1999-12-31", "date_too_old"), ("2025-11-01", "date_too_old")]
)
def test_entries_obey_the_expense_date_window(demo_app, client, org, cadre, day, code):
    assert_error(deposit(client, org, cadre, day=day), 422, code)
    assert_error(expense(client, org, cadre, 100, spent_on=day), 422, code)
    assert count(demo_app, LedgerEntry) == 0
    # A year back is still fine for both.
    assert deposit(client, org, cadre, day="2025-11-23").status_code == 201
