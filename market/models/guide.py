"""The guide's work on the street: incidents at stalls and cash handed over after a shift."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, non_negative, one_of, utcnow

# What a guide logs (占道经营, 卫生, 噪音, 油烟, 纠纷) and what shoppers and neighbours complain of.
INCIDENT_KINDS = (
    "road",
    "hygiene",
    "noise",
    "smoke",
    "dispute",
    "short_weight",
    "price",
    "rude",
    "litter",
    "after_hours",
    "other",
)


class IncidentState:
    OPEN = "open"
    RESOLVED = "resolved"
    ALL = (OPEN, RESOLVED)


class Incident(db.Model):
    """Something wrong at a stall (or in the market) that a guide must see and deal with."""

    __tablename__ = "incidents"
    __table_args__ = (
        one_of("kind", INCIDENT_KINDS),
        one_of("state", IncidentState.ALL),
        one_of("source", ("guide", "complaint")),
        CheckConstraint(
            "(state = 'resolved') = (resolved_at IS NOT NULL)", name="resolved_has_time"
        ),
        Index("ix_incidents_market_id_state", "market_id", "state"),
        Index("ix_incidents_stall_id", "stall_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    # Empty for a complaint about the market as a whole (noise, a blocked road).
    stall_id: Mapped[int | None] = mapped_column(ForeignKey("stalls.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("market_sessions.id"))
    # Who traded at the stall when it was logged, if anyone.
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"))
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(12), default="guide", server_default="guide")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    photo: Mapped[str | None] = mapped_column(String(80))
    # Empty when a member of the public filed it.
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(
        String(12), default=IncidentState.OPEN, server_default=IncidentState.OPEN
    )
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stall: Mapped["Stall | None"] = relationship()  # noqa: F821
    reported_by: Mapped["User | None"] = relationship(foreign_keys=[reported_by_id])  # noqa: F821
    resolved_by: Mapped["User | None"] = relationship(foreign_keys=[resolved_by_id])  # noqa: F821


class HandoverState:
    PENDING = "pending"  # the guide handed the cash over; a cadre has not counted it yet
    CONFIRMED = "confirmed"
    ALL = (PENDING, CONFIRMED)


class CashHandover(db.Model):
    """A guide gives the cash collected to a cadre, who counts it. A difference is kept."""

    __tablename__ = "cash_handovers"
    __table_args__ = (
        one_of("state", HandoverState.ALL),
        *non_negative("expected_fen", "declared_fen"),
        CheckConstraint("received_fen IS NULL OR received_fen >= 0", name="received_non_negative"),
        CheckConstraint(
            "(state = 'confirmed') = (received_fen IS NOT NULL AND confirmed_at IS NOT NULL)",
            name="confirmed_has_count",
        ),
        CheckConstraint(
            "confirmed_by_id IS NULL OR confirmed_by_id <> guide_id", name="guide_not_own_cadre"
        ),
        Index("ix_cash_handovers_guide_id_created_at", "guide_id", "created_at"),
        Index("ix_cash_handovers_organization_id_state", "organization_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    guide_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # What the records say the guide holds, and what the guide says they hand over.
    expected_fen: Mapped[int]
    declared_fen: Mapped[int]
    # What the cadre counted; received - expected is the difference, recorded, never hidden.
    received_fen: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(
        String(12), default=HandoverState.PENDING, server_default=HandoverState.PENDING
    )
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    guide: Mapped["User"] = relationship(foreign_keys=[guide_id])  # noqa: F821
    confirmed_by: Mapped["User | None"] = relationship(foreign_keys=[confirmed_by_id])  # noqa: F821
    items: Mapped[list["HandoverItem"]] = relationship(back_populates="handover")

    @property
    def difference_fen(self) -> int | None:
        return None if self.received_fen is None else self.received_fen - self.expected_fen


class HandoverItem(db.Model):
    """A cash payment (or its reversal) covered by a hand-over; each one is handed over once."""

    __tablename__ = "handover_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("cash_handovers.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)

    handover: Mapped[CashHandover] = relationship(back_populates="items")
    payment: Mapped["Payment"] = relationship()  # noqa: F821
