"""What a stall costs: fee rules, relief discounts, monthly passes. Charges copy the numbers,
so a rule changed later never alters a charge already made."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .sessions import SESSION_KINDS
from .types import UTCDateTime, non_negative, one_of, utcnow
from .vendors import Relief

_KINDS = ", ".join(repr(k) for k in SESSION_KINDS)


class FeeRule(db.Model):
    """The fee for stalls of a zone (or all zones) in sessions of a kind (or all kinds),
    in force for sessions starting at or after `effective_from`."""

    __tablename__ = "fee_rules"
    __table_args__ = (
        *non_negative("base_fen", "power_fen"),
        CheckConstraint(
            f"session_kind IS NULL OR session_kind IN ({_KINDS})", name="session_kind_valid"
        ),
        Index("ix_fee_rules_market_id_effective_from", "market_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"))
    session_kind: Mapped[str | None] = mapped_column(String(16))
    base_fen: Mapped[int]
    # Extra for a stall with a power outlet (electricity).
    power_fen: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    zone: Mapped["Zone | None"] = relationship()  # noqa: F821


class ReliefRule(db.Model):
    """The discount on the base fee for a confirmed relief status (100 % = free)."""

    __tablename__ = "relief_rules"
    __table_args__ = (
        one_of("relief_kind", Relief.KINDS),
        CheckConstraint("percent_off BETWEEN 0 AND 100", name="percent_off_range"),
        Index("ix_relief_rules_market_id_effective_from", "market_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    relief_kind: Mapped[str] = mapped_column(String(24))
    percent_off: Mapped[int]
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MonthlyPass(db.Model):
    """A vendor paid for a month on one stall: no daily charge, the stall held until cutoff."""

    __tablename__ = "monthly_passes"
    __table_args__ = (
        *non_negative("amount_fen"),
        one_of("status", ("active", "cancelled")),
        CheckConstraint("valid_until >= valid_from", name="valid_range"),
        Index("ix_monthly_passes_stall_id_valid_from", "stall_id", "valid_from"),
        Index("ix_monthly_passes_vendor_id", "vendor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    amount_fen: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stall: Mapped["Stall"] = relationship()  # noqa: F821
    vendor: Mapped["Vendor"] = relationship()  # noqa: F821


class CheckInMove(db.Model):
    """A vendor moved to another stall within a session: one check-in, its history here."""

    __tablename__ = "checkin_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id"), index=True)
    from_stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id"))
    to_stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id"))
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotencyRecord(db.Model):
    """The first answer to a write, replayed for a retry with the same key (API header or
    the nonce of a page form)."""

    __tablename__ = "idempotency_records"
    __table_args__ = (Index("uq_idempotency_records_key", "user_id", "scope", "key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scope: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int]
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
