"""Money against a charge: cash to a guide, the collection code (confirmed by staff), a cadre's
waiver. Partial payments are fine, overpayment is not, and nothing is ever deleted: a mistake
is undone by a reversing payment."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Charge, Payment, PaymentMethod, PaymentStatus, Role, User
from ..auth import access
from ..common import audit, clock
from ..common.errors import Conflict, Forbidden, InvalidInput
from ..common.money import yuan
from ..ledger import postings as ledger_postings

REFERENCE_MAX = 64


def _signed(payment: Payment) -> int:
    return -payment.amount_fen if payment.reverses_id is not None else payment.amount_fen


def paid_fen(charge: Charge, include_pending: bool = False) -> int:
    """Confirmed money and waivers (reversals subtracted); pending reports if asked."""
    return sum(
        _signed(p)
        for p in charge.payments
        if p.status == PaymentStatus.CONFIRMED or include_pending
    )


def owed_fen(charge: Charge) -> int:
    """What may still be paid or reported: pending reports already count against it."""
    return max(charge.amount_fen - paid_fen(charge, include_pending=True), 0)


def unpaid_fen(charge: Charge) -> int:
    return max(charge.amount_fen - paid_fen(charge), 0)


def lock(charge: Charge) -> None:
    """Decide on what is paid under a lock on the charge's row, then read its payments afresh.

    Read, check, then write is a race on PostgreSQL's READ COMMITTED: ten cash payments at once
    would each see the whole fee owed and all pass. Every payment, waiver, confirm and void
    takes this lock first, so they queue per charge. (SQLite: writers already queue.)"""
    db.session.execute(select(Charge.id).where(Charge.id == charge.id).with_for_update())
    db.session.expire(charge, ["payments"])


def _check_amount(charge: Charge, amount_fen: int) -> None:
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise InvalidInput(_l("Enter an amount above zero."), code="invalid_amount", field="amount")
    if amount_fen > owed_fen(charge):
        raise InvalidInput(
            _l("That is more than is owed (%(owed)s).", owed=yuan(owed_fen(charge))),
            code="overpayment",
            field="amount",
        )


def _staff_of(charge: Charge, user: User) -> bool:
    return access.can_guide_market(user, charge.checkin.stall.market)


def _record(charge: Charge, action: str, payment: Payment, actor: User, ip, **detail) -> None:
    db.session.flush()
    audit.record(
        action,
        payment,
        actor=actor,
        organization_id=charge.checkin.stall.market.organization_id,
        ip=ip,
        charge_id=charge.id,
        amount_fen=payment.amount_fen,
        **detail,
    )


def record_cash(charge: Charge, amount_fen: int, guide: User, *, ip=None) -> Payment:
    """A guide (or cadre) took cash at the stall: confirmed at once, in their name."""
    if not _staff_of(charge, guide):
        raise Forbidden()
    lock(charge)
    _check_amount(charge, amount_fen)
    now = clock.now()
    payment = Payment(
        charge=charge,
        method=PaymentMethod.CASH,
        amount_fen=amount_fen,
        status=PaymentStatus.CONFIRMED,
        recorded_by_id=guide.id,
        recorded_at=now,
        confirmed_by_id=guide.id,
        confirmed_at=now,
    )
    db.session.add(payment)
    _record(charge, "payment.cash", payment, guide, ip)
    ledger_postings.post_payment(payment, guide)
    return payment


def report_collection_code(
    charge: Charge, amount_fen: int, reference: str | None, payer: User, *, ip=None
) -> Payment:
    """The vendor paid into the market's collection code; staff confirm it later against the
    merchant statement."""
    reference = (reference or "").strip()[:REFERENCE_MAX] or None
    lock(charge)
    _check_amount(charge, amount_fen)
    payment = Payment(
        charge=charge,
        method=PaymentMethod.COLLECTION_CODE,
        amount_fen=amount_fen,
        status=PaymentStatus.PENDING,
        reference=reference,
        recorded_by_id=payer.id,
        recorded_at=clock.now(),
    )
    db.session.add(payment)
    _record(charge, "payment.collection_code_reported", payment, payer, ip, reference=reference)
    return payment


def confirm(payment: Payment, actor: User, *, ip=None) -> Payment:
    """Staff of the market confirm a reported payment; never the person who reported it."""
    charge = payment.charge
    if payment.recorded_by_id == actor.id:
        raise Forbidden(
            _l("A payment is confirmed by someone other than who reported it."),
            code="separation_of_duties",
        )
    if not _staff_of(charge, actor):
        raise Forbidden()
    lock(charge)
    db.session.refresh(payment)  # another phone may have confirmed or voided it meanwhile
    if payment.status == PaymentStatus.CONFIRMED:
        return payment  # confirming twice changes nothing
    if payment.reverses_id is not None or is_voided(payment):
        # A report already rejected (voided) from another phone: confirming it would post
        # money the reversal already took back.
        raise Conflict(_l("This payment has already been voided."), code="already_voided")
    if paid_fen(charge) + payment.amount_fen > charge.amount_fen:
        # Pending reports count against what is owed, so this only happens when the books were
        # changed around the report (a waiver by hand, a bad import): never confirm past the fee.
        raise Conflict(
            _l(
                "Confirming this would pay more than the fee (%(owed)s still unpaid).",
                owed=yuan(unpaid_fen(charge)),
            ),
            code="overpayment",
        )
    payment.status, payment.confirmed_by_id, payment.confirmed_at = (
        PaymentStatus.CONFIRMED,
        actor.id,
        clock.now(),
    )
    _record(charge, "payment.confirmed", payment, actor, ip)
    ledger_postings.post_payment(payment, actor)
    return payment


def waive(charge: Charge, amount_fen: int, reason: str, cadre: User, *, ip=None) -> Payment:
    """A cadre lets a vendor off (part of) the fee, with the reason on record."""
    if not access.has_org_role(cadre, charge.checkin.stall.market.organization_id, Role.MANAGERS):
        raise Forbidden()
    reason = (reason or "").strip()[:200]
    if not reason:
        raise InvalidInput(_l("Say why the fee is waived."), code="reason_required", field="reason")
    lock(charge)
    _check_amount(charge, amount_fen)
    now = clock.now()
    payment = Payment(
        charge=charge,
        method=PaymentMethod.WAIVER,
        amount_fen=amount_fen,
        status=PaymentStatus.CONFIRMED,
        note=reason,
        recorded_by_id=cadre.id,
        recorded_at=now,
        confirmed_by_id=cadre.id,
        confirmed_at=now,
    )
    db.session.add(payment)
    _record(charge, "payment.waived", payment, cadre, ip, reason=reason)
    ledger_postings.post_payment(payment, cadre)
    return payment


def may_void(payment: Payment, actor: User) -> bool:
    """Cash is voided by a second person (another guide or a cadre), never by whoever took it:
    otherwise a guide could take cash, void it and keep it, and the vendor is billed again."""
    return not (payment.method == PaymentMethod.CASH and payment.recorded_by_id == actor.id)


def void(payment: Payment, actor: User, reason: str, *, ip=None) -> Payment:
    """Undo a payment with a reversing record pointing at it (staff; each payment once)."""
    charge = payment.charge
    if not _staff_of(charge, actor):
        raise Forbidden()
    if payment.reverses_id is not None:
        raise Conflict(_l("A reversal cannot itself be reversed."), code="cannot_void_reversal")
    if not may_void(payment, actor):
        raise Forbidden(
            _l("Cash you took is voided by another guide or a cadre, not by yourself."),
            code="separation_of_duties",
        )
    lock(charge)
    already = db.session.scalar(select(Payment.id).where(Payment.reverses_id == payment.id))
    if already:
        raise Conflict(_l("This payment has already been voided."), code="already_voided")
    reason = (reason or "").strip()[:200]
    if not reason:
        raise InvalidInput(
            _l("Say why the payment is voided."), code="reason_required", field="reason"
        )
    now = clock.now()
    reversal = Payment(
        charge=charge,
        method=payment.method,
        amount_fen=payment.amount_fen,
        status=payment.status,
        reference=payment.reference,
        note=reason,
        recorded_by_id=actor.id,
        recorded_at=now,
        confirmed_by_id=actor.id if payment.status == PaymentStatus.CONFIRMED else None,
        confirmed_at=now if payment.status == PaymentStatus.CONFIRMED else None,
        reverses_id=payment.id,
    )
    db.session.add(reversal)
    _record(charge, "payment.voided", reversal, actor, ip, voids=payment.id, reason=reason)
    ledger_postings.post_void(reversal, actor)
    return reversal


def reject_report(payment: Payment, actor: User, reason: str, *, ip=None) -> Payment:
    """Staff find a reported collection-code payment missing from the statement: it is voided
    with the reason, and the fee is owed again. Only a report still waiting can be rejected."""
    if payment.status != PaymentStatus.PENDING or is_voided(payment):
        raise Conflict(
            _l("This payment is no longer waiting for confirmation."), code="not_pending"
        )
    return void(payment, actor, reason, ip=ip)


def is_voided(payment: Payment) -> bool:
    return any(p.reverses_id == payment.id for p in payment.charge.payments)


def reversal_of(payment: Payment) -> Payment | None:
    """The record that voided this payment, if any (its note holds the reason)."""
    return next((p for p in payment.charge.payments if p.reverses_id == payment.id), None)


def is_rejected_report(payment: Payment) -> bool:
    """A collection-code report that staff turned down (voided while it was still pending)."""
    return (
        payment.reverses_id is None
        and payment.status == PaymentStatus.PENDING
        and is_voided(payment)
    )


@dataclass(frozen=True)
class Rejection:
    """A report the guide turned down: what was reported, why, by whom and when."""

    amount_fen: int
    reason: str
    by: User
    at: datetime


@dataclass(frozen=True)
class Standing:
    """Where a charge stands, as the vendor must read it: what is confirmed, what waits for a
    guide (not to be paid again), what is still to pay, and the last report turned down."""

    amount_fen: int
    paid_fen: int  # confirmed money and waivers
    pending_fen: int  # reported by collection code, waiting for a guide
    owed_fen: int  # neither paid nor reported: what may still be paid
    rejected: Rejection | None = None  # the latest report turned down, while money is owed

    @property
    def settled(self) -> bool:
        return self.paid_fen >= self.amount_fen


def standing(charge: Charge) -> Standing:
    paid, reported = paid_fen(charge), paid_fen(charge, include_pending=True)
    owed = max(charge.amount_fen - reported, 0)
    rejected = None
    turned_down = [p for p in charge.payments if is_rejected_report(p)]
    if owed and turned_down:
        last = max(turned_down, key=lambda p: (p.recorded_at, p.id))
        void_ = reversal_of(last)
        rejected = Rejection(
            last.amount_fen, void_.note or "", void_.recorded_by, void_.recorded_at
        )
    return Standing(charge.amount_fen, paid, max(reported - paid, 0), owed, rejected)
