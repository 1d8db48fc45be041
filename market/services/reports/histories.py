"""A vendor's evenings at a market and the guides' cash hand-overs, as report tables."""

from collections.abc import Iterator
from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from ...extensions import db
from ...models import CashHandover, CheckIn, Market, User, Vendor
from ..common.errors import NotFound
from ..common.tables import Column, Table
from ..sessions import tide as sessions
from .summaries import RELIEF_BY_RULES, WAIVED_BY_CADRE, DateRange, per_charge, stream

# --- a vendor's history ----------------------------------------------------------------------


def vendors_of(market: Market) -> list[tuple[int, str]]:
    """(vendor id, name) of the organization's vendors, for the picker."""
    return [
        (vid, name)
        for vid, name in db.session.execute(
            select(Vendor.id, User.name)
            .join(User, User.id == Vendor.user_id)
            .where(Vendor.organization_id == market.organization_id)
            .order_by(User.name, Vendor.id)
        )
    ]


def vendor_of(market: Market, vendor_id: int | None) -> Vendor:
    vendor = db.session.get(Vendor, vendor_id) if vendor_id else None
    if vendor is None or vendor.organization_id != market.organization_id:
        raise NotFound(_l("No such vendor in this community."))
    return vendor


def vendor_rows(market: Market, vendor: Vendor, span: DateRange) -> Iterator[dict]:
    c = per_charge(market.id, span, CheckIn.vendor_id == vendor.id, with_stall=True).subquery()
    statement = select(c).order_by(c.c.business_date, c.c.starts_at, c.c.charge_id)
    for row in stream(statement):
        owed = row.amount - row.settled
        yield {
            "date": row.business_date,
            "kind": row.kind,
            "stall": row.stall,
            "expected": row.amount,
            "relief": row.relief,
            "collected": row.cash + row.code,
            "waived": row.waived,
            "unpaid": max(owed, 0),
        }


def vendor_table(market: Market, vendor: Vendor, span: DateRange) -> Table:
    return Table(
        _l("History of %(name)s", name=vendor.user.name),
        [
            Column("date", _l("Date"), "date"),
            Column("kind", _l("Session"), "kind"),
            Column("stall", _l("Stall"), "text"),
            Column("expected", _l("Expected fees"), "fen"),
            Column("relief", RELIEF_BY_RULES, "fen"),
            Column("collected", _l("Collected"), "fen"),
            Column("waived", WAIVED_BY_CADRE, "fen"),
            Column("unpaid", _l("Unpaid"), "fen"),
        ],
        vendor_rows(market, vendor, span),
    )


# --- cash hand-overs -------------------------------------------------------------------------


def _local_bounds(market: Market, span: DateRange) -> tuple[datetime, datetime]:
    zone = sessions.zone_of(market)
    start = datetime.combine(span.first, time(0), zone)
    end = datetime.combine(span.last + timedelta(days=1), time(0), zone)
    return start, end


def handover_rows(market: Market, span: DateRange) -> Iterator[dict]:
    start, end = _local_bounds(market, span)
    zone = sessions.zone_of(market)
    guide = User.__table__.alias("guide")
    cadre = User.__table__.alias("cadre")
    statement = (
        select(CashHandover, guide.c.name.label("guide"), cadre.c.name.label("cadre"))
        .join(guide, guide.c.id == CashHandover.guide_id)
        .outerjoin(cadre, cadre.c.id == CashHandover.confirmed_by_id)
        .where(
            CashHandover.market_id == market.id,
            and_(CashHandover.created_at >= start, CashHandover.created_at < end),
        )
        .order_by(CashHandover.created_at, CashHandover.id)
    )
    for handover, guide_name, cadre_name in stream(statement):
        yield {
            "at": handover.created_at.astimezone(zone),
            "guide": guide_name,
            "expected": handover.expected_fen,
            "declared": handover.declared_fen,
            "received": handover.received_fen,
            "difference": handover.difference_fen,
            "state": handover.state,
            "cadre": cadre_name or "",
            "note": handover.note or "",
        }


def handovers_table(market: Market, span: DateRange) -> Table:
    return Table(
        _l("Cash hand-overs"),
        [
            Column("at", _l("Time"), "datetime"),
            Column("guide", _l("Guide"), "text"),
            Column("expected", _l("Expected cash"), "fen"),
            Column("declared", _l("Declared"), "fen"),
            Column("received", _l("Counted"), "fen"),
            Column("difference", _l("Difference"), "fen"),
            Column("state", _l("State"), "handover_state"),
            Column("cadre", _l("Counted by"), "text"),
            Column("note", _l("Note"), "text"),
        ],
        handover_rows(market, span),
    )
