"""What closing a session does to the evening's trade, and what the evening took in.

`close_effects` runs inside the transaction that moves a session out of `open` (see
services.sessions), so it happens exactly once per session: vendors still checked in are
checked out at the end, unpaid charges become receivables, and the takings are summarised.
"""

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Charge, CheckIn, CheckInState, MarketSession, PaymentMethod, PaymentStatus

MONEY_METHODS = (PaymentMethod.CASH, PaymentMethod.COLLECTION_CODE)


@dataclass(frozen=True)
class SessionTakings:
    """One session's money, in fen. The ledger posts this (see sessions.close_effects)."""

    session_id: int
    charges: int = 0
    # What the charges ask for, after relief.
    expected_fen: int = 0
    # Fee relief granted (already taken off expected_fen).
    relief_fen: int = 0
    # Confirmed money by method (cash, collection_code), reversals subtracted.
    collected_fen: dict[str, int] = field(default_factory=dict)
    # Confirmed waivers: settled without money.
    waived_fen: int = 0
    # Collection-code payments vendors reported that nobody confirmed yet.
    pending_fen: int = 0
    # Left to collect: becomes receivables at close.
    unpaid_fen: int = 0

    @property
    def collected_total_fen(self) -> int:
        return sum(self.collected_fen.values())

    def as_dict(self) -> dict:
        return {**asdict(self), "collected_total_fen": self.collected_total_fen}


@dataclass(frozen=True)
class CloseEffects:
    checked_out: int
    receivables: int
    takings: SessionTakings


def _charges(session: MarketSession) -> list[Charge]:
    return list(
        db.session.scalars(
            select(Charge)
            .join(CheckIn, Charge.checkin_id == CheckIn.id)
            .where(CheckIn.session_id == session.id)
            .options(selectinload(Charge.payments))
            .order_by(Charge.id)
        )
    )


def _settled_by_method(charge: Charge) -> tuple[dict[str, int], int]:
    """Confirmed amounts by method (a reversing payment counts negative), and pending."""
    confirmed: dict[str, int] = defaultdict(int)
    pending = 0
    for payment in charge.payments:
        sign = -1 if payment.reverses_id is not None else 1
        if payment.status == PaymentStatus.CONFIRMED:
            confirmed[payment.method] += sign * payment.amount_fen
        else:
            pending += sign * payment.amount_fen
    return confirmed, pending


def _unpaid(charge: Charge, confirmed: dict[str, int]) -> int:
    return max(0, charge.amount_fen - sum(confirmed.values()))


def session_takings(session: MarketSession) -> SessionTakings:
    """The summary the ledger posts for a closed session; safe to call at any time."""
    return summarise(session, _charges(session))


def summarise(session: MarketSession, charges) -> SessionTakings:
    """Sum the session's charges (with their payments loaded): the board and the close agree."""
    collected = dict.fromkeys(MONEY_METHODS, 0)
    expected = relief = waived = pending = unpaid = 0
    charges = list(charges)
    for charge in charges:
        confirmed, charge_pending = _settled_by_method(charge)
        expected += charge.amount_fen
        relief += charge.relief_fen
        for method in MONEY_METHODS:
            collected[method] += confirmed.get(method, 0)
        waived += confirmed.get(PaymentMethod.WAIVER, 0)
        pending += charge_pending
        unpaid += _unpaid(charge, confirmed)
    return SessionTakings(
        session_id=session.id,
        charges=len(charges),
        expected_fen=expected,
        relief_fen=relief,
        collected_fen=collected,
        waived_fen=waived,
        pending_fen=pending,
        unpaid_fen=unpaid,
    )


def check_out_all(session: MarketSession, at: datetime, actor_id: int | None) -> int:
    """Tidal check-out: whoever is still on a stall leaves when the session ends."""
    active = list(
        db.session.scalars(
            select(CheckIn).where(
                CheckIn.session_id == session.id, CheckIn.state == CheckInState.ACTIVE
            )
        )
    )
    for checkin in active:
        checkin.state = CheckInState.CHECKED_OUT
        # A clock skew must not make anyone leave before they arrived (a CHECK says so).
        checkin.left_at = max(at, checkin.arrived_at)
        checkin.checked_out_by_id = actor_id
    return len(active)


def mark_receivables(session: MarketSession, at: datetime) -> int:
    """Charges whose confirmed payments fall short become receivables, once."""
    ids = [
        charge.id
        for charge in _charges(session)
        if charge.receivable_at is None and _unpaid(charge, _settled_by_method(charge)[0]) > 0
    ]
    if ids:
        db.session.execute(
            update(Charge).where(Charge.id.in_(ids)).values(receivable_at=at),
            execution_options={"synchronize_session": "fetch"},
        )
    return len(ids)


def close_effects(session: MarketSession, at: datetime, actor_id: int | None) -> CloseEffects:
    checked_out = check_out_all(session, at, actor_id)
    db.session.flush()
    receivables = mark_receivables(session, at)
    return CloseEffects(checked_out, receivables, session_takings(session))
