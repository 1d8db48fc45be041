"""Events post to the ledger once, in their own transaction, by the documented scheme."""

import pytest

from market.extensions import db
from market.models import CashHandover, HandoverItem, HandoverState, utcnow
from market.services.checkin import payments
from market.services.ledger import entries as ledger
from market.services.ledger import postings as ledger_postings
from market.services.sessions import tide as sessions
from tests.ledger_helpers import NOW, balance, charged, community, entries, lines_of


@pytest.fixture
def w(ctx):
    return community()


def guide_key(w):
    return ledger.guide_cash_account(w["org"].id, w["guide"]).code


def test_cash_debits_the_guides_cash_and_credits_fee_income(w):
    charge = charged(w)
    p = payments.record_cash(charge, 1500, w["guide"])
    [entry] = entries(w["org"].id)
    assert entry.source_key == f"payment:{p.id}"
    assert lines_of(entry) == {(guide_key(w), 1500, 0), ("fee_income", 0, 1500)}
    assert ledger.verify().ok


def test_collection_code_posts_when_confirmed_not_when_reported(w):
    charge = charged(w)
    vendor_user = charge.checkin.vendor.user
    p = payments.report_collection_code(charge, 1500, "wx123", vendor_user)
    assert entries(w["org"].id) == []
    payments.confirm(p, w["guide"])
    payments.confirm(p, w["guide"])  # twice changes nothing
    [entry] = entries(w["org"].id)
    assert lines_of(entry) == {("collection_code", 1500, 0), ("fee_income", 0, 1500)}


def test_waiver_goes_to_the_contra_account(w):
    charge = charged(w)
    payments.waive(charge, 500, "家中困难", w["cadre"])
    [entry] = entries(w["org"].id)
    assert lines_of(entry) == {("fee_relief", 500, 0), ("fee_income", 0, 500)}


def test_void_posts_the_reversing_entry_pointing_at_the_original(w):
    charge = charged(w)
    p = payments.record_cash(charge, 1500, w["guide"])
    reversal = payments.void(p, w["cadre"], "收错了")
    original, reversing = entries(w["org"].id)
    assert reversing.reverses_id == original.id
    assert reversing.source_key == f"payment:{reversal.id}"
    assert lines_of(reversing) == {(guide_key(w), 0, 1500), ("fee_income", 1500, 0)}
    assert balance(w["org"].id, "fee_income") == 0
    assert ledger.verify().ok


def test_voiding_a_pending_report_posts_nothing(w):
    charge = charged(w)
    p = payments.report_collection_code(charge, 1500, None, charge.checkin.vendor.user)
    payments.void(p, w["guide"], "重复上报")
    assert entries(w["org"].id) == []


def close(w):
    s = sessions.locked(w["session"].id)
    return sessions.end_session(s, NOW, w["cadre"])


def test_session_close_books_unpaid_to_receivables_and_relief_gross(w):
    paid = charged(w, base_fen=1500)
    unpaid = charged(w, base_fen=1500, relief_fen=750)
    payments.record_cash(paid, 1500, w["guide"])
    payments.record_cash(unpaid, 250, w["guide"])
    close(w)
    closing = entries(w["org"].id)[-1]
    assert closing.source_key == f"session-close:{w['session'].id}"
    assert lines_of(closing) == {
        ("receivables", 500, 0),
        ("fee_relief", 750, 0),
        ("fee_income", 0, 1250),
    }
    org_id = w["org"].id
    # Gross fee income is base of both charges; net of relief it is what the charges ask.
    assert balance(org_id, "fee_income") == 3000
    assert balance(org_id, "fee_income") - balance(org_id, "fee_relief") == 1500 + 750
    # Paid later: the receivable is settled, income is not counted twice.
    payments.record_cash(unpaid, 500, w["guide"])
    assert lines_of(entries(org_id)[-1]) == {(guide_key(w), 500, 0), ("receivables", 0, 500)}
    assert balance(org_id, "receivables") == 0 and balance(org_id, "fee_income") == 3000
    assert ledger.verify().ok


def test_a_closed_session_with_nothing_owed_posts_nothing_more(w):
    charge = charged(w)
    payments.record_cash(charge, 1500, w["guide"])
    close(w)
    assert len(entries(w["org"].id)) == 1


def test_void_after_close_reopens_the_receivable_instead_of_unbooking_income(w):
    org_id = w["org"].id
    charge = charged(w, base_fen=1000)
    p = payments.record_cash(charge, 400, w["guide"])
    close(w)
    assert balance(org_id, "receivables") == 600
    payments.void(p, w["cadre"], "假币")
    reversing = entries(org_id)[-1]
    assert lines_of(reversing) == {(guide_key(w), 0, 400), ("receivables", 400, 0)}
    assert balance(org_id, "receivables") == 1000 and balance(org_id, "fee_income") == 1000
    payments.record_cash(charge, 1000, w["guide"])
    assert balance(org_id, "receivables") == 0 and balance(org_id, "fee_income") == 1000
    assert ledger.verify().ok


def handover(w, expected, received):
    h = CashHandover(
        organization_id=w["org"].id,
        market_id=w["market"].id,
        guide_id=w["guide"].id,
        expected_fen=expected,
        declared_fen=expected,
        received_fen=received,
        state=HandoverState.CONFIRMED,
        confirmed_by_id=w["cadre"].id,
        confirmed_at=utcnow(),
    )
    db.session.add(h)
    db.session.flush()
    return h


@pytest.mark.parametrize(
    ("received", "over_short"),
    [(3000, None), (2900, ("over_short", 100, 0)), (3050, ("over_short", 0, 50))],
)
def test_handover_moves_cash_to_the_office_and_keeps_the_difference(w, received, over_short):
    org_id = w["org"].id
    for _ in range(2):
        payments.record_cash(charged(w), 1500, w["guide"])
    h = handover(w, 3000, received)
    db.session.add_all(
        HandoverItem(handover_id=h.id, payment_id=pid)
        for pid in (e.source_key.split(":")[1] for e in entries(org_id))
    )
    entry = ledger_postings.post_handover(h, w["cadre"])
    expected = {("office_cash", received, 0), (guide_key(w), 0, 3000)}
    if over_short:
        expected.add(over_short)
    assert entry.source_key == f"handover:{h.id}" and lines_of(entry) == expected
    assert ledger.balances(org_id)[ledger.guide_cash_account(org_id, w["guide"]).id] == 0
    assert ledger_postings.post_handover(h, w["cadre"]).id == entry.id  # once
    assert ledger.verify().ok


def test_an_unconfirmed_handover_does_not_post(w):
    h = handover(w, 100, 100)
    h.state, h.received_fen, h.confirmed_at = HandoverState.PENDING, None, None
    with pytest.raises(ValueError):
        ledger_postings.post_handover(h, w["cadre"])


def test_concurrent_payments_keep_one_contiguous_chain(w, app):
    """Threads with their own connections pay at once: every payment posts, seq has no gap
    and no fork, verify passes (PostgreSQL: the advisory lock; SQLite: BEGIN IMMEDIATE)."""
    import threading

    from market.models import Charge, User

    charge_ids = [charged(w).id for _ in range(6)]
    guide_id = w["guide"].id
    db.session.commit()
    barrier = threading.Barrier(len(charge_ids))
    errors = []

    def pay(charge_id):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                charge = db.session.get(Charge, charge_id)
                payments.record_cash(charge, charge.amount_fen, db.session.get(User, guide_id))
                db.session.commit()
            except Exception as e:  # noqa: BLE001  (reported below)
                db.session.rollback()
                errors.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay, args=(c,)) for c in charge_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    chain = entries(w["org"].id)
    assert [e.seq for e in chain] == list(range(1, len(charge_ids) + 1))
    assert all(b.prev_hash == a.entry_hash for a, b in zip(chain, chain[1:], strict=False))
    assert ledger.verify().ok
