"""The books against the operations: a clean trade day checks out; each link an attacker with
the database file can break (an extra payment, a posting removed or altered, a close posting
gone, a void, waiver or hand-over unposted, a posting whose operation is gone, a pending
payment with a posting, a charge neither settled nor owed, a guide's cash, the governance fund) is
named, with what was expected and found."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from market.extensions import db
from market.models import Charge, LedgerAccount, LedgerEntry, LedgerLine, MonthClose, Payment
from market.services.checkin import payments
from market.services.common.clock import FixedClock
from market.services.guide import handovers
from market.services.ledger import chain
from market.services.ledger import entries as ledger
from market.services.ledger import operations as ops
from market.services.ledger import periods as ledger_periods
from market.services.sessions import tide as sessions
from tests.ledger_helpers import NOW, charged, community

AFTER_NOVEMBER = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
LEDGER_TABLES = ("ledger_entries", "ledger_lines")


def attack(*statements: tuple[str, dict]) -> None:
    """Raw SQL with the ledger's append-only triggers out of the way, as someone holding the
    database file would run it; committed."""
    db.session.commit()
    postgres = db.session.get_bind().dialect.name == "postgresql"
    for table in LEDGER_TABLES:
        if postgres:
            db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for action in ("update", "delete"):
                db.session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{action}"))
    for sql, params in statements:
        db.session.execute(text(sql), params)
    if postgres:
        for table in LEDGER_TABLES:
            db.session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    db.session.commit()


def entry_of(org_id: int, key: str) -> LedgerEntry:
    return db.session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.organization_id == org_id, LedgerEntry.source_key == key
        )
    )


def remove_entry(org_id: int, key: str) -> None:
    entry_id = entry_of(org_id, key).id
    attack(
        ("DELETE FROM ledger_lines WHERE entry_id = :id", {"id": entry_id}),
        ("DELETE FROM ledger_entries WHERE id = :id", {"id": entry_id}),
    )


def named(result, kind, subject, subject_id):
    return [
        m
        for m in result.mismatches
        if (m.kind, m.subject, m.subject_id) == (kind, subject, subject_id)
    ]


@pytest.fixture
def day(ctx):
    """One evening through the services: cash, a waiver, a collection code confirmed, a void,
    a rejected report, relief by the rules, a report still pending at the close (receivables),
    its confirmation and a cash payment after the close,
    the guide's hand-over (short by ¥1) and the month closed."""
    ctx.config["CLOCK"] = clock = FixedClock(NOW)
    w = community()
    guide, cadre = w["guide"], w["cadre"]
    cash = charged(w)
    relieved = charged(w, base_fen=1500, relief_fen=750)
    coded = charged(w)
    voided = charged(w, base_fen=1000)
    rejected = charged(w, base_fen=1000)
    late = charged(w)
    w["cash_payment"] = payments.record_cash(cash, 1500, guide)
    payments.waive(relieved, 250, "家中困难", cadre)
    report = payments.report_collection_code(coded, 1500, "wx1", coded.checkin.vendor.user)
    w["coded_payment"] = payments.confirm(report, guide)
    payments.void(payments.record_cash(voided, 1000, guide), cadre, "收错了")
    payments.reject_report(
        payments.report_collection_code(rejected, 1000, None, rejected.checkin.vendor.user),
        guide,
        "账单上没有",
    )
    late_report = payments.report_collection_code(late, 1500, "wx2", late.checkin.vendor.user)
    clock.advance(hours=3)
    sessions.end_session(sessions.locked(w["session"].id), clock(), cadre)
    clock.advance(minutes=10)
    payments.confirm(late_report, guide)  # pending at the close: confirmed against receivables
    payments.record_cash(relieved, 300, guide)  # part of the receivable, after the close
    held = handovers.unhanded_fen(guide.id, w["market"].id)
    w["handover"] = handovers.hand_over(guide, w["market"], held, clock())
    db.session.flush()
    handovers.confirm(w["handover"], cadre, held - 100, clock(), note="短款一元")
    ledger_periods.close_month(w["org"], date(2026, 11, 1), cadre, at=AFTER_NOVEMBER)
    db.session.commit()
    w.update(cash=cash, relieved=relieved, coded=coded, voided=voided)
    return w


def test_a_clean_trade_day_matches_its_books(day):
    result = ops.verify_operations()
    assert result.ok, [str(m) for m in result.mismatches]
    assert result.checked["charges"] == 6 and result.checked["payments"] == 9
    assert result.checked["ended sessions"] == 1 and result.checked["hand-overs"] == 1
    assert ops.verify_operations(day["org"].id).ok
    close = entry_of(day["org"].id, f"session-close:{day['session'].id}")
    assert close is not None  # the day did book receivables and relief at its close
    assert db.session.scalar(select(MonthClose.governance_fund_fen)) > 0
    assert chain.verify().ok


def test_a_charge_paid_four_times_over_is_named(day):
    """Three more confirmed cash payments slipped into the payments table: the chain is
    intact (nothing was posted), the books check names the charge and each payment."""
    charge = day["cash"]
    for _ in range(3):
        attack(
            (
                "INSERT INTO payments (charge_id, method, amount_fen, status, recorded_by_id, "
                "recorded_at, confirmed_by_id, confirmed_at) VALUES (:c, 'cash', 1500, "
                "'confirmed', :g, :at, :g, :at)",
                {"c": charge.id, "g": day["guide"].id, "at": NOW},
            )
        )
    assert chain.verify().ok
    result = ops.verify_operations()
    [overpaid] = named(result, ops.OVERPAID, "charge", charge.id)
    assert (overpaid.expected, overpaid.found) == (1500, 6000)
    assert len([m for m in result.mismatches if m.kind == ops.POSTING_MISSING]) == 3
    # The guide's cash account misses the cash the records now say they took.
    [cash] = named(result, ops.GUIDE_CASH, "guide", day["guide"].id)
    assert cash.expected - cash.found == 4500
    assert f"charge #{charge.id}: paid more than its amount" in str(overpaid)


def test_a_payment_without_its_posting_is_named(day):
    payment = day["coded_payment"]
    remove_entry(day["org"].id, f"payment:{payment.id}")
    [missing] = named(ops.verify_operations(), ops.POSTING_MISSING, "payment", payment.id)
    assert (missing.expected, missing.found, missing.ref) == (1500, None, f"payment:{payment.id}")


def test_a_posting_with_another_amount_is_named(day):
    payment = day["coded_payment"]
    entry = entry_of(day["org"].id, f"payment:{payment.id}")
    attack(
        (
            "UPDATE ledger_lines SET debit_fen = 100 WHERE entry_id = :id AND debit_fen > 0",
            {"id": entry.id},
        ),
        (
            "UPDATE ledger_lines SET credit_fen = 100 WHERE entry_id = :id AND credit_fen > 0",
            {"id": entry.id},
        ),
    )
    [wrong] = named(ops.verify_operations(), ops.POSTING_AMOUNT, "payment", payment.id)
    assert (wrong.expected, wrong.found) == (1500, 100)


def test_a_void_and_a_waiver_without_their_postings_are_named(day):
    confirmed = select(Payment).where(Payment.status == "confirmed")
    void = db.session.scalar(confirmed.where(Payment.reverses_id.is_not(None)))
    waiver = db.session.scalar(confirmed.where(Payment.method == "waiver"))
    remove_entry(day["org"].id, f"payment:{void.id}")
    remove_entry(day["org"].id, f"payment:{waiver.id}")
    result = ops.verify_operations()
    [lost_void] = named(result, ops.POSTING_MISSING, "void", void.id)
    [lost_waiver] = named(result, ops.POSTING_MISSING, "waiver", waiver.id)
    assert (lost_void.expected, lost_waiver.expected) == (1000, 250)
    assert f"void #{void.id} (payment:{void.id}): no ledger posting" in str(lost_void)


def test_a_hand_over_without_its_posting_or_with_another_amount_is_named(day):
    handover_id, org_id = day["handover"].id, day["org"].id
    entry = entry_of(org_id, f"handover:{handover_id}")
    attack(("UPDATE ledger_lines SET debit_fen = 1 WHERE entry_id = :e AND debit_fen > 0",
            {"e": entry.id}))  # fmt: skip
    [wrong] = named(ops.verify_operations(), ops.POSTING_AMOUNT, "handover", handover_id)
    assert wrong.found != wrong.expected
    remove_entry(org_id, f"handover:{handover_id}")
    [missing] = named(ops.verify_operations(), ops.POSTING_MISSING, "handover", handover_id)
    assert missing.expected == wrong.expected and missing.found is None


def test_a_posting_whose_operation_is_gone_is_named(day):
    """A payment's posting re-keyed to a payment that never existed: the posting is an orphan
    and the payment has none."""
    payment = day["cash_payment"]
    entry = entry_of(day["org"].id, f"payment:{payment.id}")
    attack(("UPDATE ledger_entries SET source_key = 'payment:999999' WHERE id = :id",
            {"id": entry.id}))  # fmt: skip
    result = ops.verify_operations()
    [orphan] = named(result, ops.POSTING_ORPHAN, "entry", entry.id)
    assert orphan.ref == "payment:999999"
    assert named(result, ops.POSTING_MISSING, "payment", payment.id)


def test_a_pending_payment_with_a_posting_is_named(day):
    """A confirmed payment set back to pending in the table: its posting is now for money the
    community never confirmed, and its charge is short."""
    payment = day["coded_payment"]
    attack(("UPDATE payments SET status = 'pending' WHERE id = :id", {"id": payment.id}))
    result = ops.verify_operations()
    [unexpected] = named(result, ops.POSTING_UNEXPECTED, "payment", payment.id)
    assert unexpected.found == 1500
    assert named(result, ops.UNSETTLED, "charge", payment.charge_id)


def test_a_charge_neither_settled_nor_receivable_is_named(day):
    """The relieved charge still owed at the close, its receivable mark removed: the session
    ended with it neither paid nor owed in the books."""
    charge = day["relieved"]
    attack(("UPDATE charges SET receivable_at = NULL WHERE id = :id", {"id": charge.id}))
    [unsettled] = named(ops.verify_operations(), ops.UNSETTLED, "charge", charge.id)
    amount = db.session.get(Charge, charge.id).amount_fen
    assert unsettled.expected == amount and unsettled.found == 250 + 300  # waived + paid


def test_a_closed_session_without_its_close_posting_is_named(day):
    session_id = day["session"].id
    remove_entry(day["org"].id, f"session-close:{session_id}")
    result = ops.verify_operations()
    [missing] = named(result, ops.CLOSE_MISSING, "session", session_id)
    assert missing.expected == 750 and missing.found is None  # the relief it had to book


def test_a_close_posting_with_other_receivables_is_named(day):
    """The close posting's receivable line lowered (and income with it): what the session's
    charges still owe no longer matches the books."""
    org_id, session_id = day["org"].id, day["session"].id
    entry = entry_of(org_id, f"session-close:{session_id}")
    receivables = ledger.account(org_id, "receivables").id
    income = ledger.account(org_id, "fee_income").id
    attack(
        (
            "UPDATE ledger_lines SET debit_fen = debit_fen - 100 "
            "WHERE entry_id = :e AND account_id = :a",
            {"e": entry.id, "a": receivables},
        ),
        (
            "UPDATE ledger_lines SET credit_fen = credit_fen - 100 "
            "WHERE entry_id = :e AND account_id = :a",
            {"e": entry.id, "a": income},
        ),
    )
    [wrong] = named(ops.verify_operations(), ops.RECEIVABLES, "session", session_id)
    # Still owed: 500 of the relieved charge less 300 paid later, the voided and the rejected
    # 1000 each; the late report was confirmed in full.
    assert (wrong.expected, wrong.found) == (2200, 2100)


def test_a_guide_cash_mismatch_is_named(day):
    """The hand-over's credit to the guide's cash moved to the office: the hand-over still
    posts its amount, but the guide's account no longer is cash taken minus handed over."""
    org_id, guide = day["org"].id, day["guide"]
    entry = entry_of(org_id, f"handover:{day['handover'].id}")
    guide_cash = db.session.scalar(
        select(LedgerAccount.id).where(LedgerAccount.guide_user_id == guide.id)
    )
    attack(
        (
            "UPDATE ledger_lines SET account_id = :office WHERE entry_id = :e AND account_id = :g",
            {"office": ledger.account(org_id, "office_cash").id, "e": entry.id, "g": guide_cash},
        )
    )
    result = ops.verify_operations()
    [cash] = named(result, ops.GUIDE_CASH, "guide", guide.id)
    taken = 1500 + 300  # the voided 1000 went back out
    assert (cash.expected, cash.found) == (0, taken)
    assert [m.kind for m in result.mismatches] == [ops.GUIDE_CASH]


def test_a_governance_fund_mismatch_is_named(day):
    org_id = day["org"].id
    fund = ledger.account(org_id, "governance_fund").id
    close = db.session.scalar(select(MonthClose))
    line = db.session.scalar(
        select(LedgerLine).where(
            LedgerLine.entry_id == close.entry_id, LedgerLine.account_id == fund
        )
    )
    attack(
        ("UPDATE ledger_lines SET credit_fen = credit_fen + 5000 WHERE id = :id", {"id": line.id})
    )
    [gov] = named(ops.verify_operations(), ops.GOVERNANCE_FUND, "organization", org_id)
    assert (gov.expected, gov.found) == (
        close.governance_fund_fen,
        close.governance_fund_fen + 5000,
    )


def test_the_command_exits_1_naming_the_mismatch(day, app):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["ledger", "verify", "--operations"])
    assert r.exit_code == 0, r.output
    assert "ledger intact" in r.output and "books match the operations" in r.output
    charge_id = day["cash"].id
    attack(
        (
            "INSERT INTO payments (charge_id, method, amount_fen, status, recorded_by_id, "
            "recorded_at, confirmed_by_id, confirmed_at, note) VALUES (:c, 'waiver', 1500, "
            "'confirmed', :u, :at, :u, :at, 'x')",
            {"c": charge_id, "u": day["cadre"].id, "at": NOW},
        )
    )
    db.session.remove()
    # The chain alone still passes: plain verify is unchanged.
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    r = runner.invoke(args=["ledger", "verify", "--operations"])
    assert r.exit_code == 1
    assert (
        f"charge #{charge_id}: paid more than its amount: expected ¥15.00, found ¥30.00" in r.output
    )
    assert "waiver #" in r.output and "no ledger posting" in r.output
    other = runner.invoke(args=["ledger", "verify", "--operations", "--organization", "999"])
    assert other.exit_code == 0


def test_a_broken_chain_still_fails_with_operations(day, app):
    entry = entry_of(day["org"].id, f"payment:{day['cash_payment'].id}")
    attack(
        (
            "UPDATE ledger_entries SET description = 'x' WHERE id = :id",
            {"id": entry.id},
        )
    )
    db.session.remove()
    r = app.test_cli_runner().invoke(args=["ledger", "verify", "--operations"])
    assert r.exit_code == 1 and "LEDGER BROKEN" in r.output
    assert "books match the operations" in r.output


def test_a_year_stays_a_few_queries(day):
    """Aggregates, not objects: the number of statements does not grow with the rows."""
    from sqlalchemy import event

    statements = []

    def count(*_args):
        statements.append(1)

    engine = db.session.get_bind()
    db.session.execute(select(1))  # in a transaction already: BEGIN is not counted
    event.listen(engine, "before_cursor_execute", count)
    try:
        ops.verify_operations()
        first = len(statements)
        for _ in range(20):
            payments.record_cash(charged(day), 1500, day["guide"])
        db.session.flush()
        statements.clear()
        ops.verify_operations()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == first <= 20
