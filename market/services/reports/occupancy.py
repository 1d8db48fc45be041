"""Occupancy of a market's stalls and zones over a range: of the sessions held, how many
had someone on each stall. Counted in SQL, one row per stall."""

from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy import distinct, func, select

from ...extensions import db
from ...models import CheckIn, Market, MarketSession, Stall, Zone
from ..common.tables import Column, Table
from .summaries import HELD, DateRange, stream


def held_sessions(market: Market, span: DateRange) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(MarketSession)
        .where(
            MarketSession.market_id == market.id,
            MarketSession.business_date.between(span.first, span.last),
            MarketSession.state.in_(HELD),
        )
    )


def markets_occupancy(market_ids: list[int], span: DateRange) -> dict[int, tuple[int, int, int]]:
    """{market id: (sessions held, stall-sessions used, stalls)} for several markets at once:
    the sums of stall_rows (used, and stalls × held) in three grouped statements."""
    in_span = (
        MarketSession.market_id.in_(market_ids),
        MarketSession.business_date.between(span.first, span.last),
        MarketSession.state.in_(HELD),
    )
    held = dict(
        db.session.execute(
            select(MarketSession.market_id, func.count())
            .where(*in_span)
            .group_by(MarketSession.market_id)
        ).all()
    )
    pairs = (
        select(CheckIn.market_id, CheckIn.stall_id, CheckIn.session_id)
        .join(MarketSession, MarketSession.id == CheckIn.session_id)
        .where(CheckIn.market_id.in_(market_ids), *in_span)
        .distinct()
        .subquery()
    )
    used = dict(
        db.session.execute(
            select(pairs.c.market_id, func.count()).group_by(pairs.c.market_id)
        ).all()
    )
    stalls = dict(
        db.session.execute(
            select(Stall.market_id, func.count())
            .where(Stall.market_id.in_(market_ids))
            .group_by(Stall.market_id)
        ).all()
    )
    return {m: (held.get(m, 0), used.get(m, 0), stalls.get(m, 0)) for m in market_ids}


def _stall_occupancy(market: Market, span: DateRange):
    used = (
        select(CheckIn.stall_id, func.count(distinct(CheckIn.session_id)).label("used"))
        .join(MarketSession, MarketSession.id == CheckIn.session_id)
        .where(
            CheckIn.market_id == market.id,
            MarketSession.business_date.between(span.first, span.last),
            MarketSession.state.in_(HELD),
        )
        .group_by(CheckIn.stall_id)
        .subquery()
    )
    return (
        select(
            Stall.id,
            Stall.code,
            Stall.status,
            Zone.id.label("zone_id"),
            Zone.code.label("zone_code"),
            Zone.name.label("zone_name"),
            func.coalesce(used.c.used, 0).label("used"),
        )
        .join(Zone, Zone.id == Stall.zone_id)
        .outerjoin(used, used.c.stall_id == Stall.id)
        .where(Stall.market_id == market.id)
        .order_by(Zone.sort_order, Zone.id, Stall.code)
    )


def _rate(used: int, possible: int) -> float:
    return used / possible if possible else 0.0


def stall_rows(market: Market, span: DateRange, held: int | None = None) -> Iterator[dict]:
    held = held_sessions(market, span) if held is None else held
    for row in stream(_stall_occupancy(market, span)):
        yield {
            "stall": row.code,
            "zone": f"{row.zone_code} {row.zone_name}",
            "zone_id": row.zone_id,
            "held": held,
            "used": row.used,
            "rate": _rate(row.used, held),
        }


OCCUPANCY_COLUMNS = [
    Column("held", _l("Sessions held"), "int", total=False),
    Column("used", _l("Sessions used"), "int"),
    Column("rate", _l("Occupancy"), "pct"),
]


def stalls_table(market: Market, span: DateRange) -> Table:
    return Table(
        _l("Occupancy by stall"),
        [Column("stall", _l("Stall"), "text"), Column("zone", _l("Zone"), "text")]
        + OCCUPANCY_COLUMNS,
        stall_rows(market, span),
    )


def zone_rows(market: Market, span: DateRange) -> list[dict]:
    held = held_sessions(market, span)
    zones: dict[int, dict] = {}
    for row in stall_rows(market, span, held):
        z = zones.setdefault(
            row["zone_id"], {"zone": row["zone"], "stalls": 0, "used": 0, "held": held}
        )
        z["stalls"] += 1
        z["used"] += row["used"]
    for z in zones.values():
        z["possible"] = z["stalls"] * held
        z["rate"] = _rate(z["used"], z["possible"])
    return list(zones.values())


def zones_table(market: Market, span: DateRange) -> Table:
    return Table(
        _l("Occupancy by zone"),
        [
            Column("zone", _l("Zone"), "text"),
            Column("stalls", _l("Stalls"), "int"),
            Column("possible", _l("Stall-sessions"), "int"),
        ]
        + OCCUPANCY_COLUMNS,
        iter(zone_rows(market, span)),
    )
