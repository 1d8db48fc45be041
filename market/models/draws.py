"""摇号: a public, verifiable draw for the stalls held by the month or season.

A round is committed to a secret before anyone applies (its SHA-256 is public), freezes its
applicant list when the window closes (the list's canonical text and SHA-256 are public), and
is drawn once at the draw time from SHA-256(secret ‖ list hash). docs/draws.md says how."""

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, non_negative, one_of, utcnow


class DrawState:
    ANNOUNCED = "announced"  # committed; applications while the window is open
    FROZEN = "frozen"  # the window closed: the applicant list is fixed and published
    DRAWN = "drawn"  # the secret is revealed and the result computed, once
    ALL = (ANNOUNCED, FROZEN, DRAWN)


class ApplicationState:
    APPLIED = "applied"
    WITHDRAWN = "withdrawn"
    WON = "won"
    WAITING = "waiting"
    DECLINED = "declined"  # the winner said no: the stall went down the list
    FORFEITED = "forfeited"  # a cadre took it back (did not come, broke the rules)
    ALL = (APPLIED, WITHDRAWN, WON, WAITING, DECLINED, FORFEITED)


class DrawRound(db.Model):
    __tablename__ = "draw_rounds"
    __table_args__ = (
        one_of("state", DrawState.ALL),
        *non_negative("fee_fen"),
        CheckConstraint("months BETWEEN 1 AND 12", name="months_range"),
        CheckConstraint("quota_percent BETWEEN 0 AND 100", name="quota_percent_range"),
        CheckConstraint("opens_at < closes_at AND closes_at <= draw_at", name="times_in_order"),
        CheckConstraint("length(commitment) = 64", name="commitment_length"),
        # Once drawn, the result and the revealed secret are there; before, neither is.
        CheckConstraint(
            "(state = 'drawn') = (revealed_secret IS NOT NULL AND result IS NOT NULL)",
            name="drawn_has_result",
        ),
        CheckConstraint(
            "state = 'announced' OR (frozen_list IS NOT NULL AND list_hash IS NOT NULL)",
            name="frozen_has_list",
        ),
        Index("ix_draw_rounds_market_id_state", "market_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    title: Mapped[str] = mapped_column(String(80))
    period_start: Mapped[date]  # the first day of the first month
    months: Mapped[int]  # 1 = a month, 3 = a quarter
    fee_fen: Mapped[int]  # per month, before relief
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    draw_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Relief kinds (comma-separated, confirmed by a cadre) drawn first, up to the quota.
    priority_kinds: Mapped[str] = mapped_column(String(120), default="", server_default="")
    quota_percent: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    ranked: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    state: Mapped[str] = mapped_column(
        String(16), default=DrawState.ANNOUNCED, server_default=DrawState.ANNOUNCED
    )
    commitment: Mapped[str] = mapped_column(String(64))  # SHA-256 of the secret, hex
    sealed_secret: Mapped[str] = mapped_column(String(200))  # encrypted; see services/draws/seal
    frozen_list: Mapped[str | None] = mapped_column(Text)  # canonical JSON, published
    list_hash: Mapped[str | None] = mapped_column(String(64))
    revealed_secret: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(Text)  # canonical JSON of seed, order, result
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    market: Mapped["Market"] = relationship()  # noqa: F821
    stalls: Mapped[list["DrawStall"]] = relationship(
        back_populates="round", order_by="DrawStall.position"
    )
    applications: Mapped[list["DrawApplication"]] = relationship(
        back_populates="round", order_by="DrawApplication.number"
    )


class DrawStall(db.Model):
    """A stall of a round, in the round's order (the order unranked winners take them)."""

    __tablename__ = "draw_stalls"
    __table_args__ = (
        UniqueConstraint("round_id", "stall_id"),
        UniqueConstraint("round_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("draw_rounds.id"))
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id"))
    position: Mapped[int]

    round: Mapped[DrawRound] = relationship(back_populates="stalls")
    stall: Mapped["Stall"] = relationship()  # noqa: F821


class DrawApplication(db.Model):
    __tablename__ = "draw_applications"
    __table_args__ = (
        UniqueConstraint("round_id", "vendor_id"),
        UniqueConstraint("round_id", "number"),
        one_of("state", ApplicationState.ALL),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint("state <> 'won' OR stall_id IS NOT NULL", name="won_has_stall"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("draw_rounds.id"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    number: Mapped[int]  # 申请编号, 1, 2, … within the round
    preferences: Mapped[str] = mapped_column(String(400), default="", server_default="")
    state: Mapped[str] = mapped_column(
        String(16), default=ApplicationState.APPLIED, server_default=ApplicationState.APPLIED
    )
    position: Mapped[int | None]  # place in the draw order, 1-based, once drawn
    stall_id: Mapped[int | None] = mapped_column(ForeignKey("stalls.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    round: Mapped[DrawRound] = relationship(back_populates="applications")
    vendor: Mapped["Vendor"] = relationship()  # noqa: F821
    stall: Mapped["Stall | None"] = relationship()  # noqa: F821
