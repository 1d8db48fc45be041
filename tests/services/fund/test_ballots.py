"""Household ballots: one vote per slip, changeable with the change code, secret, closed by the
scheduler at its time."""

from datetime import timedelta

import pytest
from sqlalchemy import inspect, text

from market.extensions import db
from market.models import Ballot, BallotCode
from market.services.common import ticks
from market.services.common.errors import Conflict, InvalidInput
from market.services.fund import ballots, codes
from tests.ledger_helpers import NOW

from .conftest import open_ballot


def test_one_vote_per_slip_changeable_with_the_change_code(w):
    p, vote, slips = open_ballot(w)
    assert len(slips) == 4 and len({s.code for s in slips}) == 4
    first = ballots.cast(vote, slips[0].shown.lower(), "against", at=NOW)
    assert first.receipt and not first.changed
    with pytest.raises(Conflict) as e:
        ballots.cast(vote, slips[0].code, "for", at=NOW)
    assert e.value.code == "slip_used"
    with pytest.raises(Conflict) as e:
        ballots.cast(vote, slips[0].code, "for", at=NOW, receipt_text="0" * 10)
    assert e.value.code == "receipt_mismatch"
    # Another slip's change code does not change this one's ballot either.
    other = ballots.cast(vote, slips[1].code, "for", at=NOW)
    with pytest.raises(Conflict):
        ballots.cast(vote, slips[0].code, "abstain", at=NOW, receipt_text="X" * 10)
    again = ballots.cast(
        vote, slips[0].code, "for", at=NOW, receipt_text=codes.display_receipt(first.receipt)
    )
    assert again.changed and other.receipt != first.receipt
    assert ballots.turnout(vote) == ballots.Turnout(2, 4)
    assert sorted(b.choice for b in db.session.query(Ballot)) == ["for", "for"]


@pytest.mark.parametrize("typed", ["", "ABCD", "0000-0000-0000", "not a code at all"])
def test_guessed_or_mistyped_codes_are_refused(w, typed):
    _p, vote, _slips = open_ballot(w)
    with pytest.raises(InvalidInput):
        ballots.cast(vote, typed, "for", at=NOW)
    assert db.session.query(Ballot).count() == 0


def test_a_well_formed_code_of_no_slip_is_refused(w):
    _p, vote, _slips = open_ballot(w)
    with pytest.raises(InvalidInput) as e:
        ballots.cast(vote, codes.new_code(), "for", at=NOW)
    assert e.value.code == "unknown_code"


def test_the_vote_closes_on_time_and_decides(w):
    p, vote, slips = open_ballot(w)
    for slip, choice in zip(slips, ("for", "for", "against"), strict=False):
        ballots.cast(vote, slip.code, choice, at=NOW)
    assert ticks.run(NOW + timedelta(hours=47)) == [] or vote.state == "open"
    with pytest.raises(Conflict) as e:
        ballots.cast(vote, slips[3].code, "for", at=NOW + timedelta(hours=48))
    assert e.value.code == "vote_closed"
    lines = ticks.run(NOW + timedelta(hours=49))
    assert f"fund vote {vote.id} closed: approved" in lines
    assert (vote.votes_for, vote.votes_against, vote.votes_abstain) == (2, 1, 0)
    assert p.state == "approved" and p.decided_by == "ballot" and p.account_id
    assert ticks.run(NOW + timedelta(hours=50)) == []  # once


def test_a_vote_nobody_voted_in_is_rejected(w):
    p, vote, _slips = open_ballot(w)
    ballots.close_due(NOW + timedelta(days=3))
    assert vote.outcome == "rejected" and p.state == "rejected"


def test_a_lost_slip_is_voided_and_reissued_unless_it_voted(w):
    _p, vote, slips = open_ballot(w)
    states = {h.label: c for h, c in ballots.slip_states(vote)}
    lost = next(h for h, _c in ballots.slip_states(vote) if h.label == slips[2].household)
    new = ballots.reissue_slip(vote, lost.id, w["cadre"], at=NOW)
    with pytest.raises(InvalidInput):
        ballots.cast(vote, slips[2].code, "for", at=NOW)  # the voided code
    ballots.cast(vote, new.code, "for", at=NOW)
    with pytest.raises(Conflict):
        ballots.reissue_slip(vote, lost.id, w["cadre"], at=NOW)
    assert len(states) == 4


def test_no_row_links_a_code_or_household_to_a_choice(w):
    _p, vote, slips = open_ballot(w)
    ballots.cast(vote, slips[0].code, "against", at=NOW)
    ballot_cols = {c.key for c in inspect(Ballot).columns}
    code_cols = {c.key for c in inspect(BallotCode).columns}
    assert ballot_cols == {"id", "vote_id", "choice", "receipt_hash"}
    assert "choice" not in code_cols and not ({"household_id", "code_hash"} & ballot_cols)
    assert not any(isinstance(c.type, db.DateTime) for c in inspect(Ballot).columns)
    ballot = db.session.query(Ballot).one()
    assert len(ballot.id) == 32 and not ballot.id.isdigit()
    # Nothing stored holds the code in clear.
    for row in db.session.query(BallotCode):
        assert slips[0].code not in row.code_hash
    assert {fk.column.table.name for fk in Ballot.__table__.foreign_keys} == {"fund_votes"}
    if db.session.get_bind().dialect.name == "sqlite":  # no hidden rowid in insertion order
        sql = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'fund_ballots'"))
        assert "WITHOUT ROWID" in sql
