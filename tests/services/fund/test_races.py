"""Several phones at once: one slip's code votes once; expenses on one project never pass its
budget together (PostgreSQL's READ COMMITTED is where read-check-write races)."""

import threading

from sqlalchemy import func, select

from market.extensions import db
from market.models import Ballot, FundProject, FundVote, User
from market.services.common.errors import DomainError
from market.services.fund import ballots, money
from tests.ledger_helpers import NOW

from .conftest import approved, open_ballot

N = 6


def race(app, work) -> list[str]:
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


def test_one_slip_from_several_phones_votes_once(app, w):
    _p, vote, slips = open_ballot(w)
    vote_id, code = vote.id, slips[0].code

    def cast(_i):
        ballots.cast(db.session.get(FundVote, vote_id), code, "for", at=NOW)

    assert sorted(race(app, cast)) == ["ok"] + ["slip_used"] * (N - 1)
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


def test_expenses_at_once_stay_within_the_budget(app, w):
    p = approved(w, budget_fen=100_000)
    project_id, cadre_id = p.id, w["cadre"].id

    def spend(_i):
        money.record_project_expense(
            db.session.get(FundProject, project_id),
            db.session.get(User, cadre_id),
            amount_fen=40_000,
            spent_on=NOW.date(),
            description="材料",
            paid_from="office_cash",
            at=NOW,
        )

    assert sorted(race(app, spend)) == ["ok", "ok"] + ["over_budget"] * (N - 2)
    assert money.committed_fen(db.session.get(FundProject, project_id)) == 80_000
