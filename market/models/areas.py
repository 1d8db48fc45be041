"""The street office (街道) or district (区) above the communities, and who supervises it."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, one_of, utcnow


class Area(db.Model):
    """A 街道 / 区 grouping organizations; an organization belongs to at most one area."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organizations: Mapped[list["Organization"]] = relationship(  # noqa: F821
        back_populates="area", order_by="Organization.id"
    )


AREA_ROLES = ("supervisor",)


class AreaGrant(db.Model):
    """A user's role in an area, as RoleGrant is in an organization: a supervisor reads
    every organization of the area and writes nothing there."""

    __tablename__ = "area_grants"
    __table_args__ = (
        one_of("role", AREA_ROLES),
        UniqueConstraint("user_id", "area_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped["User"] = relationship(back_populates="area_grants")  # noqa: F821
    area: Mapped[Area] = relationship()
