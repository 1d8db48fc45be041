"""`markets.data_version`: bumped in the same transaction as every write to what a worker
caches per market (checkin.market_cache): its sessions, session templates, closures, fee and
relief rules, the market's own settings and its organization.

Writes through the ORM bump it by themselves: a flush that adds, changes or deletes such a row
bumps its market (every market of a changed organization). Writes that bypass the ORM (a bulk
INSERT of sessions) call `bump` themselves. A scan reads the version with its one statement
and reloads the cache when it moved, so every worker sees a change at its next scan."""

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session

from ...models import (
    FeeRule,
    Market,
    MarketClosure,
    MarketSession,
    Organization,
    ReliefRule,
    SessionTemplate,
)

# Rows whose market the cache holds data of, by their `market_id`.
BY_MARKET = (MarketSession, SessionTemplate, MarketClosure, FeeRule, ReliefRule)
markets = Market.__table__


def bump(session: Session, market_ids=(), organization_ids=()) -> None:
    """Bump the version of these markets (and of every market of these organizations)."""
    conn = session.connection()
    if market_ids:
        conn.execute(
            update(markets)
            .where(markets.c.id.in_(sorted(set(market_ids))))
            .values(data_version=markets.c.data_version + 1)
        )
    if organization_ids:
        conn.execute(
            update(markets)
            .where(markets.c.organization_id.in_(sorted(set(organization_ids))))
            .values(data_version=markets.c.data_version + 1)
        )


def _changed(session: Session, obj) -> bool:
    return obj in session.new or obj in session.deleted or session.is_modified(obj)


@event.listens_for(Session, "after_flush")
def _bump_after_flush(session: Session, _context) -> None:
    market_ids, organization_ids = set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, BY_MARKET):
            if _changed(session, obj) and obj.market_id is not None:
                market_ids.add(obj.market_id)
        elif isinstance(obj, Market):
            # A new market starts at 0; a changed one moves on (data_version itself excluded,
            # or the bump's own refresh would bump again).
            if obj not in session.new and _changed_beyond_version(session, obj):
                market_ids.add(obj.id)
        elif isinstance(obj, Organization) and obj not in session.new and _changed(session, obj):
            organization_ids.add(obj.id)
    if market_ids or organization_ids:
        bump(session, market_ids, organization_ids)


def _changed_beyond_version(session: Session, market: Market) -> bool:
    if market in session.deleted:
        return True
    state = inspect(market)
    return any(
        state.attrs[prop.key].history.has_changes()
        for prop in state.mapper.column_attrs
        if prop.key != "data_version"
    )
