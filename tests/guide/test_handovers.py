"""Hand-over arithmetic: what a guide holds, what the cadre counts, the difference kept."""

import pytest

from market.extensions import db
from market.models import Payment, Role
from market.services.checkin import payments
from market.services.common.clock import now
from market.services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from market.services.guide import handovers
from tests import builders as b


@pytest.fixture
def shift(app):
    with app.app_context():
        org = b.org()
        mkt = b.market(org)
        zone = b.zone(mkt)
        guide = b.user(role=Role.GUIDE, organization=org, mkt=mkt)
        cadre = b.user(role=Role.CADRE, organization=org)
        session = b.session(mkt, state="open")
        charges = []
        for i in range(3):
            ci = b.checkin(session, b.stall(zone, code=f"H-{i}"), b.vendor(org))
            charges.append(b.charge(ci, base_fen=1500))
        db.session.commit()
        yield {
            "org": org,
            "market": mkt,
            "guide": guide,
            "cadre": cadre,
            "session": session,
            "charges": charges,
        }


def test_held_cash_sums_the_guides_cash_and_subtracts_voids(app, shift):
    guide, cadre, c = shift["guide"], shift["cadre"], shift["charges"]
    payments.record_cash(c[0], 1500, guide)
    payments.record_cash(c[1], 1000, guide)
    wrong = payments.record_cash(c[2], 500, guide)
    payments.void(wrong, cadre, "记错了")  # the reversal is the guide's to answer for
    payments.record_cash(c[2], 1500, cadre)  # a cadre's own cash is not the guide's
    db.session.commit()
    assert handovers.unhanded_fen(guide.id, shift["market"].id) == 2500
    per_stall = {
        row.stall.code: row.fen for row in handovers.session_cash(guide.id, shift["session"])
    }
    assert per_stall == {"H-0": 1500, "H-1": 1000, "H-2": 0}
    assert handovers.session_cash_by_guide(shift["session"]) == {guide.id: 2500, cadre.id: 1500}


def test_hand_over_then_count_with_a_difference(app, shift):
    guide, cadre, mkt = shift["guide"], shift["cadre"], shift["market"]
    payments.record_cash(shift["charges"][0], 1500, guide)
    payments.record_cash(shift["charges"][1], 1500, guide)
    h = handovers.hand_over(guide, mkt, 3000, now(), note="两张十五")
    db.session.commit()
    assert (h.expected_fen, h.declared_fen, h.state) == (3000, 3000, "pending")
    assert handovers.unhanded_fen(guide.id, mkt.id) == 0
    # Cash taken after the hand-over goes into the next one, never into this one.
    payments.record_cash(shift["charges"][2], 1500, guide)
    db.session.commit()
    assert handovers.unhanded_fen(guide.id, mkt.id) == 1500
    assert [g.fen for g in handovers.cash_not_handed_over([shift["org"].id])] == [1500]
    with pytest.raises(NotFound):  # a guide is not a cadre
        handovers.confirm(h, guide, 3000, now())
    handovers.confirm(h, cadre, 2950, now(), note="少了五毛")
    db.session.commit()
    assert (h.received_fen, h.difference_fen, h.state) == (2950, -50, "confirmed")
    with pytest.raises(Conflict):
        handovers.confirm(h, cadre, 3000, now())


def test_bad_hand_overs_write_nothing(app, shift):
    guide, mkt = shift["guide"], shift["market"]
    with pytest.raises(Conflict):
        handovers.hand_over(guide, mkt, 0, now())  # nothing held
    payments.record_cash(shift["charges"][0], 1500, guide)
    for bad in (-1, 1.5, True, "15"):
        with pytest.raises(InvalidInput):
            handovers.hand_over(guide, mkt, bad, now())
    other_market = b.market()
    with pytest.raises(NotFound):
        handovers.hand_over(guide, other_market, 1500, now())
    db.session.rollback()
    assert db.session.query(Payment).count() == 0


def test_a_cadre_never_counts_their_own_cash(app, shift):
    cadre, mkt = shift["cadre"], shift["market"]
    payments.record_cash(shift["charges"][0], 1500, cadre)
    h = handovers.hand_over(cadre, mkt, 1500, now())
    with pytest.raises(Forbidden):
        handovers.confirm(h, cadre, 1500, now())
    second = b.user(role="cadre", organization=shift["org"])
    handovers.confirm(h, second, 1500, now())
    assert h.difference_fen == 0


def test_confirmed_hand_over_moves_the_cash_in_the_ledger(app, shift):
    from sqlalchemy import select

    from market.models import LedgerEntry
    from market.services.ledger import entries as ledger

    guide, cadre, mkt, org = shift["guide"], shift["cadre"], shift["market"], shift["org"]
    payments.record_cash(shift["charges"][0], 1500, guide)
    h = handovers.hand_over(guide, mkt, 1500, now())
    handovers.confirm(h, cadre, 1400, now(), note="少一元")
    db.session.commit()
    entry = db.session.scalar(
        select(LedgerEntry).where(LedgerEntry.source_key == f"handover:{h.id}")
    )
    assert sum(line.debit_fen for line in entry.lines) == 1500  # 1400 office + 100 short
    balances = ledger.balances(org.id)
    assert balances[ledger.guide_cash_account(org.id, guide).id] == 0
    assert balances[ledger.account(org.id, "office_cash").id] == 1400
    assert ledger.verify(org.id).ok


def test_a_count_that_differs_needs_the_cadres_note(app, shift):
    guide, cadre, mkt = shift["guide"], shift["cadre"], shift["market"]
    payments.record_cash(shift["charges"][0], 1500, guide)
    h = handovers.hand_over(guide, mkt, 1500, now(), note="一张十元一张五元")
    for missing in (None, "", "   "):
        with pytest.raises(InvalidInput) as e:
            handovers.confirm(h, cadre, 1400, now(), note=missing)
        assert (e.value.code, e.value.field) == ("difference_note_required", "note")
        assert "¥1.00" in str(e.value.message)
    assert h.state == "pending" and h.received_fen is None
    with pytest.raises(InvalidInput) as e:  # the guide's note and the cadre's share a column
        handovers.confirm(h, cadre, 1400, now(), note="长" * 200)
    assert e.value.code == "too_long" and h.state == "pending"
    handovers.confirm(h, cadre, 1400, now(), note="少一张十元纸币")
    db.session.commit()
    assert h.difference_fen == -100 and h.note == "一张十元一张五元 / 少一张十元纸币"


def test_a_count_that_matches_needs_no_note(app, shift):
    guide, cadre, mkt = shift["guide"], shift["cadre"], shift["market"]
    payments.record_cash(shift["charges"][0], 1500, guide)
    h = handovers.hand_over(guide, mkt, 1500, now())
    handovers.confirm(h, cadre, 1500, now())
    assert h.difference_fen == 0 and h.note is None
