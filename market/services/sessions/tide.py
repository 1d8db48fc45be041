"""Market sessions (场次): moving them with the clock, and what the market's status is.

`reconcile(now)` is the scheduler's whole job and is safe to run any number of times, from
any number of processes: every transition locks its session row and re-checks its state, so
the effects of opening and closing happen once, and one tick after downtime catches up.

Elsewhere: the plan and generation (sessions.plan), templates
(sessions.templates), cadre actions (sessions.actions), closures for date
ranges (sessions.closures), the evening's money (sessions.takings).
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select

from ...extensions import db
from ...models import Market, MarketSession, SessionState
from ..auth import access
from ..common import audit
from ..common.clock import as_utc
from ..common.errors import DomainError, NotFound
from ..ledger import postings as ledger_postings
from . import takings
from .plan import HORIZON_DAYS, generate_ahead, local_today, zone_of

__all__ = ["HORIZON_DAYS", "generate_ahead", "local_today", "zone_of"]

log = logging.getLogger("market.sessions")
S = SessionState


# --- monthly-pass reservations ----------------------------------------------------------------


def hold_reserved_stalls(session: MarketSession, at: datetime) -> None:
    """Nothing to store: a stall with a monthly pass is held because checkin.checkins reads the
    pass and `session.cutoff_at` at every scan (checkin.reserved_for). Kept as the hook for
    opening effects that do need writing (e.g. notifying holders)."""


def release_reserved_stalls(session: MarketSession, at: datetime) -> None:
    """Nothing to store either: after `session.cutoff_at` checkin.reserved_for no longer holds
    the stall, so it is free for anyone. The tick records the moment once
    (`reservations_released_at`)."""


# --- transitions -----------------------------------------------------------------------------


def locked(session_id: int) -> MarketSession | None:
    """The session row, locked for this transaction (PostgreSQL; SQLite writers are already
    serialised by BEGIN IMMEDIATE) and read fresh, so its state can be trusted."""
    return db.session.scalar(
        select(MarketSession)
        .where(MarketSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def record(action: str, session: MarketSession, at: datetime, actor=None, **detail) -> None:
    event = audit.record(
        action,
        session,
        actor=actor,
        organization_id=session.market.organization_id,
        ip=detail.pop("ip", None),
        by="user" if actor is not None else "scheduler",
        business_date=session.business_date.isoformat(),
        **detail,
    )
    event.at = at


def _mark(session: MarketSession, actor, note: str | None) -> None:
    session.changed_by_id = actor.id if actor is not None else None
    session.change_note = note


def open_session(session: MarketSession, at: datetime, actor=None, note=None, ip=None) -> None:
    """scheduled → open, with its opening effects. The caller holds the row lock."""
    session.state = S.OPEN
    session.opened_at = at
    _mark(session, actor, note)
    hold_reserved_stalls(session, at)
    record("session.opened", session, at, actor, ip=ip, note=note)


def end_session(
    session: MarketSession, at: datetime, actor=None, *, reason=None, note=None, ip=None
) -> takings.CloseEffects:
    """open (or scheduled) → closed, or → cancelled when a reason is given, with the close
    effects. The caller holds the row lock and has checked the state: this runs once."""
    if session.opened_at is None and session.state == S.SCHEDULED and at >= session.ends_at:
        session.opened_at = session.starts_at  # missed while the server was down
    session.state = S.CANCELLED if reason else S.CLOSED
    session.cancel_reason = reason
    session.closed_at = at
    _mark(session, actor, note)
    effects = takings.close_effects(session, at, actor.id if actor is not None else None)
    # In this same transaction: a closed session and its ledger entry commit together or not
    # at all (unpaid charges to receivables, relief by the rules to the contra account).
    ledger_postings.post_session_close(session, effects.takings, actor)
    record(
        "session.cancelled" if reason else "session.closed",
        session,
        at,
        actor,
        ip=ip,
        reason=reason,
        note=note,
        checked_out=effects.checked_out,
        receivables=effects.receivables,
        takings=effects.takings.as_dict(),
    )
    return effects


# --- the scheduler's job ---------------------------------------------------------------------


@dataclass
class TickReport:
    now: datetime
    generated: int = 0
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Set when the tick did nothing because its clock was not to be trusted (clockguard).
    refused: str | None = None

    def lines(self) -> list[str]:
        if self.refused:
            return [f"tick at {self.now.isoformat()}", self.refused]
        out = [f"tick at {self.now.isoformat()}", f"generated {self.generated} session(s)"]
        out += [f"opened {x}" for x in self.opened]
        out += [f"closed {x}" for x in self.closed]
        out += [f"released reserved stalls of {x}" for x in self.released]
        out += [f"ERROR {x}" for x in self.errors]
        return out


def describe(session: MarketSession) -> str:
    """One line for the tick's report. Never raises: a session must close even when its
    market's zone has been broken since it was planned (its times are in UTC already)."""
    try:
        zone = zone_of(session.market)
    except DomainError:
        zone = UTC
    start = session.starts_at.astimezone(zone).strftime("%H:%M")
    end = session.ends_at.astimezone(zone).strftime("%H:%M")
    return (
        f"#{session.id} {session.market.slug} {session.business_date} {session.kind} {start}–{end}"
    )


def _guarded(report: TickReport, what: str, step) -> None:
    """One market's generation or one session's transition: a savepoint, so one bad row is
    logged and skipped instead of stopping every market's tick."""
    try:
        with db.session.begin_nested():
            step()
    except DomainError as e:  # bad data, e.g. an unknown zone: say which, no traceback
        log.warning("tick step refused: %s: %s", what, e.message)
        report.errors.append(what)
    except Exception:
        log.exception("tick step failed: %s", what)
        report.errors.append(what)


def _ids(query) -> list[int]:
    return list(db.session.scalars(query.order_by(MarketSession.starts_at, MarketSession.id)))


def _close_due(session_id: int, now: datetime, report: TickReport) -> None:
    session = locked(session_id)
    due = session.ends_at <= now and session.state in (S.OPEN, S.SCHEDULED)
    if due:
        effects = end_session(session, session.ends_at)
        report.closed.append(
            f"{describe(session)} ({effects.checked_out} checked out, "
            f"{effects.receivables} receivable)"
        )


def _open_due(session_id: int, now: datetime, report: TickReport) -> None:
    session = locked(session_id)
    if session.state == S.SCHEDULED and session.starts_at <= now < session.ends_at:
        open_session(session, session.starts_at)
        report.opened.append(describe(session))


def _release_due(session_id: int, now: datetime, report: TickReport) -> None:
    session = locked(session_id)
    if session.state == S.OPEN and session.reservations_released_at is None:
        release_reserved_stalls(session, now)
        session.reservations_released_at = now
        report.released.append(describe(session))


def reconcile(now: datetime) -> TickReport:
    """Make every session what the clock says at `now`: generate ahead, close what has
    ended, open what has begun, release reservations past the cutoff. Idempotent, and it
    catches up after downtime. The caller commits."""
    now = as_utc(now)
    report = TickReport(now)
    markets = db.session.scalars(select(Market).where(Market.is_active.is_(True))).all()
    for market in markets:

        def generate(market=market):
            made = generate_ahead(market, now)
            if made:
                # Written like every other change the guides' board may show (a first
                # upcoming session), so the board's change marker moves (guide.changes).
                audit.record(
                    "market.sessions_planned",
                    market,
                    organization_id=market.organization_id,
                    generated=made,
                )
            report.generated += made

        _guarded(report, f"generate {market.slug}", generate)
    base = select(MarketSession.id)
    due = [
        (
            _close_due,
            base.where(MarketSession.state.in_((S.OPEN, S.SCHEDULED))).where(
                MarketSession.ends_at <= now
            ),
        ),
        (
            _open_due,
            base.where(MarketSession.state == S.SCHEDULED).where(
                MarketSession.starts_at <= now, MarketSession.ends_at > now
            ),
        ),
        (
            _release_due,
            base.where(MarketSession.state == S.OPEN).where(
                MarketSession.cutoff_at <= now, MarketSession.reservations_released_at.is_(None)
            ),
        ),
    ]
    for step, query in due:
        for session_id in _ids(query):
            _guarded(
                report,
                f"{step.__name__} #{session_id}",
                lambda s=session_id, f=step: f(s, now, report),
            )
    return report


# --- what people see -------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketStatus:
    """Whether a market is open at `now`, and if not, when it next opens or why it doesn't.

    The stall page uses it now, the public market page later: templates/sessions/_status.html
    turns it into a sentence ("Opens tonight at 18:00")."""

    market: Market
    now: datetime
    zone: ZoneInfo
    current: MarketSession | None = None  # open now
    upcoming: MarketSession | None = None  # the next session that will open
    cancelled: MarketSession | None = None  # a cancelled session before `upcoming`

    @property
    def is_open(self) -> bool:
        return self.current is not None

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def day_word(self, session: MarketSession) -> str:
        """today, tonight, tomorrow or other: how to name the session's day in a sentence."""
        today = self.local(self.now).date()
        start = self.local(session.starts_at)
        if session.business_date == today:
            return "tonight" if start.hour >= 17 else "today"
        return "tomorrow" if session.business_date == today + timedelta(days=1) else "other"


def market_status(market: Market, now: datetime) -> MarketStatus:
    """A session is current when it is open, or scheduled and already begun (the scheduler
    opens it within the minute: the clock, not the tick, is the truth)."""
    now = as_utc(now)
    ahead = db.session.scalars(
        select(MarketSession)
        .where(
            MarketSession.market_id == market.id,
            MarketSession.ends_at > now,
            MarketSession.state != S.CLOSED,
        )
        .order_by(MarketSession.starts_at, MarketSession.id)
        .limit(AHEAD)
    ).all()
    return status_among(market, now, ahead)


AHEAD = 60  # sessions read to find the current, the next and a cancelled one before it


def status_among(market, now: datetime, ahead) -> MarketStatus:
    """`market_status` over sessions already read, in time order (a worker's cached copy of
    the market's sessions not closed): those ended by `now` are skipped."""
    found = {"current": None, "upcoming": None, "cancelled": None}
    for session in ahead:
        if session.ends_at <= now or session.state == S.CLOSED:
            continue
        if session.state == S.OPEN or (session.state == S.SCHEDULED and session.starts_at <= now):
            found["current"] = found["current"] or session
        elif session.state == S.CANCELLED:
            found["cancelled"] = found["cancelled"] or (None if found["upcoming"] else session)
        elif found["upcoming"] is None:
            found["upcoming"] = session
    return MarketStatus(market=market, now=now, zone=zone_of(market), **found)


def current_session(market_id: int, now: datetime) -> MarketSession | None:
    """The session open at `now` (the same rule as market_status, in one small query): open
    (a cadre may open one early), or scheduled and already begun; not yet ended."""
    now = as_utc(now)
    return db.session.scalar(
        select(MarketSession)
        .where(
            MarketSession.market_id == market_id,
            MarketSession.ends_at > now,
            or_(
                MarketSession.state == S.OPEN,
                and_(MarketSession.state == S.SCHEDULED, MarketSession.starts_at <= now),
            ),
        )
        .order_by(MarketSession.starts_at, MarketSession.id)
        .limit(1)
    )


def sessions_between(market: Market, first: date, last: date):
    """A select() of the market's sessions with business dates first … last, in time order."""
    return (
        select(MarketSession)
        .where(
            MarketSession.market_id == market.id,
            MarketSession.business_date.between(first, last),
        )
        .order_by(MarketSession.starts_at, MarketSession.id)
    )


def session_for_staff(user, session_id: int) -> MarketSession:
    """Guides of its market and cadres of its organization; 404 for everyone else."""
    session = db.session.get(MarketSession, session_id)
    if session is None or not access.can_guide_market(user, session.market):
        raise NotFound()
    return session


def session_for_viewer(user, session_id: int) -> MarketSession:
    """For reading its page: staff, and the supervisors of its street office; else 404."""
    session = db.session.get(MarketSession, session_id)
    if session is None or not access.can_view_market(user, session.market):
        raise NotFound()
    return session


def session_for_manager(user, session_id: int) -> MarketSession:
    session = db.session.get(MarketSession, session_id)
    if session is None or not access.can_manage_market(user, session.market):
        raise NotFound()
    return session
