"""The entries events make, each once (its source key), in the event's own transaction.

The scheme (fee income is booked gross; relief and waivers go to the contra account):

- cash taken by a guide:        Dr cash with that guide       Cr fee income (or receivables)
- collection code, confirmed:   Dr collection-code account    Cr fee income (or receivables)
- waiver by a cadre:            Dr fee relief                 Cr fee income (or receivables)
  The credit is receivables once the charge was turned into a receivable at session close
  (Charge.receivable_at), fee income before. A pending collection-code report posts nothing.
- session close:                Dr receivables (what is still unpaid)
                                Dr fee relief (relief by the rules, Charge.relief_fen)
                                Cr fee income (the two together)
  So over an evening fee income = base + extras of every charge, and net income = fee income
  − fee relief. A session with no unpaid money and no relief posts nothing.
- session reopened (a close too early, e.g. by a clock ahead): Dr fee income, Cr receivables
  (what they still hold for the session) and Cr fee relief (the close's relief), reversing the
  close's entry (reverses_id). Keys: `session-close:<id>`, `session-reopen:<id>`, and
  `…/2`, `…/3` for a second close or reopen of the same session.
- void of a payment: the reversing entry of the payment's entry (reverses_id), dated the day
  of the void; when the charge has since become a receivable, the debit that undid fee income
  goes to receivables instead: the vendor owes it again, the income stays earned.
- a guide's hand-over, confirmed: Dr cash at the office (received), Cr cash with the guide
  (expected), the difference to cash over/short (Dr a shortage, Cr an excess).

Dates: the market-local day the money moved (the session's business date for a close); a day
already reconciled or a closed month moves the entry to the first open day after it.
"""

from datetime import date

from sqlalchemy import or_, select

from ...extensions import db
from ...models import (
    CashHandover,
    Charge,
    HandoverState,
    LedgerEntry,
    Market,
    MarketSession,
    Payment,
    User,
)
from ...models import PaymentMethod as M
from ...models import PaymentStatus as PS
from ..common.clock import now
from ..sessions.plan import local_today
from . import entries as ledger
from .entries import Line


def _org_of(charge: Charge) -> int:
    return charge.checkin.stall.market.organization_id


def _day(organization_id: int, market, at) -> date:
    return ledger.open_day(organization_id, local_today(market, at or now()))


def _debit_account(payment: Payment, org_id: int):
    if payment.method == M.CASH:
        return ledger.guide_cash_account(org_id, payment.recorded_by)
    if payment.method == M.COLLECTION_CODE:
        return ledger.account(org_id, "collection_code")
    return ledger.account(org_id, "fee_relief")


DESCRIPTIONS = {M.CASH: "现金收摊位费", M.COLLECTION_CODE: "收款码收摊位费", M.WAIVER: "减免摊位费"}


def post_payment(payment: Payment, actor: User | None):
    """A confirmed payment or waiver (not a reversal: see post_void)."""
    if payment.status != PS.CONFIRMED or payment.reverses_id is not None:
        return None
    charge = payment.charge
    org_id = _org_of(charge)
    market = charge.checkin.stall.market
    credit_key = "receivables" if charge.receivable_at is not None else "fee_income"
    memo = f"{charge.checkin.stall.code} #{charge.id}"
    return ledger.post(
        org_id,
        _day(org_id, market, payment.confirmed_at),
        f"{DESCRIPTIONS[payment.method]} {memo}",
        f"payment:{payment.id}",
        [
            Line(_debit_account(payment, org_id), debit_fen=payment.amount_fen, memo=memo),
            Line(ledger.account(org_id, credit_key), credit_fen=payment.amount_fen, memo=memo),
        ],
        actor=actor,
    )


def post_void(reversal: Payment, actor: User | None):
    """The reversing entry of the voided payment's entry (nothing when it never posted)."""
    charge = reversal.charge
    org_id = _org_of(charge)
    original = ledger.existing(org_id, f"payment:{reversal.reverses_id}")
    if original is None:
        return None
    swap = {}
    if charge.receivable_at is not None:
        swap[ledger.account(org_id, "fee_income").id] = ledger.account(org_id, "receivables")
    return ledger.post(
        org_id,
        _day(org_id, charge.checkin.stall.market, reversal.recorded_at),
        f"冲销 #{original.seq} {original.description}",
        f"payment:{reversal.id}",
        ledger.reversal_lines(original, swap),
        actor=actor,
        reverses=original,
    )


# The ledger is the community's own record, kept in Chinese whatever the reader's language.
SESSION_WORDS = {"night": "夜市", "morning": "早市", "special": "特别场"}


def session_memo(day, kind: str) -> str:
    """ "2026-11-30 夜市": which session a line of a session close belongs to."""
    return f"{day.isoformat()} {SESSION_WORDS.get(kind, kind)}"


def post_session_close(session: MarketSession, takings, actor: User | None):
    """Unpaid charges become receivables; relief by the rules shown on the contra account."""
    org_id = session.market.organization_id
    unpaid, relief = takings.unpaid_fen, takings.relief_fen
    if unpaid + relief == 0:
        return None
    memo = session_memo(session.business_date, session.kind)
    lines = []
    if unpaid:
        lines.append(Line(ledger.account(org_id, "receivables"), debit_fen=unpaid, memo=memo))
    if relief:
        lines.append(Line(ledger.account(org_id, "fee_relief"), debit_fen=relief, memo=memo))
    lines.append(Line(ledger.account(org_id, "fee_income"), credit_fen=unpaid + relief, memo=memo))
    return ledger.post(
        org_id,
        ledger.open_day(org_id, session.business_date),
        f"场次结束 {session.market.name} {memo}",
        _fresh_key(org_id, f"session-close:{session.id}"),
        lines,
        actor=actor,
    )


def _fresh_key(org_id: int, base: str) -> str:
    """`base` for an event's first posting, `base/2`, `base/3` … for the same event again: a
    session closed, reopened (see post_session_reopen) and closed again posts each time. The
    caller holds the session's row lock, so two closes of one session never race here."""
    key, n = base, 1
    while ledger.existing(org_id, key) is not None:
        n += 1
        key = f"{base}/{n}"
    return key


def _latest(org_id: int, base: str):
    """The newest entry posted under `base` or `base/n` (see _fresh_key), or None."""
    return db.session.scalar(
        select(LedgerEntry)
        .where(
            LedgerEntry.organization_id == org_id,
            or_(LedgerEntry.source_key == base, LedgerEntry.source_key.like(f"{base}/%")),
        )
        .order_by(LedgerEntry.seq.desc())
        .limit(1)
    )


def _reversal_of(entry: LedgerEntry):
    return db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id))


def post_session_reopen(session: MarketSession, receivable_fen: int, actor: User | None):
    """Undo a close's posting by a new entry, when a cadre reopens a session closed too early.

    `receivable_fen` is what the session's receivables still hold (the unpaid part of its
    charges marked receivable), not what the close debited: a payment or a void booked against
    receivables since then moved that balance, and the reversal must leave it at nought. The
    relief by the rules goes back as the close posted it. Fee income takes the other side, so
    after the reopen the evening stands as if it had never closed; closing again posts anew."""
    org_id = session.market.organization_id
    close = _latest(org_id, f"session-close:{session.id}")
    if close is not None and _reversal_of(close) is not None:
        close = None  # already undone by an earlier reopen
    relief_key = ledger.account(org_id, "fee_relief").id
    relief = sum(ln.debit_fen for ln in close.lines if ln.account_id == relief_key) if close else 0
    if receivable_fen + relief == 0:
        return None
    memo = session_memo(session.business_date, session.kind)
    lines = [
        Line(ledger.account(org_id, "fee_income"), debit_fen=receivable_fen + relief, memo=memo)
    ]
    if receivable_fen:
        lines.append(
            Line(ledger.account(org_id, "receivables"), credit_fen=receivable_fen, memo=memo)
        )
    if relief:
        lines.append(Line(ledger.account(org_id, "fee_relief"), credit_fen=relief, memo=memo))
    return ledger.post(
        org_id,
        ledger.open_day(org_id, session.business_date),
        f"场次重开 {session.market.name} {memo}",
        _fresh_key(org_id, f"session-reopen:{session.id}"),
        lines,
        actor=actor,
        reverses=close,
    )


def post_handover(handover: CashHandover, actor: User | None):
    """A cadre counted a guide's cash: it moves to the office, a difference is kept."""
    if handover.state != HandoverState.CONFIRMED or handover.received_fen is None:
        raise ValueError("only a confirmed hand-over posts")
    org_id = handover.organization_id
    received, expected = handover.received_fen, handover.expected_fen
    if received == 0 and expected == 0:
        return None
    memo = f"#{handover.id}"
    lines = []
    if received:
        lines.append(Line(ledger.account(org_id, "office_cash"), debit_fen=received, memo=memo))
    if expected:
        cash = ledger.guide_cash_account(org_id, handover.guide)
        lines.append(Line(cash, credit_fen=expected, memo=memo))
    over_short = ledger.account(org_id, "over_short")
    if received < expected:
        lines.append(Line(over_short, debit_fen=expected - received, memo=memo))
    elif received > expected:
        lines.append(Line(over_short, credit_fen=received - expected, memo=memo))
    market = db.session.get(Market, handover.market_id)
    return ledger.post(
        org_id,
        _day(org_id, market, handover.confirmed_at),
        f"现金交接 {handover.guide.name} {memo}",
        f"handover:{handover.id}",
        lines,
        actor=actor,
    )
