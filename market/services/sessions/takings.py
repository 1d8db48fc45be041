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

from ...extensions import db
from ...models import Charge, CheckIn, CheckInState, MarketSession, PaymentMethod, PaymentStatus

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


@dataclass(frozen=True)
class ReopenEffects:
    resumed: list[int]  # check-ins active again
    unmarked: list[int]  # charges no longer receivables
    receivable_fen: int  # what those charges still owed: the ledger takes it back
    takings: SessionTakings


def reopen_effects(session: MarketSession) -> ReopenEffects:
    """Undo close_effects for a session reopened before its end (the caller holds the row
    lock and has checked the state). Who the close checked out is on the stall again, and the
    charges it turned into receivables are plain unpaid charges again.

    The rows are set back rather than copied: a charge belongs to its one check-in (a new
    check-in would owe a second fee, or leave the charge on a row nobody is on), and the
    partial unique indexes allow one active check-in per stall and per vendor — which holds,
    since nobody can check in to a closed session. What changed is kept where nothing is
    edited: the reopen's audit event lists the check-ins and charges, and the ledger gets a
    reversing entry (ledger.postings.post_session_reopen)."""
    closed_at = session.closed_at
    resumed = list(
        db.session.scalars(
            select(CheckIn)
            .where(
                CheckIn.session_id == session.id,
                CheckIn.state == CheckInState.CHECKED_OUT,
                # check_out_all wrote max(close, arrival): those who left earlier stay gone
                CheckIn.left_at >= closed_at,
            )
            .order_by(CheckIn.id)
        )
    )
    for checkin in resumed:
        checkin.state = CheckInState.ACTIVE
        checkin.left_at = None
        checkin.checked_out_by_id = None
    marked = [c for c in _charges(session) if c.receivable_at is not None]
    receivable = sum(_unpaid(c, _settled_by_method(c)[0]) for c in marked)
    if marked:
        db.session.execute(
            update(Charge).where(Charge.id.in_([c.id for c in marked])).values(receivable_at=None),
            execution_options={"synchronize_session": "fetch"},
        )
    db.session.flush()
    return ReopenEffects(
        [c.id for c in resumed], [c.id for c in marked], receivable, session_takings(session)
    )
