"""Projects and the representatives' meeting: the rule decides, not the cadre."""

from datetime import timedelta

import pytest

from market.extensions import db
from market.models import AuditEvent, LedgerAccount
from market.services.common.errors import Conflict, Forbidden, InvalidInput
from market.services.fund import decisions, projects
from tests.ledger_helpers import NOW

from .conftest import approved, new_project


def test_a_meeting_with_quorum_and_majority_approves_and_reserves(w):
    p = approved(w)
    assert p.decided_by == "meeting" and p.account_id is not None
    acc = db.session.get(LedgerAccount, p.account_id)
    assert acc.code == f"3101-{p.id:03d}" and acc.kind == "equity"
    actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions[-3:] == ["fund.meeting_recorded", "fund.project_decided"][-2:] or (
        "fund.project_decided" in actions
    )


@pytest.mark.parametrize(
    ("present", "votes_for", "outcome"),
    [
        (19, 19, "no_quorum"),  # 19 of 30 is below 2/3
        (20, 11, "approved"),  # 20 of 30 is exactly 2/3; 11 of 20 is above half
        (20, 10, "rejected"),  # half is not a majority
    ],
)
def test_the_rule_decides(w, present, votes_for, outcome):
    p = new_project(w)
    m = decisions.record_meeting(
        p,
        w["cadre"],
        held_on=NOW.date(),
        total=30,
        present=present,
        votes_for=votes_for,
        votes_against=0,
        votes_abstain=0,
        at=NOW,
    )
    assert m.outcome == outcome
    assert p.state == {"no_quorum": "published"}.get(outcome, outcome)


def test_the_organization_sets_the_rule(w):
    decisions.set_rule(w["org"], w["cadre"], quorum_num=1, quorum_den=2, majority_pct=66)
    p = new_project(w)
    m = decisions.record_meeting(
        p,
        w["cadre"],
        held_on=NOW.date(),
        total=30,
        present=15,
        votes_for=10,
        votes_against=5,
        votes_abstain=0,
        at=NOW,
    )
    assert m.outcome == "approved" and (m.quorum_num, m.quorum_den, m.majority_pct) == (1, 2, 66)


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"present": 31}, "present_above_total"),
        ({"votes_for": 30}, "votes_above_present"),
        ({"total": -1}, "invalid_count"),
        ({"total": "x"}, "invalid_count"),
        ({"held_on": (NOW + timedelta(days=3)).date()}, "invalid_date"),
    ],
)
def test_bad_meeting_figures_are_refused(w, kw, code):
    p = new_project(w)
    args = {
        "held_on": NOW.date(),
        "total": 30,
        "present": 25,
        "votes_for": 20,
        "votes_against": 0,
        "votes_abstain": 0,
    }
    args.update(kw)
    with pytest.raises(InvalidInput) as e:
        decisions.record_meeting(p, w["cadre"], at=NOW, **args)
    assert e.value.code == code and p.state == "published"


def test_only_a_published_project_is_deliberated_and_only_by_cadres(w):
    draft = new_project(w, publish=False)
    with pytest.raises(Conflict):
        decisions.record_meeting(
            draft,
            w["cadre"],
            held_on=NOW.date(),
            total=3,
            present=3,
            votes_for=3,
            votes_against=0,
            votes_abstain=0,
            at=NOW,
        )
    with pytest.raises(Forbidden):
        projects.publish(draft, w["guide"], at=NOW)


def test_a_residents_proposal_is_moderated(w):
    p = projects.propose(
        w["market"],
        title="增设长椅",
        place="市场东口",
        reason="老人等车没地方坐",
        budget_fen=150_000,
        at=NOW,
        ip="10.0.0.9",
    )
    assert p.state == "proposed" and p.proposed_by_id is None and len(p.ip_hash) == 64
    with pytest.raises(InvalidInput):
        projects.decline(p, w["cadre"], "  ", at=NOW)
    projects.decline(p, w["cadre"], "已在街道计划中", at=NOW)
    assert p.state == "declined" and p.decline_reason == "已在街道计划中"


def test_a_second_proposal_of_the_day_needs_the_sum(w):
    args = {
        "title": "增设长椅",
        "place": "市场东口",
        "reason": "需要",
        "budget_fen": 100,
        "ip": "10.0.0.9",
    }
    projects.propose(w["market"], at=NOW, **args)
    with pytest.raises(InvalidInput) as e:
        projects.propose(w["market"], at=NOW, **args)
    assert e.value.code == "challenge_required"


def test_states_follow_the_lifecycle(w):
    p = approved(w)
    projects.start(p, w["cadre"], at=NOW)
    with pytest.raises(InvalidInput):
        projects.finish(p, w["cadre"], "", at=NOW)
    projects.finish(p, w["cadre"], "换了12盏灯", at=NOW)
    assert p.state == "done"
    with pytest.raises(Conflict):
        projects.cancel(p, w["cadre"], at=NOW)
