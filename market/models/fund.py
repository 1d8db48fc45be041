"""The community governance fund (社区治理专项资金): projects residents decide on, the
representatives' meetings and household ballots that decide them.

Ballot secrecy: `fund_ballot_codes` says which household holds which (hashed) code and whether
it was used; `fund_ballots` holds the choices with a random key, no code, no household and no
time. Nothing joins the two."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, non_negative, one_of, utcnow


class ProjectState:
    PROPOSED = "proposed"  # a resident's proposal, waiting for a cadre to publish or decline it
    DRAFT = "draft"
    PUBLISHED = "published"  # open for deliberation
    APPROVED = "approved"  # the budget is reserved
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"
    DECLINED = "declined"  # a resident's proposal a cadre did not publish, with the reason
    ALL = (PROPOSED, DRAFT, PUBLISHED, APPROVED, REJECTED, IN_PROGRESS, DONE, CANCELLED, DECLINED)
    # Money may be spent on it.
    SPENDING = (APPROVED, IN_PROGRESS)
    # Shown to the public.
    PUBLIC = (PUBLISHED, APPROVED, REJECTED, IN_PROGRESS, DONE, CANCELLED)


class FundProject(db.Model):
    __tablename__ = "fund_projects"
    __table_args__ = (
        one_of("state", ProjectState.ALL),
        one_of("decided_by", ("meeting", "ballot")),
        CheckConstraint("budget_fen > 0", name="budget_fen_positive"),
        Index("ix_fund_projects_organization_id_state", "organization_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    title: Mapped[str] = mapped_column(String(80))
    place: Mapped[str] = mapped_column(String(200))  # what and where
    reason: Mapped[str] = mapped_column(Text)  # why
    budget_fen: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    photo: Mapped[str | None] = mapped_column(String(80))
    # A cadre, or None for a resident's proposal from the public page.
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A resident's proposal: the keyed hash of the address (rate limit and challenge), no more.
    ip_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    decline_reason: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(8))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The ledger account its spending is charged to (3101-<id>), opened when it is approved.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_accounts.id"), unique=True)
    report: Mapped[str | None] = mapped_column(Text)
    done_photo: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposed_by: Mapped["User | None"] = relationship()  # noqa: F821
    meetings: Mapped[list["FundMeeting"]] = relationship(
        back_populates="project", order_by="FundMeeting.id"
    )
    votes: Mapped[list["FundVote"]] = relationship(back_populates="project", order_by="FundVote.id")


class FundMeeting(db.Model):
    """A residents' representatives' meeting (居民代表会议) on a project, as the cadre recorded
    it; the outcome is computed from the figures and the organization's rule at that time."""

    __tablename__ = "fund_meetings"
    __table_args__ = (
        *non_negative("present", "votes_for", "votes_against", "votes_abstain"),
        CheckConstraint("total > 0 AND present <= total", name="present_within_total"),
        CheckConstraint(
            "votes_for + votes_against + votes_abstain <= present", name="votes_within_present"
        ),
        one_of("outcome", ("approved", "rejected", "no_quorum")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("fund_projects.id"), index=True)
    held_on: Mapped[date]
    total: Mapped[int]
    present: Mapped[int]
    votes_for: Mapped[int]
    votes_against: Mapped[int]
    votes_abstain: Mapped[int]
    minutes_photo: Mapped[str | None] = mapped_column(String(80))
    # The rule applied: quorum num/den of the representatives present, and "for" above
    # majority_pct % of those present.
    quorum_num: Mapped[int]
    quorum_den: Mapped[int]
    majority_pct: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(12))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[FundProject] = relationship(back_populates="meetings")


class FundHousehold(db.Model):
    """A household that may vote: building-unit-room only, no name, no phone."""

    __tablename__ = "fund_households"
    __table_args__ = (UniqueConstraint("organization_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    label: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FundVote(db.Model):
    """A household ballot (入户票决) on a project, open until `closes_at`."""

    __tablename__ = "fund_votes"
    __table_args__ = (
        one_of("state", ("open", "closed")),
        one_of("outcome", ("approved", "rejected")),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("(state = 'closed') = (outcome IS NOT NULL)", name="closed_has_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("fund_projects.id"), index=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    state: Mapped[str] = mapped_column(String(8), default="open")
    majority_pct: Mapped[int]
    # Counted once, when it closes.
    votes_for: Mapped[int | None]
    votes_against: Mapped[int | None]
    votes_abstain: Mapped[int | None]
    outcome: Mapped[str | None] = mapped_column(String(12))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    project: Mapped[FundProject] = relationship(back_populates="votes")


class BallotCode(db.Model):
    """One household's slip for one vote: the code only as a keyed hash, and whether it was used.
    No choice here."""

    __tablename__ = "fund_ballot_codes"
    __table_args__ = (
        CheckConstraint("length(code_hash) = 64", name="code_hash_sha256"),
        # One live slip per household and vote; a voided one may be reissued.
        Index(
            "uq_fund_ballot_codes_live",
            "vote_id",
            "household_id",
            unique=True,
            sqlite_where=text("voided = false"),
            postgresql_where=text("voided = false"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("fund_votes.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("fund_households.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    voided: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    household: Mapped[FundHousehold] = relationship()


class Ballot(db.Model):
    """A choice in a vote: a random key (insertion order says nothing), the keyed hash of the
    voter's receipt (to change it), no code, no household, no time."""

    __tablename__ = "fund_ballots"
    __table_args__ = (
        one_of("choice", ("for", "against", "abstain")),
        CheckConstraint("length(receipt_hash) = 64", name="receipt_hash_sha256"),
        # SQLite would otherwise keep a hidden rowid in insertion order.
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("fund_votes.id"), index=True)
    choice: Mapped[str] = mapped_column(String(8))
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
