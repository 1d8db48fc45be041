"""Closing a market for a range of dates (春节, road works), and lifting such a closure.

A closure cancels the scheduled sessions in its range at once and, because the range may
reach beyond the sessions generated so far, generation creates later ones already cancelled
(sessions.plan). An open session is left to the cadre to close or cancel.
"""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Market, MarketClosure, MarketSession, SessionState
from ..auth import access
from ..common import audit
from ..common.clock import as_utc
from ..common.errors import Conflict, InvalidInput, NotFound
from . import notes as session_notes
from .actions import clean_reason
from .plan import closure_on, local_today

S = SessionState
MAX_DAYS = 366


def _check_range(market: Market, first, last, now: datetime) -> None:
    if not isinstance(first, date) or not isinstance(last, date):
        raise InvalidInput(_l("Give the first and the last date."), field="first_date")
    if last < first:
        raise InvalidInput(_l("The last date must not be before the first."), field="last_date")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(_l("A closure covers at most one year."), field="last_date")
    if last < local_today(market, now):
        raise InvalidInput(_l("These dates are already past."), field="last_date")


def _audit(action, closure: MarketClosure, now: datetime, actor, ip, **detail) -> None:
    event = audit.record(
        action,
        closure,
        actor=actor,
        organization_id=closure.market.organization_id,
        ip=ip,
        first_date=closure.first_date.isoformat(),
        last_date=closure.last_date.isoformat(),
        reason=closure.reason,
        **detail,
    )
    event.at = now


def add_closure(
    market: Market, first, last, reason, *, now: datetime, actor=None, ip=None
) -> tuple[MarketClosure, dict]:
    """Close the market from `first` to `last` (business dates). Returns the closure and
    {"cancelled": n, "left_open": m}: an open session in the range stays open."""
    now = as_utc(now)
    reason = clean_reason(reason)
    _check_range(market, first, last, now)
    closure = MarketClosure(
        market=market,
        first_date=first,
        last_date=last,
        reason=reason,
        created_by_id=actor.id if actor is not None else None,
        created_at=now,
    )
    db.session.add(closure)
    db.session.flush()
    in_range = db.session.scalars(
        select(MarketSession)
        .where(
            MarketSession.market_id == market.id,
            MarketSession.business_date.between(first, last),
            MarketSession.state.in_((S.SCHEDULED, S.OPEN)),
        )
        .with_for_update()
    ).all()
    counts = {"cancelled": 0, "left_open": 0}
    for session in in_range:
        if session.state == S.OPEN:
            counts["left_open"] += 1
            continue
        session.state, session.cancel_reason, session.closure_id = S.CANCELLED, reason, closure.id
        session.changed_by_id = closure.created_by_id
        session.change_note = session_notes.CLOSURE
        counts["cancelled"] += 1
    _audit("market.closure_added", closure, now, actor, ip, **counts)
    return closure, counts


def lift_closure(closure: MarketClosure, *, now: datetime, actor=None, ip=None) -> int:
    """End a closure: the sessions it cancelled that have not begun are scheduled again
    (unless another closure still covers their date). Returns how many came back."""
    now = as_utc(now)
    if closure.lifted_at is not None:
        raise Conflict(_l("This closure has already been lifted."), code="already_lifted")
    closure.lifted_at = now
    closure.lifted_by_id = actor.id if actor is not None else None
    db.session.flush()
    others = active_closures(closure.market)
    restored = 0
    cancelled = db.session.scalars(
        select(MarketSession)
        .where(
            MarketSession.closure_id == closure.id,
            MarketSession.state == S.CANCELLED,
            MarketSession.starts_at > now,
        )
        .with_for_update()
    ).all()
    for session in cancelled:
        other = closure_on(others, session.business_date)
        if other is not None:
            session.closure_id, session.cancel_reason = other.id, other.reason
            continue
        session.state, session.cancel_reason, session.closure_id = S.SCHEDULED, None, None
        session.change_note = session_notes.CLOSURE_LIFTED
        restored += 1
    _audit("market.closure_lifted", closure, now, actor, ip, restored=restored)
    return restored


def active_closures(market: Market) -> list[MarketClosure]:
    return list(
        db.session.scalars(
            select(MarketClosure)
            .where(MarketClosure.market_id == market.id, MarketClosure.lifted_at.is_(None))
            .order_by(MarketClosure.first_date)
        )
    )


def closure_for_manager(user, closure_id: int) -> MarketClosure:
    closure = db.session.get(MarketClosure, closure_id)
    if closure is None or not access.can_manage_market(user, closure.market):
        raise NotFound()
    return closure
