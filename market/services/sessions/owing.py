"""Who owes: every stall where a vendor has a fee left unpaid, with how much and since when.

One aggregate query (per charge, then per stall and vendor), used by the session page, the
daily takings and the guide's shift. The money rules are those of sessions.takings: only
confirmed money and waivers count as paid (a reversal negative), a charge's unpaid part is never
below zero, and a collection-code report nobody confirmed yet is shown beside the amount
("to confirm"), not taken off it.

Who sees what: the cadres (and admins) of the market's organization get the vendor's name and
phone number; a guide gets the name and the masked number, as on the board's stall panel.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select

from ...extensions import db
from ...models import (
    Charge,
    CheckIn,
    Market,
    Payment,
    PaymentStatus,
    Role,
    Stall,
    User,
    Vendor,
    mask_phone,
)
from ..auth import access

ROWS_SHOWN = 100


@dataclass(frozen=True)
class Owing:
    stall_id: int
    stall_code: str
    vendor_id: int
    vendor_name: str
    phone: str  # masked unless the viewer manages the organization
    unpaid_fen: int
    pending_fen: int  # reported by collection code, waiting for a guide to confirm
    charges: int
    since: datetime  # arrival at the stall for the oldest unpaid charge


@dataclass(frozen=True)
class WhoOwes:
    rows: list[Owing] = field(default_factory=list)
    # Over all rows, also those past ROWS_SHOWN.
    stalls: int = 0
    total_fen: int = 0

    @property
    def more(self) -> int:
        return self.stalls - len(self.rows)


def _signed():
    return case((Payment.reverses_id.is_(None), Payment.amount_fen), else_=-Payment.amount_fen)


def _sum_if(condition):
    return func.coalesce(func.sum(case((condition, _signed()), else_=0)), 0)


def _unpaid_charges(market_id: int, session_ids: Iterable[int] | None):
    settled = _sum_if(Payment.status == PaymentStatus.CONFIRMED)
    statement = (
        select(
            CheckIn.stall_id.label("stall_id"),
            CheckIn.vendor_id.label("vendor_id"),
            CheckIn.arrived_at.label("since"),
            (Charge.amount_fen - settled).label("unpaid"),
            _sum_if(Payment.status == PaymentStatus.PENDING).label("pending"),
        )
        .select_from(Charge)
        .join(CheckIn, CheckIn.id == Charge.checkin_id)
        .outerjoin(Payment, Payment.charge_id == Charge.id)
        .where(CheckIn.market_id == market_id)
        .group_by(Charge.id, CheckIn.stall_id, CheckIn.vendor_id, CheckIn.arrived_at)
        .having(Charge.amount_fen > settled)
    )
    if session_ids is not None:
        statement = statement.where(CheckIn.session_id.in_(list(session_ids)))
    return statement.subquery()


def who_owes(
    market: Market, viewer: User, session_ids: Iterable[int] | None = None, limit=ROWS_SHOWN
) -> WhoOwes:
    """Stalls of `market` with money unpaid, the most recent debt first: in the given sessions,
    or in all of the market's sessions (earlier receivables too) when `session_ids` is None."""
    if session_ids is not None:
        session_ids = list(session_ids)
        if not session_ids:
            return WhoOwes()
    charges = _unpaid_charges(market.id, session_ids)
    grouped = (
        select(
            charges.c.stall_id,
            charges.c.vendor_id,
            func.sum(charges.c.unpaid).label("unpaid"),
            func.sum(charges.c.pending).label("pending"),
            func.count().label("charges"),
            func.min(charges.c.since).label("since"),
        )
        .group_by(charges.c.stall_id, charges.c.vendor_id)
        .subquery()
    )
    stalls, total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(grouped.c.unpaid), 0)).select_from(grouped)
    ).one()
    if not stalls:
        return WhoOwes()
    rows = db.session.execute(
        select(
            grouped,
            Stall.code,
            User.name,
            User.phone,
        )
        .join(Stall, Stall.id == grouped.c.stall_id)
        .join(Vendor, Vendor.id == grouped.c.vendor_id)
        .join(User, User.id == Vendor.user_id)
        .order_by(grouped.c.since.desc(), Stall.code)
        .limit(limit)
    ).all()
    full = access.has_org_role(viewer, market.organization_id, Role.MANAGERS)
    return WhoOwes(
        rows=[
            Owing(
                stall_id=r.stall_id,
                stall_code=r.code,
                vendor_id=r.vendor_id,
                vendor_name=r.name,
                phone=r.phone if full else mask_phone(r.phone),
                unpaid_fen=int(r.unpaid),
                pending_fen=int(r.pending),
                charges=int(r.charges),
                since=r.since,
            )
            for r in rows
        ],
        stalls=int(stalls),
        total_fen=int(total),
    )
