"""What a cadre does to one session by hand: open early, close early, cancel, extend, reinstate,
reopen.

Each action locks the session row, checks its state under the lock (the scheduler may be
acting on it at the same moment), marks it as changed by hand (template edits leave it alone
from then on) and records an audit event. The caller commits.
"""

from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import MarketSession, SessionState
from ..common.clock import as_utc
from ..common.errors import Conflict, InvalidInput
from ..ledger import postings as ledger_postings
from . import notes, takings
from . import tide as sessions
from .plan import local_to_utc, zone_of

S = SessionState
OPEN_EARLY_LIMIT = timedelta(hours=6)
MAX_LENGTH = timedelta(hours=24)
REASON_MAX = 200


def clean_reason(reason) -> str:
    reason = (reason or "").strip() if isinstance(reason, str | None) else ""
    if not reason:
        raise InvalidInput(
            _l("Say why, e.g. heavy rain or road works."), code="reason_required", field="reason"
        )
    if len(reason) > REASON_MAX:
        raise InvalidInput(_l("Keep the reason under 200 characters."), field="reason")
    return reason


def _locked(session: MarketSession) -> MarketSession:
    return sessions.locked(session.id)


def _touch(session: MarketSession, actor, note: str) -> None:
    session.is_manual = True
    session.changed_by_id = actor.id if actor is not None else None
    session.change_note = note


def _no_other_open(s: MarketSession) -> None:
    other = db.session.scalar(
        select(MarketSession.id).where(
            MarketSession.market_id == s.market_id,
            MarketSession.state == S.OPEN,
            MarketSession.id != s.id,
        )
    )
    if other:
        raise Conflict(
            _l("Another session of this market is open; close it first."),
            code="other_session_open",
        )


def open_now(session: MarketSession, *, now: datetime, actor=None, ip=None) -> MarketSession:
    """Open a scheduled session now: early (at most six hours) or when the tick lags."""
    now = as_utc(now)
    s = _locked(session)
    if s.state != S.SCHEDULED:
        raise Conflict(_l("Only a scheduled session can be opened."), code="not_scheduled")
    if now >= s.ends_at:
        raise Conflict(_l("This session is already over."), code="session_over")
    if s.starts_at - now > OPEN_EARLY_LIMIT:
        raise Conflict(
            _l("A session can be opened at most 6 hours before its start."), code="too_early"
        )
    _no_other_open(s)
    note = notes.OPENED_EARLY if now < s.starts_at else notes.OPENED_BY_HAND
    _touch(s, actor, note)
    sessions.open_session(s, now, actor, note=note, ip=ip)
    return s


def close_now(session: MarketSession, *, now: datetime, actor=None, ip=None) -> MarketSession:
    """Close an open session now, before its planned end, with all the close effects."""
    now = as_utc(now)
    s = _locked(session)
    if s.state != S.OPEN:
        raise Conflict(_l("Only an open session can be closed."), code="not_open")
    _touch(s, actor, notes.CLOSED_EARLY)
    sessions.end_session(s, min(now, s.ends_at), actor, note=notes.CLOSED_EARLY, ip=ip)
    return s


def cancel(session: MarketSession, reason, *, now: datetime, actor=None, ip=None) -> MarketSession:
    """Cancel a scheduled session, or an open one (rain at eight): then vendors are checked
    out now and the evening's charges are settled as at any close."""
    reason = clean_reason(reason)
    now = as_utc(now)
    s = _locked(session)
    if s.state == S.OPEN:
        _touch(s, actor, notes.CANCELLED)
        sessions.end_session(
            s, min(now, s.ends_at), actor, reason=reason, note=notes.CANCELLED, ip=ip
        )
    elif s.state == S.SCHEDULED:
        _touch(s, actor, notes.CANCELLED)
        s.state, s.cancel_reason = S.CANCELLED, reason
        sessions.record("session.cancelled", s, now, actor, ip=ip, reason=reason)
    else:
        raise Conflict(_l("This session is already closed or cancelled."), code="session_finished")
    return s


def end_for_local_time(session: MarketSession, clock: time) -> datetime:
    """The first moment after the session's start when the market's clock shows `clock`."""
    zone = zone_of(session.market)
    end = local_to_utc(session.business_date, clock, zone)
    if end <= session.starts_at:
        end = local_to_utc(session.business_date + timedelta(days=1), clock, zone)
    return end


def _next_session(s: MarketSession) -> MarketSession | None:
    return db.session.scalar(
        select(MarketSession)
        .where(
            MarketSession.market_id == s.market_id,
            MarketSession.id != s.id,
            MarketSession.starts_at >= s.starts_at,
            MarketSession.state.in_((S.SCHEDULED, S.OPEN)),
        )
        .order_by(MarketSession.starts_at)
        .limit(1)
    )


def extend(
    session: MarketSession, new_end: datetime, *, now: datetime, actor=None, ip=None
) -> MarketSession:
    """Move a scheduled or open session's end later, up to the next session's start."""
    try:
        new_end, now = as_utc(new_end), as_utc(now)
    except OverflowError:  # year 9999 with a negative offset
        raise InvalidInput(_l("That end is out of range."), field="ends_at") from None
    s = _locked(session)
    if s.state not in (S.SCHEDULED, S.OPEN):
        raise Conflict(_l("This session is already closed or cancelled."), code="session_finished")
    if new_end <= s.ends_at or new_end <= now:
        raise InvalidInput(
            _l("The new end must be later than the current end and than now."),
            code="not_later",
            field="ends_at",
        )
    following = _next_session(s)
    if following is not None and new_end > following.starts_at:
        raise Conflict(
            _l("That runs into the next session; end it before that one starts."),
            code="overlaps_next",
            field="ends_at",
        )
    if new_end - s.starts_at > MAX_LENGTH:
        raise InvalidInput(_l("A session lasts at most 24 hours."), field="ends_at")
    old = s.ends_at
    _touch(s, actor, notes.EXTENDED)
    s.ends_at = new_end
    sessions.record(
        "session.extended", s, now, actor, ip=ip, old_end=old.isoformat(), new_end=new_end
    )
    return s


def reinstate(session: MarketSession, *, now: datetime, actor=None, ip=None) -> MarketSession:
    """Undo the cancellation of a session that never opened and is not over yet."""
    now = as_utc(now)
    s = _locked(session)
    if s.state != S.CANCELLED or s.opened_at is not None or s.ends_at <= now:
        raise Conflict(
            _l("Only a cancelled session that never opened and is not over can be reinstated."),
            code="not_reinstatable",
        )
    reason = s.cancel_reason
    _touch(s, actor, notes.REINSTATED)
    s.state, s.cancel_reason, s.closure_id = S.SCHEDULED, None, None
    sessions.record("session.reinstated", s, now, actor, ip=ip, was=reason)
    return s


def reopen(session: MarketSession, reason, *, now: datetime, actor=None, ip=None) -> MarketSession:
    """Undo a close that came too early (closed by hand by mistake, or by a tick whose clock
    was ahead), while the session's planned hours have not passed. Everything the close did is
    undone by new records (see takings.reopen_effects and postings.post_session_reopen); the
    scheduler leaves the session alone until its planned end, when it closes it again."""
    reason = clean_reason(reason)
    now = as_utc(now)
    s = _locked(session)
    if s.state != S.CLOSED:
        raise Conflict(_l("Only a closed session can be reopened."), code="not_closed")
    if now >= s.ends_at:
        raise Conflict(
            _l("This session's planned hours are over: it can no longer be reopened."),
            code="session_over",
        )
    # A session whose start is still ahead goes back to the plan and opens on time, unless a
    # cadre had opened it early (a close "after downtime" dated its opening at its start).
    back_to_plan = now < s.starts_at and (s.opened_at is None or s.opened_at >= s.starts_at)
    if not back_to_plan:
        _no_other_open(s)
    closed_at = s.closed_at
    effects = takings.reopen_effects(s)
    ledger_postings.post_session_reopen(s, effects.receivable_fen, actor)
    if back_to_plan:
        s.state, s.opened_at = S.SCHEDULED, None
    else:
        s.state, s.opened_at = S.OPEN, s.opened_at or now
    s.closed_at = None
    _touch(s, actor, notes.REOPENED)
    sessions.record(
        "session.reopened",
        s,
        now,
        actor,
        ip=ip,
        reason=reason,
        note=notes.REOPENED,
        was=closed_at,
        resumed=effects.resumed,
        unmarked=effects.unmarked,
        takings=effects.takings.as_dict(),
    )
    return s
