"""The community's collective-economy company and who works for it."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, one_of, utcnow


class Organization(db.Model):
    """A 社区股份经济合作社: owns markets, staff roles and the ledger."""

    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("governance_fund_pct BETWEEN 0 AND 100", name="governance_fund_pct_range"),
        CheckConstraint(
            "expense_approval_threshold_fen >= 0",
            name="expense_approval_threshold_fen_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    short_name: Mapped[str] = mapped_column(String(40))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(200))
    # Share of each closed month's net income that goes to the community governance fund.
    governance_fund_pct: Mapped[int] = mapped_column(default=40, server_default=text("40"))
    # Expenses above this need a second cadre's approval.
    expense_approval_threshold_fen: Mapped[int] = mapped_column(
        default=50_000, server_default=text("50000")
    )
    # The governance fund's meeting rule: at least num/den of the representatives present,
    # and "for" above majority_pct % of those present (a household vote: of the ballots).
    fund_quorum_num: Mapped[int] = mapped_column(default=2, server_default=text("2"))
    fund_quorum_den: Mapped[int] = mapped_column(default=3, server_default=text("3"))
    fund_majority_pct: Mapped[int] = mapped_column(default=50, server_default=text("50"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The street office (街道) that supervises it, if any.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)

    area: Mapped["Area | None"] = relationship(back_populates="organizations")  # noqa: F821
    markets: Mapped[list["Market"]] = relationship(  # noqa: F821
        back_populates="organization", order_by="Market.id"
    )


class Role:
    VENDOR = "vendor"
    GUIDE = "guide"
    CADRE = "cadre"
    ADMIN = "admin"
    ALL = (VENDOR, GUIDE, CADRE, ADMIN)
    STAFF = (GUIDE, CADRE, ADMIN)
    MANAGERS = (CADRE, ADMIN)
    # Granted per area (AreaGrant), not per organization: reads what managers read, writes nothing.
    SUPERVISOR = "supervisor"
    READERS = (CADRE, ADMIN, SUPERVISOR)


class RoleGrant(db.Model):
    """A user's role in an organization, or in one market of it (guides)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        one_of("role", Role.ALL),
        # A guide works in named markets; cadres and admins act for the whole organization.
        CheckConstraint("(role = 'guide') = (market_id IS NOT NULL)", name="guide_has_market"),
        Index(
            "uq_role_grants_org_role",
            "user_id",
            "organization_id",
            "role",
            unique=True,
            sqlite_where=text("market_id IS NULL"),
            postgresql_where=text("market_id IS NULL"),
        ),
        Index(
            "uq_role_grants_market_role",
            "user_id",
            "market_id",
            "role",
            unique=True,
            sqlite_where=text("market_id IS NOT NULL"),
            postgresql_where=text("market_id IS NOT NULL"),
        ),
        # A guide's market must belong to the same organization as the grant.
        ForeignKeyConstraint(
            ["market_id", "organization_id"], ["markets.id", "markets.organization_id"]
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    market_id: Mapped[int | None] = mapped_column(index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped["User"] = relationship(back_populates="grants")  # noqa: F821
    organization: Mapped[Organization] = relationship()
    market: Mapped["Market | None"] = relationship(  # noqa: F821
        primaryjoin="RoleGrant.market_id == Market.id", foreign_keys=[market_id], viewonly=True
    )
