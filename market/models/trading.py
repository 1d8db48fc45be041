"""A vendor's evening: the check-in on a stall, the fee it owes and what was paid."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, non_negative, one_of, utcnow


class CheckInState:
    ACTIVE = "active"
    CHECKED_OUT = "checked_out"
    ALL = (ACTIVE, CHECKED_OUT)


class CheckIn(db.Model):
    __tablename__ = "checkins"
    __table_args__ = (
        one_of("state", CheckInState.ALL),
        CheckConstraint("(state = 'active') = (left_at IS NULL)", name="left_at_when_checked_out"),
        CheckConstraint("left_at IS NULL OR left_at >= arrived_at", name="leaves_after_arrival"),
        # The database, not the code, guarantees one vendor per stall and one stall per vendor.
        Index(
            "uq_checkins_active_stall",
            "session_id",
            "stall_id",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
        Index(
            "uq_checkins_active_vendor",
            "session_id",
            "vendor_id",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
        # Stall and session belong to the same market, checked by the database.
        ForeignKeyConstraint(
            ["session_id", "market_id"], ["market_sessions.id", "market_sessions.market_id"]
        ),
        ForeignKeyConstraint(["stall_id", "market_id"], ["stalls.id", "stalls.market_id"]),
        Index("ix_checkins_vendor_id_arrived_at", "vendor_id", "arrived_at"),
        Index("ix_checkins_stall_id", "stall_id"),
        Index("ix_checkins_market_id_session_id", "market_id", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    session_id: Mapped[int] = mapped_column()
    stall_id: Mapped[int] = mapped_column()
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    state: Mapped[str] = mapped_column(
        String(16), default=CheckInState.ACTIVE, server_default=CheckInState.ACTIVE
    )
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a guide checked in a vendor without a smartphone.
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Flagged for the guide when the phone reported a position outside the geofence.
    outside_geofence: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    session: Mapped["MarketSession"] = relationship(  # noqa: F821
        primaryjoin="CheckIn.session_id == MarketSession.id",
        foreign_keys=[session_id],
        viewonly=True,
    )
    stall: Mapped["Stall"] = relationship(  # noqa: F821
        primaryjoin="CheckIn.stall_id == Stall.id", foreign_keys=[stall_id], viewonly=True
    )
    vendor: Mapped["Vendor"] = relationship()  # noqa: F821
    charge: Mapped["Charge | None"] = relationship(back_populates="checkin")


class Charge(db.Model):
    """The fee one check-in owes, with how it was computed. Never edited after the fact."""

    __tablename__ = "charges"
    __table_args__ = (
        *non_negative("base_fen", "extras_fen", "relief_fen", "amount_fen"),
        CheckConstraint("relief_fen <= base_fen", name="relief_within_base"),
        CheckConstraint(
            "amount_fen = base_fen + extras_fen - relief_fen", name="amount_is_breakdown"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One charge per check-in, whatever the retries.
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id"), unique=True)
    base_fen: Mapped[int]
    extras_fen: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    relief_fen: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    amount_fen: Mapped[int]
    # A readable breakdown (rule names, relief kind) as computed at the time.
    breakdown: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Set at session close when something was still unpaid.
    receivable_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    checkin: Mapped[CheckIn] = relationship(back_populates="charge")
    payments: Mapped[list["Payment"]] = relationship(back_populates="charge", order_by="Payment.id")


class PaymentMethod:
    CASH = "cash"
    COLLECTION_CODE = "collection_code"
    WAIVER = "waiver"
    ALL = (CASH, COLLECTION_CODE, WAIVER)


class PaymentStatus:
    PENDING = "pending"  # a collection-code payment the vendor reported, not yet confirmed
    CONFIRMED = "confirmed"
    ALL = (PENDING, CONFIRMED)


CASH_UNHANDED = "method = 'cash' AND status = 'confirmed' AND handover_id IS NULL"


class Payment(db.Model):
    """Money against a charge. A mistake is undone by a reversing payment, never a delete."""

    __tablename__ = "payments"
    __table_args__ = (
        one_of("method", PaymentMethod.ALL),
        one_of("status", PaymentStatus.ALL),
        CheckConstraint("amount_fen > 0", name="amount_fen_positive"),
        CheckConstraint("method <> 'waiver' OR note IS NOT NULL", name="waiver_has_reason"),
        CheckConstraint(
            "status <> 'confirmed' OR confirmed_at IS NOT NULL", name="confirmed_has_time"
        ),
        Index("ix_payments_charge_id", "charge_id"),
        Index("ix_payments_recorded_by_id_recorded_at", "recorded_by_id", "recorded_at"),
        # Cash a guide still holds: a few rows however long the market has traded.
        Index(
            "ix_payments_cash_unhanded",
            "charge_id",
            sqlite_where=text(CASH_UNHANDED),
            postgresql_where=text(CASH_UNHANDED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("charges.id"))
    method: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    # The WeChat/Alipay transaction reference for a collection-code payment.
    reference: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A reversing record points at the payment it voids; each payment is voided at most once.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    # The hand-over that took this cash payment, set with its HandoverItem (which holds the
    # foreign key: migration 0019 could not add one to this table in place on SQLite).
    handover_id: Mapped[int | None]

    charge: Mapped[Charge] = relationship(back_populates="payments")
    recorded_by: Mapped["User"] = relationship(foreign_keys=[recorded_by_id])  # noqa: F821
    confirmed_by: Mapped["User | None"] = relationship(  # noqa: F821
        foreign_keys=[confirmed_by_id]
    )
