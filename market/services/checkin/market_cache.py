"""What every scan of a market needs and rarely changes, kept per worker process: the sessions
not yet over, the hours (active session templates), the fee and relief rules, the rules text
and the organization.

An entry holds the `markets.data_version` it was read under (common.versions bumps it with
every write to these); the scan's one statement reads the current version, and a worker whose
entry is older reads the market again. So a cancelled session or a new fee reaches every
worker at its next scan. Entries are plain tuples, never ORM objects (those belong to one
request's session), and per app: a test's app and its database get their own."""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...models import (
    FeeRule,
    Market,
    MarketSession,
    Organization,
    ReliefRule,
    SessionState,
    SessionTemplate,
)
from ..sessions import tide


@dataclass(frozen=True)
class SessionRow:
    """The columns of a session that the scan page and the check-in read."""

    id: int
    market_id: int
    kind: str
    business_date: date
    starts_at: datetime
    ends_at: datetime
    cutoff_at: datetime | None
    state: str
    cancel_reason: str | None


@dataclass(frozen=True)
class FeeRuleRow:
    id: int
    zone_id: int | None
    session_kind: str | None
    base_fen: int
    power_fen: int
    effective_from: datetime


@dataclass(frozen=True)
class ReliefRuleRow:
    id: int
    relief_kind: str
    percent_off: int
    effective_from: datetime


@dataclass(frozen=True)
class TemplateRow:
    name: str
    kind: str
    weekdays: int
    start_local: time
    end_local: time


@dataclass(frozen=True)
class MarketData:
    version: int
    since: datetime  # read at this instant: sessions ended before it are left out
    until: datetime | None  # sessions past the AHEAD first ones matter from here on
    organization_name: str
    organization_short_name: str | None
    contact_phone: str | None
    rules_text: str | None
    sessions: tuple[SessionRow, ...]
    templates: tuple[TemplateRow, ...]
    fee_rules: tuple[FeeRuleRow, ...]
    relief_rules: tuple[ReliefRuleRow, ...]
    by_id: dict = field(default_factory=dict, compare=False)

    def fresh(self, version: int, now: datetime) -> bool:
        return (
            self.version == version
            and self.since <= now
            and (self.until is None or now < self.until)
        )

    def session(self, session_id: int | None) -> SessionRow | None:
        return self.by_id.get(session_id)

    def status(self, market, now: datetime) -> tide.MarketStatus:
        return tide.status_among(market, now, self.sessions)


def _columns(row_type):
    return [getattr(MODELS[row_type], name) for name in row_type.__dataclass_fields__]


MODELS = {
    SessionRow: MarketSession,
    FeeRuleRow: FeeRule,
    ReliefRuleRow: ReliefRule,
    TemplateRow: SessionTemplate,
}


def read(market_id: int, version: int, now: datetime) -> MarketData:
    """The market's data as of now, to be kept under `version` (read before it: the data is
    at least that new, so a later bump is never missed)."""
    market = db.session.execute(
        select(
            Organization.name,
            Organization.short_name,
            Organization.contact_phone,
            Market.rules_text,
        )
        .join(Organization, Organization.id == Market.organization_id)
        .where(Market.id == market_id)
    ).one()
    sessions = [
        SessionRow(*row)
        for row in db.session.execute(
            select(*_columns(SessionRow))
            .where(
                MarketSession.market_id == market_id,
                MarketSession.ends_at > now,
                MarketSession.state != SessionState.CLOSED,
            )
            .order_by(MarketSession.starts_at, MarketSession.id)
            .limit(tide.AHEAD)
        )
    ]
    templates = db.session.execute(
        select(*_columns(TemplateRow))
        .where(SessionTemplate.market_id == market_id, SessionTemplate.is_active.is_(True))
        .order_by(SessionTemplate.id)
    )
    fee_rules = db.session.execute(
        select(*_columns(FeeRuleRow)).where(FeeRule.market_id == market_id)
    )
    relief_rules = db.session.execute(
        select(*_columns(ReliefRuleRow)).where(ReliefRule.market_id == market_id)
    )
    return MarketData(
        version=version,
        since=now,
        until=sessions[-1].starts_at if len(sessions) == tide.AHEAD else None,
        organization_name=market.name,
        organization_short_name=market.short_name,
        contact_phone=market.contact_phone,
        rules_text=market.rules_text,
        sessions=tuple(sessions),
        templates=tuple(TemplateRow(*r) for r in templates),
        fee_rules=tuple(FeeRuleRow(*r) for r in fee_rules),
        relief_rules=tuple(ReliefRuleRow(*r) for r in relief_rules),
        by_id={s.id: s for s in sessions},
    )


class MarketCache:
    """market id → MarketData, for one app in one process."""

    def __init__(self):
        self.entries: dict[int, MarketData] = {}
        self.reads = 0  # how often a market was read (tests, diagnostics)

    def get(self, market_id: int, version: int, now: datetime) -> MarketData:
        entry = self.entries.get(market_id)
        if entry is None or not entry.fresh(version, now):
            entry = read(market_id, version, now)
            self.reads += 1
            self.entries[market_id] = entry  # one assignment: threads see old or new
        return entry


def cache() -> MarketCache:
    return current_app.extensions.setdefault("market_data_cache", MarketCache())


def market_data(market_id: int, version: int, now: datetime) -> MarketData:
    return cache().get(market_id, version, now)
