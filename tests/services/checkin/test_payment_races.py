"""Money against one charge from several phones at once: exactly one payment of the full fee
wins, on SQLite and on PostgreSQL (READ COMMITTED, where read-check-write races), and a guide
never voids her own cash."""

import threading

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import Charge, LedgerEntry, Payment, User
from market.services.checkin import payments
from market.services.common import idempotency
from market.services.common.clock import FixedClock
from market.services.common.errors import DomainError, Forbidden
from market.services.ledger import entries as ledger
from tests import builders as b
from tests.services.checkin.test_checkins import NOW, go, world  # noqa: F401 (fixture)

N = 8


def race(app, work) -> list[str]:
    """Run `work(charge, index)` in N threads with their own sessions; 'ok' or the refusal."""
    # End this thread's transaction first: on SQLite it may hold the writers' queue.
    db.session.commit()
    barrier = threading.Barrier(N)
    outcomes = []

    def attempt(i):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                work(i)
                db.session.commit()
                outcomes.append("ok")
            except DomainError as e:
                db.session.rollback()
                outcomes.append(e.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.fixture
def fee(world, app):  # noqa: F811
    charge = go(world, world["stalls"][0], world["vendors"][0]).charge  # ¥15
    guides = [world["guide"]] + [
        b.user(role="guide", organization=world["market"].organization, mkt=world["market"])
        for _ in range(N - 1)
    ]
    db.session.commit()
    app.config["CLOCK"] = FixedClock(NOW)
    return charge.id, [g.id for g in guides], world["cadre"].id


def confirmed_fen(charge_id: int) -> int:
    return sum(
        -p.amount_fen if p.reverses_id else p.amount_fen
        for p in db.session.scalars(select(Payment).where(Payment.charge_id == charge_id))
        if p.status == "confirmed"
    )


def test_concurrent_cash_payments_of_the_whole_fee_exactly_one_wins(app, fee):
    charge_id, guide_ids, _ = fee

    def pay(i):
        charge = db.session.get(Charge, charge_id)
        payments.record_cash(charge, 1500, db.session.get(User, guide_ids[i]))

    outcomes = race(app, pay)
    assert sorted(outcomes) == ["ok"] + ["overpayment"] * (N - 1)
    assert confirmed_fen(charge_id) == 1500
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    assert ledger.verify().ok


def test_cash_report_and_waiver_together_never_pay_more_than_the_fee(app, fee):
    charge_id, guide_ids, cadre_id = fee

    def mixed(i):
        charge = db.session.get(Charge, charge_id)
        if i % 3 == 0:
            payments.record_cash(charge, 1500, db.session.get(User, guide_ids[i]))
        elif i % 3 == 1:
            payments.report_collection_code(charge, 1500, None, charge.checkin.vendor.user)
        else:
            payments.waive(charge, 1500, "困难户", db.session.get(User, cadre_id))

    outcomes = race(app, mixed)
    assert outcomes.count("ok") == 1
    rows = db.session.scalars(select(Payment).where(Payment.charge_id == charge_id)).all()
    assert sum(p.amount_fen for p in rows) == 1500


def test_concurrent_confirms_of_one_report_post_once(app, fee):
    charge_id, guide_ids, _ = fee
    charge = db.session.get(Charge, charge_id)
    report = payments.report_collection_code(charge, 1500, "42000", charge.checkin.vendor.user)
    db.session.commit()
    report_id = report.id

    def confirm(i):
        payments.confirm(db.session.get(Payment, report_id), db.session.get(User, guide_ids[i]))

    outcomes = race(app, confirm)
    assert outcomes == ["ok"] * N  # confirming twice changes nothing
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    assert confirmed_fen(charge_id) == 1500


def test_concurrent_voids_of_one_payment_reverse_it_once(app, fee):
    charge_id, guide_ids, cadre_id = fee
    paid = payments.record_cash(
        db.session.get(Charge, charge_id), 1500, db.session.get(User, cadre_id)
    )
    db.session.commit()
    paid_id = paid.id

    def void(i):
        payments.void(db.session.get(Payment, paid_id), db.session.get(User, guide_ids[i]), "错")

    outcomes = race(app, void)
    assert sorted(outcomes) == ["already_voided"] * (N - 1) + ["ok"]
    assert confirmed_fen(charge_id) == 0
    assert ledger.verify().ok


def test_a_guide_cannot_void_her_own_cash_but_a_colleague_can(world):  # noqa: F811
    guide, cadre = world["guide"], world["cadre"]
    charge = go(world, world["stalls"][0], world["vendors"][0]).charge
    cash = payments.record_cash(charge, 1500, guide)
    assert not payments.may_void(cash, guide)
    with pytest.raises(Forbidden) as e:
        payments.void(cash, guide, "收错了")
    assert e.value.code == "separation_of_duties"
    assert payments.unpaid_fen(charge) == 0  # still paid: nothing was written
    other = b.user(role="guide", organization=world["market"].organization, mkt=world["market"])
    payments.void(cash, other, "收错了")
    assert payments.unpaid_fen(charge) == 1500
    # A cadre's own cash is no different: a second person voids it.
    again = payments.record_cash(charge, 1500, cadre)
    with pytest.raises(Forbidden):
        payments.void(again, cadre, "错")


def test_a_double_tap_of_part_of_the_fee_pays_once(app, fee):
    """The guide's ¥5 of ¥15 sent by eight taps of one form at the same instant (one nonce):
    every tap gets the first answer and one payment is recorded. Before the key was claimed
    ahead of the write, each tap missed the lookup, recorded its ¥5 under the charge's row
    lock, and only then found the first tap's record."""
    charge_id, guide_ids, _ = fee
    nonce = "ab" * 16

    def tap(_i):
        guide = db.session.get(User, guide_ids[0])
        charge = db.session.get(Charge, charge_id)

        def pay():
            return {"message": f"payment {payments.record_cash(charge, 500, guide).id}"}

        answers.append(idempotency.once(guide, "cash", nonce, {"stall": 1, "fen": 500}, pay))

    answers: list = []
    outcomes = race(app, tap)
    assert outcomes == ["ok"] * N, outcomes
    assert len({a["message"] for a in answers}) == 1, answers
    with app.app_context():
        paid = db.session.scalars(select(Payment.amount_fen).where(Payment.charge_id == charge_id))
        assert list(paid) == [500]
