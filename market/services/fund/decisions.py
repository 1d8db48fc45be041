"""How a project is decided: a residents' representatives' meeting recorded by a cadre, or a
household ballot (ballots.py). The outcome is computed from the figures and the organization's
rule, never typed. An approved project reserves its budget: it gets its own ledger account
(3101-<id>, under the governance fund) that its expenses are charged to."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import (
    FundMeeting,
    FundProject,
    FundVote,
    LedgerAccount,
    Organization,
    ProjectState,
    Role,
    User,
)
from ..auth import access
from ..common import audit
from ..common.errors import Conflict, Forbidden, InvalidInput
from ..ledger import entries as ledger
from . import projects

MAX_REPRESENTATIVES = 10_000
OUTCOME_LABELS = {
    "approved": _l("Approved"),
    "rejected": _l("Not approved"),
    "no_quorum": _l("No quorum: not decided"),
}


def account_key(project: FundProject) -> str:
    return f"fund_project_{project.id}"


def open_account(project: FundProject) -> LedgerAccount:
    """The project's account: an equity account under 3101, so its spending lowers the fund and
    never the month's income (the month close empties only income and expense accounts)."""
    if project.account_id is not None:
        return db.session.get(LedgerAccount, project.account_id)
    ledger.account(project.organization_id, "governance_fund")  # the chart exists
    acc = LedgerAccount(
        organization_id=project.organization_id,
        code=f"3101-{project.id:03d}",
        name=f"专项：{project.title}"[:80],
        kind="equity",
        key=account_key(project),
    )
    db.session.add(acc)
    db.session.flush()
    project.account_id = acc.id
    return acc


def decide(project: FundProject, outcome: str, by: str, at: datetime, actor=None) -> None:
    """Approve (reserving the budget) or reject a project under deliberation."""
    if project.state != ProjectState.PUBLISHED:
        raise Conflict(_l("This project is not under deliberation."), code="not_published")
    project.state = ProjectState.APPROVED if outcome == "approved" else ProjectState.REJECTED
    project.decided_by = by
    project.decided_at = at
    project.updated_at = at
    if outcome == "approved":
        open_account(project)
    audit.record(
        "fund.project_decided",
        project,
        actor=actor,
        organization_id=project.organization_id,
        outcome=outcome,
        decided_by=by,
        budget_fen=project.budget_fen,
    )


def meeting_outcome(org: Organization, total: int, present: int, votes_for: int) -> str:
    """Quorum: at least num/den of the representatives present; then "for" above
    majority_pct % of those present."""
    if present * org.fund_quorum_den < total * org.fund_quorum_num:
        return "no_quorum"
    return "approved" if votes_for * 100 > present * org.fund_majority_pct else "rejected"


def _count(value, field: str, high: int = MAX_REPRESENTATIVES) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
        raise InvalidInput(
            _l("Enter a whole number from 0 to %(high)d.", high=high),
            code="invalid_count",
            field=field,
        )
    return value


def has_open_vote(project: FundProject) -> bool:
    return (
        db.session.scalar(
            select(FundVote.id).where(FundVote.project_id == project.id, FundVote.state == "open")
        )
        is not None
    )


def record_meeting(
    project: FundProject,
    cadre: User,
    *,
    held_on,
    total,
    present,
    votes_for,
    votes_against,
    votes_abstain,
    at: datetime,
    minutes_photo=None,
    ip=None,
) -> FundMeeting:
    if not access.has_org_role(cadre, project.organization_id, Role.MANAGERS):
        raise Forbidden()
    projects.lock(project)
    if project.state != ProjectState.PUBLISHED:
        raise Conflict(_l("This project is not under deliberation."), code="not_published")
    if has_open_vote(project):
        raise Conflict(
            _l("A household vote on this project is open: wait for it to close."),
            code="vote_open",
        )
    org = db.session.get(Organization, project.organization_id)
    if not isinstance(held_on, date) or held_on > ledger.org_today(org, at):
        raise InvalidInput(
            _l("Give the date of the meeting (not in the future)."),
            code="invalid_date",
            field="held_on",
        )
    total = _count(total, "total")
    if total == 0:
        raise InvalidInput(
            _l("Enter how many representatives there are."), code="invalid_count", field="total"
        )
    present = _count(present, "present")
    if present > total:
        raise InvalidInput(
            _l("More representatives present than there are."),
            code="present_above_total",
            field="present",
        )
    counts = [
        _count(v, f)
        for v, f in (
            (votes_for, "votes_for"),
            (votes_against, "votes_against"),
            (votes_abstain, "votes_abstain"),
        )
    ]
    if sum(counts) > present:
        raise InvalidInput(
            _l("More votes than representatives present."),
            code="votes_above_present",
            field="votes_for",
        )
    photo = (
        projects._save_photo(minutes_photo, field="minutes_photo")
        if minutes_photo is not None
        else None
    )
    outcome = meeting_outcome(org, total, present, counts[0])
    meeting = FundMeeting(
        project_id=project.id,
        held_on=held_on,
        total=total,
        present=present,
        votes_for=counts[0],
        votes_against=counts[1],
        votes_abstain=counts[2],
        minutes_photo=photo,
        quorum_num=org.fund_quorum_num,
        quorum_den=org.fund_quorum_den,
        majority_pct=org.fund_majority_pct,
        outcome=outcome,
        recorded_by_id=cadre.id,
        created_at=at,
    )
    db.session.add(meeting)
    db.session.flush()
    audit.record(
        "fund.meeting_recorded",
        meeting,
        actor=cadre,
        organization_id=project.organization_id,
        ip=ip,
        project_id=project.id,
        outcome=outcome,
        present=present,
        total=total,
    )
    if outcome != "no_quorum":
        decide(project, outcome, "meeting", at, actor=cadre)
    return meeting


def set_rule(org: Organization, cadre: User, *, quorum_num, quorum_den, majority_pct, ip=None):
    """The organization's meeting rule (it applies to meetings recorded from now on)."""
    if not access.has_org_role(cadre, org.id, Role.MANAGERS):
        raise Forbidden()
    ok = all(
        isinstance(v, int) and not isinstance(v, bool)
        for v in (quorum_num, quorum_den, majority_pct)
    )
    if not ok or not (0 < quorum_den <= 100 and 0 <= quorum_num <= quorum_den):
        raise InvalidInput(
            _l("The quorum is a fraction from 0 to 1, such as 2/3."),
            code="invalid_quorum",
            field="quorum_num",
        )
    if not 0 <= majority_pct <= 99:
        raise InvalidInput(
            _l("The majority is a percentage from 0 to 99."),
            code="invalid_majority",
            field="majority_pct",
        )
    org.fund_quorum_num, org.fund_quorum_den = quorum_num, quorum_den
    org.fund_majority_pct = majority_pct
    audit.record(
        "fund.rule_changed",
        org,
        actor=cadre,
        organization_id=org.id,
        ip=ip,
        quorum=f"{quorum_num}/{quorum_den}",
        majority_pct=majority_pct,
    )
