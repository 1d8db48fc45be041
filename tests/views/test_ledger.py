"""The cadre's ledger pages: who may see them, the verify result, expenses, periods."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from market.extensions import db
from market.models import Expense, LedgerEntry, Organization, Role, User
from market.services.auth import accounts
from market.services.common.clock import FixedClock
from market.services.ledger import entries as ledger
from market.services.ledger import periods as ledger_periods
from market.services.ledger.entries import Line
from tests import builders as b
from tests.conftest import csrf_from
from tests.ledger_helpers import tamper

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


@pytest.fixture
def org_id(demo_app):
    demo_app.config["CLOCK"] = FixedClock(NOW)
    with demo_app.app_context():
        org = db.session.scalars(select(Organization)).one()
        second = accounts.create_user("13800000099", "赵会计", "secret-pass-1")
        accounts.grant_role(second, org, Role.CADRE)
        db.session.commit()
        return org.id


def post_income(app, org_id, fen, day=date(2026, 10, 15), key="t:1"):
    with app.app_context():
        entry = ledger.post(
            org_id,
            day,
            "测试收入",
            key,
            [
                Line(ledger.account(org_id, "office_cash"), debit_fen=fen),
                Line(ledger.account(org_id, "fee_income"), credit_fen=fen),
            ],
        )
        db.session.commit()
        return entry.id


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_cadre_sees_verify_head_balances_and_journal(demo_app, client, auth, org_id):
    post_income(demo_app, org_id, 12_345)
    auth.login()
    page = client.get(f"/ledger/{org_id}/?lang=en")
    assert page.status_code == 200
    assert "Intact: 1 entries checked" in page.text
    with demo_app.app_context():
        head = ledger.chain_head(org_id)
    assert head.entry_hash in page.text and "¥123.45" in page.text and "测试收入" in page.text
    assert client.get("/ledger/").status_code == 302


def test_the_journal_pages_back_to_the_first_entry(demo_app, client, auth, org_id):
    for n in range(1, 53):  # 52 entries: 50 on the first page, 2 on the second
        post_income(demo_app, org_id, 100 + n, key=f"t:{n}")
    auth.login()
    first = client.get(f"/ledger/{org_id}/?lang=en")
    assert "The latest 50 entries" in first.text and "1 / 2" in first.text
    assert "#52 ·" in first.text and "#3 ·" in first.text and "#2 ·" not in first.text
    assert f"/ledger/{org_id}/?page=2#journal" in first.text and "Newer" not in first.text
    second = client.get(f"/ledger/{org_id}/?page=2&lang=en")
    assert "Entries no. 2 to 1, newest first." in second.text
    assert "#2 ·" in second.text and "#1 ·" in second.text and "#3 ·" not in second.text
    assert "Older" not in second.text and "Newer" in second.text
    for bad in ("99", "x", "-1", "9" * 30):  # past the end or nonsense: a page, never a 500
        assert client.get(f"/ledger/{org_id}/?page={bad}").status_code == 200


def test_the_page_names_an_altered_entry(demo_app, client, auth, org_id):
    post_income(demo_app, org_id, 100, key="t:1")
    bad = post_income(demo_app, org_id, 200, key="t:2")
    with demo_app.app_context():
        tamper(
            "UPDATE ledger_lines SET credit_fen = 300, debit_fen = 0 WHERE entry_id = :e "
            "AND credit_fen > 0",
            e=bad,
        )
    auth.login()
    page = client.get(f"/ledger/{org_id}/?lang=en")
    assert f"BROKEN at entry no. 2 (id {bad})" in page.text


@pytest.mark.parametrize("phone", ["13800000002", "13800000003"])
def test_guides_and_vendors_are_refused(client, auth, org_id, phone):
    auth.login(phone=phone)
    assert client.get(f"/ledger/{org_id}/").status_code == 403


def test_another_organization_is_404(client, auth, org_id):
    auth.login()
    assert client.get("/ledger/999/").status_code == 404


def expense_form(client, org_id, amount, receipt=None, **extra):
    page = client.get(f"/ledger/{org_id}/expenses")
    with client.application.app_context():
        cleaning = ledger.account(org_id, "cleaning").id
    data = {
        "csrf_token": csrf_from(page.text),
        "account_id": str(cleaning),
        "amount": amount,
        "spent_on": "2026-11-20",
        "description": "保洁",
        "paid_from": "office_cash",
        **extra,
    }
    if receipt is not None:
        data["receipt"] = (receipt, "r.jpg")
    return client.post(
        f"/ledger/{org_id}/expenses?lang=en", data=data, content_type="multipart/form-data"
    )


def jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (30, 30), "white").save(buf, format="JPEG")
    buf.seek(0)
    return buf


def test_expense_form_refuses_missing_receipt_then_a_second_cadre_approves(
    demo_app, client, auth, org_id
):
    auth.login()
    r = expense_form(client, org_id, "600")
    assert r.status_code == 422 and "need a photo of the receipt" in r.text
    assert 'value="保洁"' in r.text  # what was typed is kept
    assert count(demo_app, Expense) == 0
    assert expense_form(client, org_id, "-5").status_code == 422
    assert expense_form(client, org_id, "600", receipt=jpeg()).status_code == 302
    with demo_app.app_context():
        expense_id = db.session.scalar(select(Expense.id))
    page = client.get(f"/ledger/{org_id}/expenses?lang=en")
    assert "Waiting for a second cadre" in page.text and "¥600.00" in page.text
    # The recorder is not offered the approve button, and is told who can approve.
    assert f"/ledger/expenses/{expense_id}/approve" not in page.text
    assert "another cadre must approve it (赵会计)" in page.text
    token = csrf_from(page.text)
    own = client.post(f"/ledger/expenses/{expense_id}/approve?lang=en", data={"csrf_token": token})
    assert own.status_code == 403 and "Another cadre must approve" in own.text
    assert count(demo_app, LedgerEntry) == 0
    photo = client.get(f"/ledger/expenses/{expense_id}/receipt")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    photo.close()
    auth.logout()
    auth.login(phone="13800000099", password="secret-pass-1")
    page = client.get(f"/ledger/{org_id}/expenses?lang=en")
    assert f"/ledger/expenses/{expense_id}/approve" in page.text
    # Office cash holds nothing yet: the warning and the box come before approving.
    assert "Approving takes Cash at the office below zero (-¥600.00)" in page.text
    assert f'name="a{expense_id}-acknowledge_negative"' in page.text
    url = f"/ledger/expenses/{expense_id}/approve?lang=en"
    refused = client.post(url, data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 422 and "tick the box to approve anyway" in refused.text
    assert '<details class="confirm-step" open>' in refused.text
    assert count(demo_app, LedgerEntry) == 0
    ok = client.post(
        url,
        data={"csrf_token": csrf_from(page.text), f"a{expense_id}-acknowledge_negative": "y"},
    )
    assert ok.status_code == 302 and count(demo_app, LedgerEntry) == 1


def test_a_second_cadre_rejects_an_expense_from_the_page(demo_app, client, auth, org_id):
    auth.login()
    assert expense_form(client, org_id, "600", receipt=jpeg()).status_code == 302
    with demo_app.app_context():
        expense_id = db.session.scalar(select(Expense.id))
    auth.logout()
    auth.login(phone="13800000099", password="secret-pass-1")
    page = client.get(f"/ledger/{org_id}/expenses?lang=en")
    assert f'action="/ledger/expenses/{expense_id}/reject"' in page.text
    token = csrf_from(page.text)
    url = f"/ledger/expenses/{expense_id}/reject?lang=en"
    empty = client.post(url, data={f"x{expense_id}-csrf_token": token, f"x{expense_id}-reason": ""})
    assert empty.status_code == 422 and "why the expense is rejected" in empty.text
    assert '<details class="confirm-step" open>' in empty.text  # the form stays open
    done = client.post(
        url, data={f"x{expense_id}-csrf_token": token, f"x{expense_id}-reason": "没有发票"}
    )
    assert done.status_code == 302
    page = client.get(f"/ledger/{org_id}/expenses?lang=en").text
    assert "rejected by 赵会计: 没有发票" in page and "Nothing waiting." in page
    assert count(demo_app, LedgerEntry) == 0


def test_an_account_below_zero_is_flagged(demo_app, client, auth, org_id):
    auth.login()
    with demo_app.app_context():
        cash = ledger.balances(org_id).get(ledger.account(org_id, "office_cash").id, 0)
        db.session.get(Organization, org_id).expense_approval_threshold_fen = 10_000_000
        db.session.commit()
    over = cash + 10_000  # ¥100 more than the office holds
    r = expense_form(client, org_id, f"{over // 100}.{over % 100:02d}")
    assert r.status_code == 302
    flashed = client.get(f"/ledger/{org_id}/expenses?lang=en").text
    assert "Cash at the office is now below zero (-¥100.00)" in flashed
    page = client.get(f"/ledger/{org_id}/?lang=en").text
    assert "Below zero" in page and "-¥100.00" in page


def test_the_demo_ledger_has_no_account_below_zero(demo_app, client, auth, org_id):
    auth.login()
    assert "Below zero" not in client.get(f"/ledger/{org_id}/?lang=en").text


def test_closing_a_month_shows_the_arithmetic(demo_app, client, auth, org_id):
    post_income(demo_app, org_id, 10_001)
    auth.login()
    page = client.get(f"/ledger/{org_id}/periods")
    r = client.post(
        f"/ledger/{org_id}/months",
        data={"csrf_token": csrf_from(page.text), "month": "2026-10"},
    )
    assert r.status_code == 302
    page = client.get(f"/ledger/{org_id}/periods?lang=en")
    assert "Governance fund: ¥100.01 × 40% = ¥40.00" in page.text
    assert "Distributable: ¥100.01 − ¥40.00 = ¥60.01" in page.text
    again = client.post(
        f"/ledger/{org_id}/months?lang=en",
        data={"csrf_token": csrf_from(page.text), "month": "2026-11"},
    )
    assert again.status_code == 422 and "only after it has ended" in again.text


def test_a_closed_months_categories_read_in_the_pages_language(demo_app, client, auth, org_id):
    post_income(demo_app, org_id, 10_000)
    with demo_app.app_context():
        ledger.post(
            org_id,
            date(2026, 10, 16),
            "保洁",
            "t:clean",
            [
                Line(ledger.account(org_id, "cleaning"), debit_fen=2_000),
                Line(ledger.account(org_id, "office_cash"), credit_fen=2_000),
            ],
        )
        org = db.session.get(Organization, org_id)
        cadre = db.session.scalar(select(User).where(User.phone == "13800000001"))
        ledger_periods.close_month(org, date(2026, 10, 1), cadre, at=NOW)
        db.session.commit()
    auth.login()
    en = client.get(f"/ledger/{org_id}/periods?lang=en").text
    assert "− Cleaning" in en and "− 保洁费" not in en
    assert "− 保洁费" in client.get(f"/ledger/{org_id}/periods?lang=zh").text


def test_reconciling_a_closed_session_from_the_page(demo_app, client, auth, org_id):
    with demo_app.app_context():
        market = db.session.scalars(select(Organization)).one().markets[0]
        start = NOW - timedelta(days=1)
        s = b.session(
            market,
            starts_at=start,
            state="closed",
            closed_at=start + timedelta(hours=4),
            opened_at=start,
        )
        db.session.commit()
        session_id, day = s.id, s.business_date
    auth.login()
    page = client.get(f"/ledger/{org_id}/periods")
    assert f"/ledger/sessions/{session_id}/reconcile" in page.text
    r = client.post(
        f"/ledger/sessions/{session_id}/reconcile", data={"csrf_token": csrf_from(page.text)}
    )
    assert r.status_code == 302
    with demo_app.app_context():
        assert ledger.is_day_locked(org_id, day)
    again = client.post(
        f"/ledger/sessions/{session_id}/reconcile?lang=en",
        data={"csrf_token": csrf_from(page.text)},
    )
    assert again.status_code == 409 and "already reconciled" in again.text


def test_adding_an_account(demo_app, client, auth, org_id):
    auth.login()
    page = client.get(f"/ledger/{org_id}/accounts")
    r = client.post(
        f"/ledger/{org_id}/accounts",
        data={
            "csrf_token": csrf_from(page.text),
            "code": "5101",
            "name": "垃圾清运费",
            "kind": "expense",
        },
    )
    assert r.status_code == 302
    dup = client.post(
        f"/ledger/{org_id}/accounts?lang=en",
        data={"csrf_token": csrf_from(page.text), "code": "4001", "name": "x", "kind": "income"},
    )
    assert dup.status_code == 422 and "reserved" in dup.text
    assert "垃圾清运费" in client.get(f"/ledger/{org_id}/accounts").text


def test_the_page_checks_the_books_against_the_operations_on_demand(demo_app, client, auth, org_id):
    from sqlalchemy import text

    from market.models import Market

    auth.login()
    page = client.get(f"/ledger/{org_id}/?lang=en")
    assert "Check the books against the operations" in page.text
    assert "Books vs operations: ok." not in page.text
    page = client.get(f"/ledger/{org_id}/?lang=en&operations=1")
    assert "Books vs operations: ok." in page.text
    with demo_app.app_context():
        market = db.session.scalars(select(Market)).first()
        session = b.session(market, starts_at=NOW - timedelta(hours=1), state="open")
        charge = b.charge(b.checkin(session), base_fen=1500)
        charge_id, amount = charge.id, charge.amount_fen
        user_id = db.session.scalar(select(User.id).where(User.phone == "13800000001"))
        db.session.execute(
            text(
                "INSERT INTO payments (charge_id, method, amount_fen, status, recorded_by_id, "
                "recorded_at, confirmed_by_id, confirmed_at) VALUES (:c, 'cash', :fen, "
                "'confirmed', :u, :at, :u, :at)"
            ),
            {"c": charge_id, "fen": amount + 100, "u": user_id, "at": NOW},
        )
        db.session.commit()
    page = client.get(f"/ledger/{org_id}/?lang=en&operations=1")
    assert "Books vs operations: 3 mismatches." in page.text
    assert f"Charge #{charge_id}" in page.text and "paid more than its amount" in page.text
    assert "no ledger posting" in page.text


@pytest.mark.parametrize(
    ("amount", "extra", "message"),
    [
        ("10000000000000", {}, "too large"),  # ¥10 trillion
        (str(2**63), {}, "too large"),
        ("15", {"spent_on": "1999-12-31"}, "at most a year back"),
    ],
)
def test_the_expense_form_keeps_to_the_limits(
    demo_app, client, auth, org_id, amount, extra, message
):
    auth.login()
    r = expense_form(client, org_id, amount, **extra)
    assert r.status_code == 422 and message in r.text
    assert count(demo_app, Expense) == 0


def _hidden(html: str, name: str) -> str:
    import re

    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)[1]


def test_the_month_close_step_shows_what_will_be_booked(demo_app, client, auth, org_id):
    from market.models import MonthClose
    from tests.views.test_confirm_steps import Page

    post_income(demo_app, org_id, 10_001)
    with demo_app.app_context():
        ledger.post(
            org_id,
            date(2026, 10, 16),
            "保洁",
            "t:clean",
            [
                Line(ledger.account(org_id, "cleaning"), debit_fen=2_000),
                Line(ledger.account(org_id, "office_cash"), credit_fen=2_000),
            ],
        )
        db.session.commit()
    auth.login()
    html = client.get(f"/ledger/{org_id}/periods?lang=en").text
    text = "".join(Page(html).step("Close month").text.split())
    # Income, relief, expenses, net, the fund's share and the rest, before the button.
    for figure in (
        "Stall fee income ¥100.01",
        "− Fee relief ¥0.00",
        "− Cleaning ¥20.00",
        "= Net income ¥80.01",
        "Governance fund (40%, rounded down) ¥32.00",
        "Distributable ¥48.01",
    ):
        assert "".join(figure.split()) in text, text
    r = client.post(
        f"/ledger/{org_id}/months",
        data={
            "csrf_token": csrf_from(html),
            "month": "2026-10",
            "figures": _hidden(html, "figures"),
        },
    )
    assert r.status_code == 302
    with demo_app.app_context():
        close = db.session.scalar(select(MonthClose))
        booked = (close.fee_income_fen, close.expenses_fen, close.net_income_fen)
        assert booked == (10_001, 2_000, 8_001)
        assert (close.governance_fund_fen, close.distributable_fen) == (3_200, 4_801)


def test_a_month_close_after_the_figures_changed_shows_them_again(demo_app, client, auth, org_id):
    from tests.views.test_confirm_steps import Page

    post_income(demo_app, org_id, 10_001)
    auth.login()
    html = client.get(f"/ledger/{org_id}/periods?lang=en").text
    post_income(demo_app, org_id, 5_000, day=date(2026, 10, 20), key="t:late")
    r = client.post(
        f"/ledger/{org_id}/months?lang=en",
        data={
            "csrf_token": csrf_from(html),
            "month": "2026-10",
            "figures": _hidden(html, "figures"),
        },
    )
    assert r.status_code == 409 and "changed since the page was shown" in r.text
    step = Page(r.text).step("Close month")
    assert step.is_open and "Stallfeeincome¥150.01" in "".join(step.text.split())
    with demo_app.app_context():
        assert not ledger.is_month_closed(org_id, date(2026, 10, 1))
    again = client.post(
        f"/ledger/{org_id}/months",
        data={
            "csrf_token": csrf_from(r.text),
            "month": "2026-10",
            "figures": _hidden(r.text, "figures"),
        },
    )
    assert again.status_code == 302


def test_the_reconcile_list_shows_each_sessions_takings(demo_app, client, auth, org_id):
    with demo_app.app_context():
        market = db.session.scalars(select(Organization)).one().markets[0]
        start = NOW - timedelta(days=1)
        s = b.session(market, starts_at=start, state="closed", closed_at=start + timedelta(hours=4))
        zone = b.zone(market, code="R")
        paid = b.charge(b.checkin(s, b.stall(zone, code="R-1")), base_fen=1_500)
        b.payment(paid, 1_500)
        half = b.charge(b.checkin(s, b.stall(zone, code="R-2")), base_fen=2_000)
        b.payment(half, 800)
        db.session.commit()
        label = f"{s.business_date.isoformat()} {market.name}"
    auth.login()
    html = client.get(f"/ledger/{org_id}/periods?lang=en").text
    item = html[html.index(label) :]
    item = "".join(item[: item.index("</li>")].split())
    assert 'Takings</dt><ddclass="nowrap">¥35.00' in item
    assert 'Paid</dt><ddclass="nowrap">¥23.00' in item
    assert 'Unpaid</dt><ddclass="nowrapbad">¥12.00' in item
