"""Household ballots (入户票决): one slip per registered household with a one-time code, one
vote per household, changeable until the vote closes, secret.

Secrecy: the used-code set and the tally are kept apart. `fund_ballot_codes` holds the keyed
hash of each slip's code, its household and whether it was used, never a choice;
`fund_ballots` holds each choice under a random key with the keyed hash of the voter's change
code (the receipt on their phone), never a code, a household or a time. Changing a vote needs
the slip code AND the change code; the slip code alone a second time is refused. Results are
counted only when the vote closes; until then the public sees the turnout."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ...extensions import db
from ...models import (
    Ballot,
    BallotCode,
    FundHousehold,
    FundProject,
    FundVote,
    Organization,
    ProjectState,
    Role,
    User,
)
from ..auth import access
from ..common import audit, ticks
from ..common.errors import Conflict, Forbidden, InvalidInput, NotFound
from . import codes, decisions, projects

CHOICES = ("for", "against", "abstain")
CHOICE_LABELS = {"for": _l("For"), "against": _l("Against"), "abstain": _l("Abstain")}
MAX_HOUSEHOLDS = 5000
LONGEST_VOTE = timedelta(days=60)
LABEL = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff]{1,10}(-[0-9A-Za-z\u4e00-\u9fff]{1,10}){1,3}$")


class SlipUsed(Conflict):
    code = "slip_used"


def _manager(user: User, organization_id: int) -> None:
    if not access.has_org_role(user, organization_id, Role.MANAGERS):
        raise Forbidden()


# --- households ----------------------------------------------------------------------------


def households_of(organization_id: int) -> list[FundHousehold]:
    return list(
        db.session.scalars(
            select(FundHousehold)
            .where(FundHousehold.organization_id == organization_id)
            .order_by(FundHousehold.label)
        )
    )


def register_households(org: Organization, cadre: User, text: str, *, at, ip=None) -> int:
    """Building-unit-room labels (3-2-301), one a line or separated by spaces; returns how many
    were new. No names, no phones: a household is its door."""
    _manager(cadre, org.id)
    labels = []
    for raw in (text or "").replace("，", ",").replace(",", " ").split():
        label = raw.strip().replace("－", "-").replace("—", "-")
        if not LABEL.match(label):
            raise InvalidInput(
                _l(
                    "%(label)s is not building-unit-room, such as 3-2-301.",
                    label=label[:40],
                ),
                code="invalid_household",
                field="households",
            )
        labels.append(label)
    if not labels:
        raise InvalidInput(
            _l("List the households, one building-unit-room a line (such as 3-2-301)."),
            code="households_required",
            field="households",
        )
    known = {h.label for h in households_of(org.id)}
    new = sorted(set(labels) - known)
    if len(known) + len(new) > MAX_HOUSEHOLDS:
        raise InvalidInput(
            _l("At most %(n)d households.", n=MAX_HOUSEHOLDS),
            code="too_many_households",
            field="households",
        )
    db.session.add_all(
        FundHousehold(organization_id=org.id, label=label, created_at=at) for label in new
    )
    audit.record(
        "fund.households_registered",
        org,
        actor=cadre,
        organization_id=org.id,
        ip=ip,
        added=len(new),
    )
    return len(new)


# --- votes ---------------------------------------------------------------------------------


def open_vote(project: FundProject, cadre: User, *, closes_at: datetime, at, ip=None) -> FundVote:
    _manager(cadre, project.organization_id)
    projects.lock(project)
    if project.state != ProjectState.PUBLISHED:
        raise Conflict(_l("This project is not under deliberation."), code="not_published")
    if decisions.has_open_vote(project):
        raise Conflict(_l("A vote on this project is open already."), code="vote_open")
    if not isinstance(closes_at, datetime) or closes_at.tzinfo is None:
        raise InvalidInput(_l("Give when the vote closes."), code="invalid_time", field="closes_at")
    if closes_at <= at or closes_at > at + LONGEST_VOTE:
        raise InvalidInput(
            _l("A vote closes after now and within 60 days."),
            code="invalid_time",
            field="closes_at",
        )
    if not households_of(project.organization_id):
        raise InvalidInput(
            _l("Register the households first."), code="no_households", field="closes_at"
        )
    org = db.session.get(Organization, project.organization_id)
    vote = FundVote(
        project_id=project.id,
        opens_at=at,
        closes_at=closes_at,
        state="open",
        majority_pct=org.fund_majority_pct,
        created_by_id=cadre.id,
        created_at=at,
    )
    db.session.add(vote)
    db.session.flush()
    audit.record(
        "fund.vote_opened",
        vote,
        actor=cadre,
        organization_id=project.organization_id,
        ip=ip,
        project_id=project.id,
        closes_at=closes_at.isoformat(),
    )
    return vote


def _new_slip(vote: FundVote, household: FundHousehold) -> str:
    code = codes.new_code()
    db.session.add(
        BallotCode(
            vote_id=vote.id,
            household_id=household.id,
            code_hash=codes.keyed_hash("code", vote.id, code),
        )
    )
    return code


@dataclass(frozen=True)
class Slip:
    household: str
    code: str

    @property
    def shown(self) -> str:
        return codes.display(self.code)


def _check_open(vote: FundVote, at: datetime) -> None:
    if vote.state != "open" or at >= vote.closes_at:
        raise Conflict(_l("This vote is closed."), code="vote_closed")


def issue_slips(vote: FundVote, cadre: User, *, at, ip=None) -> list[Slip]:
    """A slip for every registered household that has none yet: the codes exist only in this
    answer (to print now); the database keeps their hashes."""
    project = vote.project
    _manager(cadre, project.organization_id)
    db.session.flush()
    db.session.refresh(vote, with_for_update=True)
    _check_open(vote, at)
    have = set(
        db.session.scalars(
            select(BallotCode.household_id).where(
                BallotCode.vote_id == vote.id, BallotCode.voided.is_(False)
            )
        )
    )
    slips = [
        Slip(h.label, _new_slip(vote, h))
        for h in households_of(project.organization_id)
        if h.id not in have
    ]
    db.session.flush()
    audit.record(
        "fund.slips_issued",
        vote,
        actor=cadre,
        organization_id=project.organization_id,
        ip=ip,
        count=len(slips),
    )
    return slips


def reissue_slip(vote: FundVote, household_id, cadre: User, *, at, ip=None) -> Slip:
    """A lost slip: void it and print a new one. A slip that has voted keeps its vote (nobody
    can tell which ballot is its), so it cannot be reissued."""
    project = vote.project
    _manager(cadre, project.organization_id)
    _check_open(vote, at)
    household = (
        db.session.get(FundHousehold, household_id) if isinstance(household_id, int) else None
    )
    if household is None or household.organization_id != project.organization_id:
        raise NotFound()
    old = db.session.scalar(
        select(BallotCode)
        .where(
            BallotCode.vote_id == vote.id,
            BallotCode.household_id == household.id,
            BallotCode.voided.is_(False),
        )
        .with_for_update()
    )
    if old is not None and old.used:
        raise SlipUsed(
            _l("This household's slip has voted already: its vote stands and cannot be reissued.")
        )
    if old is not None:
        old.voided = True
        db.session.flush()
    slip = Slip(household.label, _new_slip(vote, household))
    db.session.flush()
    audit.record(
        "fund.slip_reissued",
        vote,
        actor=cadre,
        organization_id=project.organization_id,
        ip=ip,
        household=household.label,
        voided=old is not None,
    )
    return slip


@dataclass(frozen=True)
class Cast:
    receipt: str | None  # a new ballot's change code (to keep on the phone); None for a change
    changed: bool


def cast(vote: FundVote, code_text, choice, *, at: datetime, receipt_text=None) -> Cast:
    """Vote with a slip's code. The first time, a ballot is stored and its change code given
    back; later, the same code with the ballot's change code changes the choice; the code
    alone again is refused."""
    if choice not in CHOICES:
        raise InvalidInput(
            _l("Choose for, against or abstain."), code="invalid_choice", field="choice"
        )
    code = codes.normalize(code_text)
    if code is None:
        raise InvalidInput(
            _l("This is not a slip code: check the 12 characters on your slip."),
            code="invalid_code",
            field="code",
        )
    # A share lock on the vote: its closing (which locks it for update) waits for this ballot,
    # so no ballot is committed after the tally was counted.
    db.session.flush()
    db.session.refresh(vote, with_for_update={"read": True})
    _check_open(vote, at)
    slip = db.session.scalar(
        select(BallotCode)
        .where(
            BallotCode.vote_id == vote.id,
            BallotCode.code_hash == codes.keyed_hash("code", vote.id, code),
            BallotCode.voided.is_(False),
        )
        .with_for_update()
    )
    if slip is None:
        raise InvalidInput(
            _l("No slip of this vote has this code."), code="unknown_code", field="code"
        )
    if not slip.used:
        receipt = codes.new_receipt()
        slip.used = True
        db.session.add(
            Ballot(
                id=secrets.token_hex(16),
                vote_id=vote.id,
                choice=choice,
                receipt_hash=codes.keyed_hash("receipt", vote.id, receipt),
            )
        )
        db.session.flush()
        return Cast(receipt, False)
    receipt = codes.normalize_receipt(receipt_text)
    if receipt is None:
        raise SlipUsed(
            _l(
                "This slip has already voted. To change the vote, use the phone that cast it "
                "or type its change code."
            )
        )
    changed = db.session.execute(
        update(Ballot)
        .where(
            Ballot.vote_id == vote.id,
            Ballot.receipt_hash == codes.keyed_hash("receipt", vote.id, receipt),
        )
        .values(choice=choice)
    ).rowcount
    if changed != 1:
        raise SlipUsed(
            _l("This slip has already voted, and the change code does not match its vote."),
            code="receipt_mismatch",
        )
    return Cast(None, True)


@dataclass(frozen=True)
class Turnout:
    voted: int
    slips: int

    @property
    def pct(self) -> int:
        return self.voted * 100 // self.slips if self.slips else 0


def turnout(vote: FundVote) -> Turnout:
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(func.cast(BallotCode.used, db.Integer)), 0),
        ).where(BallotCode.vote_id == vote.id, BallotCode.voided.is_(False))
    ).one()
    return Turnout(int(row[1]), int(row[0]))


def _tally(vote: FundVote) -> dict[str, int]:
    counts = dict.fromkeys(CHOICES, 0)
    counts.update(
        db.session.execute(
            select(Ballot.choice, func.count())
            .where(Ballot.vote_id == vote.id)
            .group_by(Ballot.choice)
        ).all()
    )
    return counts


def close_vote(vote: FundVote, at: datetime) -> str:
    """Count and decide: "for" above the majority share of the ballots cast (abstentions
    counted, like those present at a meeting). No ballots: rejected."""
    counts = _tally(vote)
    cast_n = sum(counts.values())
    outcome = (
        "approved" if cast_n and counts["for"] * 100 > cast_n * vote.majority_pct else "rejected"
    )
    vote.votes_for, vote.votes_against = counts["for"], counts["against"]
    vote.votes_abstain = counts["abstain"]
    vote.state, vote.outcome, vote.closed_at = "closed", outcome, at
    project = vote.project
    audit.record(
        "fund.vote_closed",
        vote,
        organization_id=project.organization_id,
        outcome=outcome,
        votes_for=counts["for"],
        votes_against=counts["against"],
        votes_abstain=counts["abstain"],
    )
    if project.state == ProjectState.PUBLISHED:
        decisions.decide(project, outcome, "ballot", at)
    return outcome


@ticks.register("fund.close_votes")
def close_due(now: datetime) -> list[str]:
    """Every open vote whose time has come is counted and closed, once (late after downtime
    too: it is counted then, with the ballots cast before its closing time)."""
    lines = []
    due = db.session.scalars(
        select(FundVote)
        .where(FundVote.state == "open", FundVote.closes_at <= now)
        .order_by(FundVote.id)
        .with_for_update(skip_locked=True)
    ).all()
    for vote in due:
        outcome = close_vote(vote, now)
        lines.append(f"fund vote {vote.id} closed: {outcome}")
    return lines


def vote_for_cadre(user: User, vote_id: int) -> FundVote:
    vote = db.session.get(FundVote, vote_id)
    if vote is None or not access.has_org_role(user, vote.project.organization_id, Role.MANAGERS):
        raise NotFound()
    return vote


def public_vote(organization_id: int, vote_id: int) -> FundVote:
    vote = db.session.get(FundVote, vote_id)
    if vote is None or vote.project.organization_id != organization_id:
        raise NotFound()
    return vote


def slip_states(vote: FundVote) -> list[tuple[FundHousehold, BallotCode | None]]:
    """Each household and its live slip (used or not): what the cadre sees to reissue one."""
    live = {
        c.household_id: c
        for c in db.session.scalars(
            select(BallotCode).where(BallotCode.vote_id == vote.id, BallotCode.voided.is_(False))
        )
    }
    return [(h, live.get(h.id)) for h in households_of(vote.project.organization_id)]
