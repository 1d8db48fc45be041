"""The tide: templates of when a market opens, and each opening (场次)."""

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, one_of, utcnow

SESSION_KINDS = ("morning", "night", "special")


class SessionTemplate(db.Model):
    __tablename__ = "session_templates"
    __table_args__ = (
        one_of("kind", SESSION_KINDS),
        # Weekdays as a bitmask: Monday = 1, Tuesday = 2 … Sunday = 64.
        CheckConstraint("weekdays BETWEEN 1 AND 127", name="weekdays_mask"),
        # end < start means the session runs past midnight (18:00–01:00); equal is meaningless.
        CheckConstraint("start_local <> end_local", name="start_differs_from_end"),
        CheckConstraint("cutoff_minutes >= 0", name="cutoff_minutes_non_negative"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="valid_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16))
    weekdays: Mapped[int]
    start_local: Mapped[time]
    end_local: Mapped[time]
    # Minutes after opening until which a monthly-pass holder's stall is held.
    cutoff_minutes: Mapped[int] = mapped_column(default=30, server_default=text("30"))
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    market: Mapped["Market"] = relationship()  # noqa: F821


class SessionState:
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    ALL = (SCHEDULED, OPEN, CLOSED, CANCELLED)


class MarketSession(db.Model):
    """One opening of a market: scheduled → open → closed, or cancelled with a reason."""

    __tablename__ = "market_sessions"
    __table_args__ = (
        one_of("state", SessionState.ALL),
        one_of("kind", SESSION_KINDS),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(
            "state <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancel_has_reason"
        ),
        CheckConstraint("state <> 'closed' OR closed_at IS NOT NULL", name="closed_has_time"),
        # Generation from a template is idempotent: one session per template and business date.
        UniqueConstraint("template_id", "business_date"),
        UniqueConstraint("id", "market_id"),
        Index("ix_market_sessions_market_id_starts_at", "market_id", "starts_at"),
        Index("ix_market_sessions_state_ends_at", "state", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("session_templates.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # The local date on which the session starts, in the market's timezone.
    business_date: Mapped[date]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(
        String(16), default=SessionState.SCHEDULED, server_default=SessionState.SCHEDULED
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who or what last changed the state: a user, or the scheduler when NULL.
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    change_note: Mapped[str | None] = mapped_column(Text)
    # A cadre moved its times or its state by hand: template edits leave it alone from then on.
    is_manual: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Set when the session was cancelled by a closure (a date range), so lifting it can undo that.
    closure_id: Mapped[int | None] = mapped_column(ForeignKey("market_closures.id"), index=True)
    # When reserved stalls not claimed by the check-in cutoff were released (once per session).
    reservations_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    market: Mapped["Market"] = relationship()  # noqa: F821
    template: Mapped[SessionTemplate | None] = relationship()
    changed_by: Mapped["User | None"] = relationship()  # noqa: F821
    closure: Mapped["MarketClosure | None"] = relationship()


class MarketClosure(db.Model):
    """A cadre closes the market for a range of business dates (Spring Festival, road works).

    Kept as a row, not only as cancelled sessions, because the range may reach past the
    sessions generated so far: generation creates sessions inside it already cancelled."""

    __tablename__ = "market_closures"
    __table_args__ = (
        CheckConstraint("last_date >= first_date", name="date_range"),
        CheckConstraint("reason <> ''", name="reason_not_empty"),
        Index("ix_market_closures_market_id_first_date", "market_id", "first_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    first_date: Mapped[date]
    last_date: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Lifting keeps the row (and its history): sessions it cancelled that are still ahead return.
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    market: Mapped["Market"] = relationship()  # noqa: F821


class SchedulerLease(db.Model):
    """Who runs the scheduler, on SQLite (PostgreSQL uses an advisory lock instead).

    The holder renews `expires_at` on every tick; another process takes over once it is past."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
