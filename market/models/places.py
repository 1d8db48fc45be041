"""Markets, their zones and stalls: the layout every other part reads."""

import secrets
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, one_of, utcnow


def new_stall_token() -> str:
    """128 random bits, URL-safe: what a stall's QR code carries instead of its id."""
    return secrets.token_urlsafe(16)


class Market(db.Model):
    __tablename__ = "markets"
    __table_args__ = (
        CheckConstraint("slug <> ''", name="slug_not_empty"),
        CheckConstraint(
            "geofence_radius_m IS NULL OR geofence_radius_m > 0", name="geofence_radius_positive"
        ),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"
        ),
        # Lets children (zones, guide grants) prove in the database that they stay in one org.
        UniqueConstraint("id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    address: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(
        String(64), default="Asia/Shanghai", server_default="Asia/Shanghai"
    )
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    geofence_radius_m: Mapped[int | None]
    collection_code_path: Mapped[str | None] = mapped_column(String(200))
    public_notice: Mapped[str | None] = mapped_column(Text)
    rules_text: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Bumped by every write to what the scan page caches per process (sessions, hours, fee
    # rules, organization), so a worker's cache check rides on the page's one read.
    data_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    organization: Mapped["Organization"] = relationship(back_populates="markets")  # noqa: F821
    zones: Mapped[list["Zone"]] = relationship(
        back_populates="market", order_by="(Zone.sort_order, Zone.id)"
    )


class Zone(db.Model):
    """片区: a named area (熟食, 果蔬 …) with its colour on the map."""

    __tablename__ = "zones"
    __table_args__ = (
        UniqueConstraint("market_id", "code"),
        UniqueConstraint("market_id", "name"),
        UniqueConstraint("id", "market_id"),
        CheckConstraint("color LIKE '#______'", name="color_hex"),
        CheckConstraint("code <> ''", name="code_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"), index=True)
    code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(40))
    color: Mapped[str] = mapped_column(String(7), default="#888888")
    sort_order: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Comma-separated category keys (cooked_food, produce, goods …) used by fees and registration.
    categories: Mapped[str] = mapped_column(String(200), default="", server_default="")
    goods_note: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))

    market: Mapped[Market] = relationship(back_populates="zones")
    stalls: Mapped[list["Stall"]] = relationship(
        back_populates="zone", order_by="Stall.code", overlaps="market"
    )


class StallStatus:
    ACTIVE = "active"
    DISABLED = "disabled"
    ALL = (ACTIVE, DISABLED)


class Stall(db.Model):
    __tablename__ = "stalls"
    __table_args__ = (
        UniqueConstraint("market_id", "code"),
        # The zone must belong to the stall's market.
        ForeignKeyConstraint(["zone_id", "market_id"], ["zones.id", "zones.market_id"]),
        one_of("status", StallStatus.ALL),
        CheckConstraint(
            "status = 'active' OR disabled_reason IS NOT NULL", name="disabled_has_reason"
        ),
        CheckConstraint("grid_row >= 0 AND grid_col >= 0", name="grid_position_non_negative"),
        CheckConstraint("grid_w > 0 AND grid_h > 0", name="grid_size_positive"),
        CheckConstraint("width_cm > 0 AND depth_cm > 0", name="size_positive"),
        CheckConstraint("length(qr_token) >= 22", name="qr_token_length"),
        Index("ix_stalls_market_id_zone_id", "market_id", "zone_id"),
        UniqueConstraint("id", "market_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    zone_id: Mapped[int]
    code: Mapped[str] = mapped_column(String(16))
    width_cm: Mapped[int] = mapped_column(default=200, server_default=text("200"))
    depth_cm: Mapped[int] = mapped_column(default=200, server_default=text("200"))
    has_power: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    grid_row: Mapped[int]
    grid_col: Mapped[int]
    grid_w: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    grid_h: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    status: Mapped[str] = mapped_column(
        String(16), default=StallStatus.ACTIVE, server_default=StallStatus.ACTIVE
    )
    disabled_reason: Mapped[str | None] = mapped_column(String(100))
    qr_token: Mapped[str] = mapped_column(String(43), unique=True, default=new_stall_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    market: Mapped[Market] = relationship(overlaps="stalls")
    zone: Mapped[Zone] = relationship(back_populates="stalls", overlaps="market")


class RetiredStallToken(db.Model):
    """A stall's previous QR token: scanning an old poster says 'replaced', not 'unknown'."""

    __tablename__ = "retired_stall_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(43), unique=True)
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id"), index=True)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
