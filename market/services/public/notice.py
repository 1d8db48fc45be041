"""The public notice board (公示) of a market: what residents may see without logging in.

Only market-level facts: whether it is open, its hours and map, the closed months' income and
where it went, the ledger's chain head and whether it verifies, the community's office. Never
a vendor, a vendor's phone number or what one vendor paid: nothing here reads vendors."""

import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...models import Market, Organization, SessionTemplate, Stall, Zone
from ..common.errors import NotFound
from ..sessions import tide as sessions
from ..zoning import layout

MONTHS_SHOWN = 6
VERIFY_TTL_SECONDS = 60  # the chain is re-checked at most once a minute per organization


@dataclass(frozen=True)
class Hours:
    name: str
    kind: str
    weekdays: list[int]
    start: str
    end: str
    starts_on: date | None = None  # not in force yet: from this day
    ends_on: date | None = None  # in force until this day


@dataclass
class LedgerFacts:
    """What the ledger service publishes; `available` is False until it exists."""

    available: bool = False
    months: list = field(default_factory=list)
    head: object | None = None
    verify: object | None = None


@dataclass
class NoticeBoard:
    market: Market
    organization: Organization
    status: sessions.MarketStatus
    hours: list[Hours]
    map: layout.MapLayout
    ledger: LedgerFacts


def market_by_slug(slug: str) -> Market:
    market = db.session.scalar(select(Market).where(Market.slug == slug))
    if market is None or not market.is_active:
        raise NotFound()
    return market


ANNOUNCE_AHEAD = timedelta(days=30)  # hours that start within this are shown, with the date


def opening_hours(market: Market, today: date) -> list[Hours]:
    """The hours in force today and those starting within ANNOUNCE_AHEAD, with their dates."""
    found = db.session.scalars(
        select(SessionTemplate)
        .where(
            SessionTemplate.market_id == market.id,
            SessionTemplate.is_active.is_(True),
            (SessionTemplate.valid_until.is_(None)) | (SessionTemplate.valid_until >= today),
            SessionTemplate.valid_from <= today + ANNOUNCE_AHEAD,
        )
        .order_by(SessionTemplate.start_local, SessionTemplate.id)
    )
    return [
        Hours(
            t.name,
            t.kind,
            [d for d in range(1, 8) if t.weekdays >> (d - 1) & 1],
            t.start_local.strftime("%H:%M"),
            t.end_local.strftime("%H:%M"),
            t.valid_from if t.valid_from > today else None,
            t.valid_until,
        )
        for t in found
    ]


def public_map(market: Market) -> layout.MapLayout:
    zones = list(
        db.session.scalars(
            select(Zone)
            .where(Zone.market_id == market.id, Zone.is_active.is_(True))
            .order_by(Zone.sort_order, Zone.id)
        )
    )
    stalls = list(
        db.session.scalars(select(Stall).where(Stall.market_id == market.id).order_by(Stall.code))
    )
    return layout.build(market, zones, stalls)


def _verified(ledger, organization_id: int):
    """ledger.verify, remembered for a minute while the chain head stays the same: a phone
    opening the page should not re-hash a year of entries."""
    cache = current_app.extensions.setdefault("public_verify", {})
    head = ledger.chain_head(organization_id)
    key = (organization_id, getattr(head, "seq", None), getattr(head, "entry_hash", None))
    ttl = current_app.config.get("PUBLIC_VERIFY_TTL", VERIFY_TTL_SECONDS)
    hit = cache.get(organization_id)
    if hit and hit[0] == key and _time.monotonic() - hit[1] < ttl:
        return head, hit[2]
    result = ledger.verify(organization_id)
    cache[organization_id] = (key, _time.monotonic(), result)
    return head, result


def ledger_facts(organization_id: int) -> LedgerFacts:
    try:
        from ..ledger import entries as ledger
    except ImportError:  # the ledger service is not installed in this build
        return LedgerFacts()
    if not all(hasattr(ledger, f) for f in ("closed_months", "chain_head", "verify")):
        return LedgerFacts()
    months = sorted(ledger.closed_months(organization_id), key=lambda m: m.month, reverse=True)
    head, verify = _verified(ledger, organization_id)
    return LedgerFacts(True, months[:MONTHS_SHOWN], head, verify)


def notice_board(market: Market, now: datetime) -> NoticeBoard:
    status = sessions.market_status(market, now)
    return NoticeBoard(
        market=market,
        organization=market.organization,
        status=status,
        hours=opening_hours(market, status.local(now).date()),
        map=public_map(market),
        ledger=ledger_facts(market.organization_id),
    )


def where_it_went(month) -> list[tuple[str, int, float]]:
    """(name, fen, share) of each use of a closed month's money: the expenses by category,
    the governance fund and what is left to distribute; shares of their sum, for the bar."""
    uses = sorted(month.expenses_by_category.items(), key=lambda kv: -kv[1])
    uses += [("governance", month.governance_fund_fen), ("distributable", month.distributable_fen)]
    whole = sum(max(fen, 0) for _name, fen in uses) or 1
    return [(name, fen, max(fen, 0) / whole) for name, fen in uses]
