"""摊主: a person registered to trade in an organization's markets."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, one_of, utcnow


class VendorStatus:
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    ALL = (PENDING, APPROVED, REJECTED, SUSPENDED)


class Relief:
    """Fee-relief claims a cadre confirms (低保户, 残疾人, 退役军人, 脱贫户, 助农)."""

    KINDS = ("low_income", "disability", "veteran", "poverty_alleviated", "farmer", "other")
    STATUSES = ("none", "claimed", "confirmed", "declined")


class Vendor(db.Model):
    __tablename__ = "vendors"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id"),
        one_of("status", VendorStatus.ALL),
        one_of("relief_status", Relief.STATUSES),
        CheckConstraint(
            f"relief_kind IS NULL OR relief_kind IN ({', '.join(repr(k) for k in Relief.KINDS)})",
            name="relief_kind_valid",
        ),
        CheckConstraint(
            "(relief_status = 'none') = (relief_kind IS NULL)", name="relief_kind_when_claimed"
        ),
        # Food sellers must hold a health certificate (健康证).
        CheckConstraint(
            "NOT sells_food OR (health_cert_no IS NOT NULL AND health_cert_expires IS NOT NULL)",
            name="food_needs_health_cert",
        ),
        CheckConstraint(
            "status NOT IN ('rejected', 'suspended') OR status_reason IS NOT NULL",
            name="decision_has_reason",
        ),
        CheckConstraint(
            "(pending_cert_no IS NULL) = (pending_cert_expires IS NULL)",
            name="pending_cert_complete",
        ),
        Index("ix_vendors_organization_id_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The market whose stall poster they registered from: its zones give the categories.
    market_id: Mapped[int | None] = mapped_column(ForeignKey("markets.id"))
    status: Mapped[str] = mapped_column(
        String(16), default=VendorStatus.PENDING, server_default=VendorStatus.PENDING
    )
    status_reason: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    goods: Mapped[str] = mapped_column(String(200))
    sells_food: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    health_cert_no: Mapped[str | None] = mapped_column(String(40))
    health_cert_expires: Mapped[date | None]
    health_cert_photo: Mapped[str | None] = mapped_column(String(200))
    # A renewed certificate waits here for a cadre; the vendor trades on the approved one meanwhile.
    pending_cert_no: Mapped[str | None] = mapped_column(String(40))
    pending_cert_expires: Mapped[date | None]
    pending_cert_photo: Mapped[str | None] = mapped_column(String(200))
    cert_change_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    relief_kind: Mapped[str | None] = mapped_column(String(24))
    relief_note: Mapped[str | None] = mapped_column(Text)
    relief_status: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    rules_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821
    organization: Mapped["Organization"] = relationship()  # noqa: F821
    market: Mapped["Market | None"] = relationship()  # noqa: F821
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id])  # noqa: F821
