"""Complaints from shoppers and neighbours: each one opens an incident for the market's guides."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, one_of, utcnow

# A shopper about a stall (短斤少两, 卫生, 价格, 态度), a neighbour about the market (扰民, 油烟 …).
STALL_COMPLAINT_KINDS = ("short_weight", "hygiene", "price", "rude", "other")
MARKET_COMPLAINT_KINDS = ("noise", "smoke", "litter", "road", "after_hours", "other")
COMPLAINT_KINDS = tuple(dict.fromkeys(STALL_COMPLAINT_KINDS + MARKET_COMPLAINT_KINDS))


class Complaint(db.Model):
    """What a member of the public wrote. Its status is its incident's: open or resolved.

    The tracking code is the only key the complainant holds (128 random bits); the address is
    kept only as a keyed hash, enough to count complaints from one address in a day."""

    __tablename__ = "complaints"
    __table_args__ = (
        one_of("kind", COMPLAINT_KINDS),
        CheckConstraint("length(tracking_code) >= 22", name="tracking_code_length"),
        CheckConstraint("length(text) BETWEEN 1 AND 1000", name="text_length"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="lat_lng_together"),
        CheckConstraint("(map_x IS NULL) = (map_y IS NULL)", name="map_xy_together"),
        Index("ix_complaints_market_id_created_at", "market_id", "created_at"),
        Index("ix_complaints_ip_hash_created_at", "ip_hash", "created_at"),
        Index("ix_complaints_stall_id", "stall_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(43), unique=True)
    # The same key in 8 characters to read aloud or write down (services.complaints.codes).
    short_code: Mapped[str | None] = mapped_column(String(8), unique=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    # Empty for a complaint about the market as a whole.
    stall_id: Mapped[int | None] = mapped_column(ForeignKey("stalls.id"))
    # Who traded at the stall when the complaint came in (for the vendor's count).
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(80))
    # Where, optionally: a cell of the market map, or the phone's position.
    map_x: Mapped[int | None]
    map_y: Mapped[int | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    # A retried form or API call (same key, same content) gives back this complaint.
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    incident: Mapped["Incident"] = relationship()  # noqa: F821
    stall: Mapped["Stall | None"] = relationship()  # noqa: F821
    vendor: Mapped["Vendor | None"] = relationship()  # noqa: F821
