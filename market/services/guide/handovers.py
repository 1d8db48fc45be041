"""A guide's shift: the cash they took, and handing it over to a cadre who counts it.

Cash a guide holds = their cash payments (minus reversals of them) not yet in a hand-over. A
hand-over takes all of it at once; the cadre's count is kept beside what the records expected,
and the difference is recorded, never hidden."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased, selectinload

from ...extensions import db
from ...models import (
    CashHandover,
    Charge,
    CheckIn,
    HandoverItem,
    HandoverState,
    Market,
    MarketSession,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Stall,
    User,
)
from ..auth import access
from ..common import audit
from ..common.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..common.money import yuan
from ..ledger import postings as ledger_postings

NOTE_MAX = 200
NOTE_JOIN = " / "  # the guide's note, then the cadre's
Original = aliased(Payment)


def _signed(payment: Payment) -> int:
    return -payment.amount_fen if payment.reverses_id is not None else payment.amount_fen


def _cash_of(guide_id: int):
    """Cash payments the guide took, and reversals of them, whoever recorded the reversal."""
    return (
        select(Payment)
        .outerjoin(Original, Payment.reverses_id == Original.id)
        .where(
            Payment.method == PaymentMethod.CASH,
            Payment.status == PaymentStatus.CONFIRMED,
            or_(
                and_(Payment.reverses_id.is_(None), Payment.recorded_by_id == guide_id),
                Original.recorded_by_id == guide_id,
            ),
        )
    )


def _in_market(query, market_id: int):
    return (
        query.join(Charge, Payment.charge_id == Charge.id)
        .join(CheckIn, Charge.checkin_id == CheckIn.id)
        .where(CheckIn.market_id == market_id)
    )


def unhanded_payments(guide_id: int, market_id: int) -> list[Payment]:
    handed = select(HandoverItem.payment_id)
    query = _in_market(_cash_of(guide_id), market_id).where(Payment.id.not_in(handed))
    return db.session.scalars(query.order_by(Payment.id)).all()


def unhanded_fen(guide_id: int, market_id: int) -> int:
    return sum(_signed(p) for p in unhanded_payments(guide_id, market_id))


@dataclass(frozen=True)
class StallCash:
    stall: Stall
    fen: int
    payments: int


def session_cash(guide_id: int, session: MarketSession) -> list[StallCash]:
    """What this guide took in cash this session, per stall (reversals subtracted)."""
    rows = db.session.execute(
        _cash_of(guide_id)
        .join(Charge, Payment.charge_id == Charge.id)
        .join(CheckIn, Charge.checkin_id == CheckIn.id)
        .where(CheckIn.session_id == session.id)
        .add_columns(CheckIn.stall_id)
        .order_by(Payment.id)
    ).all()
    per_stall: dict[int, list[Payment]] = defaultdict(list)
    for payment, stall_id in rows:
        per_stall[stall_id].append(payment)
    stalls = {
        s.id: s
        for s in db.session.scalars(select(Stall).where(Stall.id.in_(per_stall.keys()))).all()
    }
    return sorted(
        (
            StallCash(stalls[sid], sum(_signed(p) for p in ps), len(ps))
            for sid, ps in per_stall.items()
        ),
        key=lambda row: row.stall.code,
    )


def session_cash_by_guide(session: MarketSession) -> dict[int, int]:
    """Cash per guide for one session (the API's /sessions/{id}/cash)."""
    rows = db.session.execute(
        select(Payment, Original.recorded_by_id)
        .outerjoin(Original, Payment.reverses_id == Original.id)
        .join(Charge, Payment.charge_id == Charge.id)
        .join(CheckIn, Charge.checkin_id == CheckIn.id)
        .where(
            CheckIn.session_id == session.id,
            Payment.method == PaymentMethod.CASH,
            Payment.status == PaymentStatus.CONFIRMED,
        )
    ).all()
    totals: dict[int, int] = defaultdict(int)
    for payment, original_guide in rows:
        totals[original_guide or payment.recorded_by_id] += _signed(payment)
    return dict(totals)


def _note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput(
            _l("At most %(n)d characters, please.", n=NOTE_MAX), code="too_long", field="note"
        )
    return note or None


def _amount(fen, field: str) -> int:
    if not isinstance(fen, int) or isinstance(fen, bool) or fen < 0:
        raise InvalidInput(
            _l("Enter an amount of zero or more."), code="invalid_amount", field=field
        )
    return fen


def hand_over(
    guide: User,
    market: Market,
    declared_fen: int,
    now: datetime,
    *,
    note: str | None = None,
    ip: str | None = None,
) -> CashHandover:
    """The guide hands over all the cash they hold for this market. The caller commits."""
    if not access.can_guide_market(guide, market):
        raise NotFound()
    declared_fen = _amount(declared_fen, "declared")
    held = unhanded_payments(guide.id, market.id)
    if not held:
        raise Conflict(_l("You hold no cash to hand over."), code="nothing_to_hand_over")
    expected = sum(_signed(p) for p in held)
    handover = CashHandover(
        organization_id=market.organization_id,
        market_id=market.id,
        guide_id=guide.id,
        expected_fen=max(expected, 0),
        declared_fen=declared_fen,
        note=_note(note),
        created_at=now,
        items=[HandoverItem(payment_id=p.id) for p in held],
    )
    db.session.add(handover)
    db.session.flush()
    for p in held:  # what the street office's cash flag reads (an index of the few unhanded)
        p.handover_id = handover.id
    audit.record(
        "handover.created",
        handover,
        actor=guide,
        organization_id=market.organization_id,
        ip=ip,
        expected_fen=handover.expected_fen,
        declared_fen=declared_fen,
    )
    return handover


def confirm(
    handover: CashHandover,
    cadre: User,
    received_fen: int,
    now: datetime,
    *,
    note: str | None = None,
    ip: str | None = None,
) -> CashHandover:
    """A cadre counts the cash. Not the guide themself; a second confirm changes nothing.
    A count that differs from the records needs the cadre's note saying why."""
    if not access.has_org_role(cadre, handover.organization_id):
        raise NotFound()
    if cadre.id == handover.guide_id:
        raise Forbidden(
            _l("Someone else must count the cash you hand over."), code="separation_of_duties"
        )
    if handover.state == HandoverState.CONFIRMED:
        raise Conflict(_l("This hand-over was already confirmed."), code="already_confirmed")
    received_fen = _amount(received_fen, "received")
    note = count_note = _note(note)
    if received_fen != handover.expected_fen and not note:
        difference = received_fen - handover.expected_fen
        message = (
            _l(
                "The count is %(amount)s short of the records: write down why.",
                amount=yuan(-difference),
            )
            if difference < 0
            else _l(
                "The count is %(amount)s over the records: write down why.",
                amount=yuan(difference),
            )
        )
        raise InvalidInput(message, code="difference_note_required", field="note")
    if note and handover.note:
        # One column holds the guide's note and the cadre's: both must fit.
        room = NOTE_MAX - len(handover.note) - len(NOTE_JOIN)
        if len(note) > room:
            raise InvalidInput(
                _l("At most %(n)d characters, please.", n=max(room, 0)),
                code="too_long",
                field="note",
            )
        note = f"{handover.note}{NOTE_JOIN}{note}"
    handover.received_fen = received_fen
    handover.note = note or handover.note
    handover.state = HandoverState.CONFIRMED
    handover.confirmed_by_id = cadre.id
    handover.confirmed_at = now
    # The cash moves from the guide's account to the office in the ledger, in this transaction.
    ledger_postings.post_handover(handover, cadre)
    audit.record(
        "handover.confirmed",
        handover,
        actor=cadre,
        organization_id=handover.organization_id,
        ip=ip,
        expected_fen=handover.expected_fen,
        received_fen=handover.received_fen,
        difference_fen=handover.difference_fen,
        note=count_note,
    )
    return handover


def handover_for_manager(user: User, handover_id: int) -> CashHandover:
    handover = db.session.get(CashHandover, handover_id)
    if handover is None or not access.has_org_role(user, handover.organization_id):
        raise NotFound()
    return handover


def handovers_of_guide(guide_id: int, limit: int = 20) -> list[CashHandover]:
    return db.session.scalars(
        select(CashHandover)
        .where(CashHandover.guide_id == guide_id)
        .order_by(CashHandover.created_at.desc(), CashHandover.id.desc())
        .limit(limit)
    ).all()


def pending_for(organization_ids) -> list[CashHandover]:
    return db.session.scalars(
        select(CashHandover)
        .where(
            CashHandover.organization_id.in_(organization_ids),
            CashHandover.state == HandoverState.PENDING,
        )
        .options(selectinload(CashHandover.guide))
        .order_by(CashHandover.created_at)
    ).all()


@dataclass(frozen=True)
class GuideCash:
    guide: User
    market: Market
    fen: int


def cash_not_handed_over(organization_ids) -> list[GuideCash]:
    """For the cadre's dashboard: every guide still holding cash, per market."""
    handed = select(HandoverItem.payment_id)
    rows = db.session.execute(
        select(Payment, Original.recorded_by_id, CheckIn.market_id)
        .outerjoin(Original, Payment.reverses_id == Original.id)
        .join(Charge, Payment.charge_id == Charge.id)
        .join(CheckIn, Charge.checkin_id == CheckIn.id)
        .join(Market, CheckIn.market_id == Market.id)
        .where(
            Market.organization_id.in_(organization_ids),
            Payment.method == PaymentMethod.CASH,
            Payment.status == PaymentStatus.CONFIRMED,
            Payment.id.not_in(handed),
        )
    ).all()
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for payment, original_guide, market_id in rows:
        totals[(original_guide or payment.recorded_by_id, market_id)] += _signed(payment)
    result = []
    for (guide_id, market_id), fen in sorted(totals.items()):
        if fen:
            result.append(
                GuideCash(db.session.get(User, guide_id), db.session.get(Market, market_id), fen)
            )
    return result


def recent_for(organization_ids, limit: int = 30) -> list[CashHandover]:
    return db.session.scalars(
        select(CashHandover)
        .where(
            CashHandover.organization_id.in_(organization_ids),
            CashHandover.state == HandoverState.CONFIRMED,
        )
        .options(selectinload(CashHandover.guide), selectinload(CashHandover.confirmed_by))
        .order_by(CashHandover.confirmed_at.desc(), CashHandover.id.desc())
        .limit(limit)
    ).all()


def user_names(user_ids) -> dict[int, str]:
    ids = list(user_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
