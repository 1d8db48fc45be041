"""The books against the operations: a second check beside `chain.verify`, independent of it.

`chain.verify` proves that nobody edited the ledger after the fact; it cannot see a ledger that
was always wrong, or operations altered behind the application's back (a charge paid four times
over, a payment that never posted). This check reads the operational tables (charges, payments,
sessions, hand-overs, month closes) and the ledger side by side and names every place they
disagree:

- every charge: confirmed money and waivers (reversals subtracted) between zero and its amount;
  once its session has ended, either it is settled (waived + paid = amount) or it is a
  receivable (what is left of it is in receivables, checked per session below);
- every payment, waiver and void (a reversing payment) that is confirmed has exactly one posting
  under its source key (`payment:<id>`) for its amount, and a pending one has none; every
  confirmed hand-over has one (`handover:<id>`) for what moved; no posting under such a key
  lacks its operation;
- every ended session has its close posting (`session-close:<id>`) when it had relief or left
  anything unpaid: the relief on it is the charges' relief, and the receivables it booked, less
  what the session's later payments and voids moved, is what its charges still owe (a session
  reopened and closed again counts all its close and reopen postings, `…/2` keys included);
- each guide's cash account holds the cash they took (reversals subtracted) minus the cash they
  handed over;
- the governance fund holds the sum of the month closes' shares;
- each governance fund project's account holds exactly its booked expenses, and its spending
  (booked and waiting for approval) is within its approved budget.

Everything is SQL aggregates (GROUP BY), so a year of trade stays a handful of queries; only the
rows that disagree (and per-session / per-guide sums) come back to Python.
"""

from dataclasses import dataclass, field

from sqlalchemy import String, and_, case, cast, func, literal, or_, select

from ...extensions import db
from ...models import (
    CashHandover,
    Charge,
    CheckIn,
    Expense,
    ExpenseState,
    FundProject,
    HandoverState,
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    Market,
    MarketSession,
    MonthClose,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from ..common.money import yuan
from .entries import FUND_OPENING_KEY

# What went wrong (Mismatch.kind).
OVERPAID = "overpaid"
NEGATIVE = "negative_paid"
UNSETTLED = "unsettled"
POSTING_MISSING = "posting_missing"
POSTING_AMOUNT = "posting_amount"
POSTING_DUPLICATE = "posting_duplicate"
POSTING_UNEXPECTED = "posting_unexpected"
POSTING_ORPHAN = "posting_orphan"
CLOSE_MISSING = "close_missing"
CLOSE_RELIEF = "close_relief"
RECEIVABLES = "receivables"
GUIDE_CASH = "guide_cash"
GOVERNANCE_FUND = "governance_fund"
FUND_PROJECT = "fund_project"
FUND_OVERSPENT = "fund_overspent"

KIND_TEXT = {
    OVERPAID: "paid more than its amount",
    NEGATIVE: "more reversed than was paid",
    UNSETTLED: "session ended, neither settled nor a receivable",
    POSTING_MISSING: "no ledger posting",
    POSTING_AMOUNT: "ledger posting with another amount",
    POSTING_DUPLICATE: "more than one ledger posting",
    POSTING_UNEXPECTED: "ledger posting for an unconfirmed operation",
    POSTING_ORPHAN: "ledger posting without its operation",
    CLOSE_MISSING: "no close posting",
    CLOSE_RELIEF: "close posting with other relief",
    RECEIVABLES: "receivables differ from what its charges owe",
    GUIDE_CASH: "cash account differs from cash taken minus handed over",
    GOVERNANCE_FUND: "governance fund differs from the month closes and its opening balance",
    FUND_PROJECT: "project account differs from its booked expenses",
    FUND_OVERSPENT: "project spending above its approved budget",
}


@dataclass(frozen=True)
class Mismatch:
    """One disagreement: which object, what the operations say (expected), what the books say
    (found). Amounts in fen; `unit` "count" for a number of postings."""

    organization_id: int
    kind: str
    subject: str  # charge, payment, waiver, void, handover, session, guide, organization, entry
    subject_id: int | None
    expected: int | None
    found: int | None
    unit: str = "fen"
    ref: str | None = None  # a source key, where the subject is one

    def _show(self, value: int | None) -> str:
        if value is None:
            return "none"
        return str(value) if self.unit == "count" else yuan(value)

    def __str__(self) -> str:
        what = f"{self.subject} #{self.subject_id}" if self.subject_id is not None else self.subject
        if self.ref:
            what = f"{what} ({self.ref})"
        return (
            f"organization {self.organization_id}, {what}: {KIND_TEXT[self.kind]}: "
            f"expected {self._show(self.expected)}, found {self._show(self.found)}"
        )


@dataclass
class OperationsResult:
    mismatches: list[Mismatch] = field(default_factory=list)
    # How many objects of each kind were looked at.
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    @property
    def message(self) -> str:
        if self.ok:
            counts = ", ".join(f"{n} {what}" for what, n in self.checked.items())
            return f"books match the operations ({counts})"
        return f"{len(self.mismatches)} mismatch(es) between the books and the operations"


def _key(prefix: str, column):
    return literal(prefix) + cast(column, String)


def _signed():
    return case((Payment.reverses_id.is_(None), Payment.amount_fen), else_=-Payment.amount_fen)


def _org_filter(query, column, organization_id):
    return query if organization_id is None else query.where(column == organization_id)


def _payments_with_org():
    return (
        select(Payment)
        .join(Charge, Charge.id == Payment.charge_id)
        .join(CheckIn, CheckIn.id == Charge.checkin_id)
        .join(Market, Market.id == CheckIn.market_id)
    )


# --- charges -------------------------------------------------------------------------------


def _charges(organization_id, out: list[Mismatch]) -> int:
    """Confirmed money and waivers of each charge within its amount; settled in full once its
    session ended unless it became a receivable (a void after the close of a charge paid in
    full leaves it owed but in no receivable: that is named too)."""
    confirmed = func.coalesce(func.sum(_signed()), 0)
    ended = MarketSession.closed_at.is_not(None)
    query = (
        select(Market.organization_id, Charge.id, Charge.amount_fen, confirmed)
        .join(CheckIn, CheckIn.id == Charge.checkin_id)
        .join(Market, Market.id == CheckIn.market_id)
        .join(MarketSession, MarketSession.id == CheckIn.session_id)
        .outerjoin(
            Payment,
            and_(Payment.charge_id == Charge.id, Payment.status == PaymentStatus.CONFIRMED),
        )
        .group_by(
            Market.organization_id,
            Charge.id,
            Charge.amount_fen,
            Charge.receivable_at,
            MarketSession.closed_at,
        )
        .having(
            or_(
                confirmed > Charge.amount_fen,
                confirmed < 0,
                and_(ended, Charge.receivable_at.is_(None), confirmed != Charge.amount_fen),
            )
        )
        .order_by(Charge.id)
    )
    for org_id, charge_id, amount, paid in db.session.execute(
        _org_filter(query, Market.organization_id, organization_id)
    ):
        if paid > amount:
            out.append(Mismatch(org_id, OVERPAID, "charge", charge_id, amount, paid))
        elif paid < 0:
            out.append(Mismatch(org_id, NEGATIVE, "charge", charge_id, 0, paid))
        else:
            out.append(Mismatch(org_id, UNSETTLED, "charge", charge_id, amount, paid))
    count = (
        select(func.count(Charge.id))
        .join(CheckIn, CheckIn.id == Charge.checkin_id)
        .join(Market, Market.id == CheckIn.market_id)
    )
    return db.session.scalar(_org_filter(count, Market.organization_id, organization_id))


# --- one posting per operation -------------------------------------------------------------


def _entry_join(org_column, key):
    return and_(LedgerEntry.organization_id == org_column, LedgerEntry.source_key == key)


def _payment_subject(method: str, reverses_id) -> str:
    if reverses_id is not None:
        return "void"
    return "waiver" if method == PaymentMethod.WAIVER else "payment"


def _payments(organization_id, out: list[Mismatch]) -> int:
    """Each confirmed payment, waiver or void: one posting of its amount; a pending one none."""
    key = _key("payment:", Payment.id)
    postings = func.count(func.distinct(LedgerEntry.id))
    debit = func.coalesce(func.sum(LedgerLine.debit_fen), 0)
    is_confirmed = Payment.status == PaymentStatus.CONFIRMED
    query = (
        _payments_with_org()
        .with_only_columns(
            Market.organization_id,
            Payment.id,
            Payment.method,
            Payment.reverses_id,
            Payment.status,
            Payment.amount_fen,
            postings,
            debit,
        )
        .outerjoin(LedgerEntry, _entry_join(Market.organization_id, key))
        .outerjoin(LedgerLine, LedgerLine.entry_id == LedgerEntry.id)
        .group_by(
            Market.organization_id,
            Payment.id,
            Payment.method,
            Payment.reverses_id,
            Payment.status,
            Payment.amount_fen,
        )
        .having(
            or_(
                and_(is_confirmed, or_(postings != 1, debit != Payment.amount_fen)),
                and_(~is_confirmed, postings != 0),
            )
        )
        .order_by(Payment.id)
    )
    for org_id, pid, method, reverses_id, status, amount, n, found in db.session.execute(
        _org_filter(query, Market.organization_id, organization_id)
    ):
        subject, ref = _payment_subject(method, reverses_id), f"payment:{pid}"
        if status != PaymentStatus.CONFIRMED:
            out.append(Mismatch(org_id, POSTING_UNEXPECTED, subject, pid, None, found, ref=ref))
        elif n == 0:
            out.append(Mismatch(org_id, POSTING_MISSING, subject, pid, amount, None, ref=ref))
        elif n > 1:
            out.append(
                Mismatch(org_id, POSTING_DUPLICATE, subject, pid, 1, n, unit="count", ref=ref)
            )
        else:
            out.append(Mismatch(org_id, POSTING_AMOUNT, subject, pid, amount, found, ref=ref))
    count = _payments_with_org().with_only_columns(func.count(Payment.id))
    return db.session.scalar(_org_filter(count, Market.organization_id, organization_id))


def _handover_amount():
    """What a confirmed hand-over posts: its debits are the cash received plus any shortage."""
    return case(
        (CashHandover.received_fen > CashHandover.expected_fen, CashHandover.received_fen),
        else_=CashHandover.expected_fen,
    )


def _handovers(organization_id, out: list[Mismatch]) -> int:
    key = _key("handover:", CashHandover.id)
    postings = func.count(func.distinct(LedgerEntry.id))
    debit = func.coalesce(func.sum(LedgerLine.debit_fen), 0)
    expected = case(
        (CashHandover.state == HandoverState.CONFIRMED, _handover_amount()), else_=literal(0)
    )
    query = (
        select(CashHandover.organization_id, CashHandover.id, expected, postings, debit)
        .outerjoin(LedgerEntry, _entry_join(CashHandover.organization_id, key))
        .outerjoin(LedgerLine, LedgerLine.entry_id == LedgerEntry.id)
        .group_by(
            CashHandover.organization_id,
            CashHandover.id,
            CashHandover.state,
            CashHandover.expected_fen,
            CashHandover.received_fen,
        )
        .having(
            or_(
                and_(expected > 0, or_(postings != 1, debit != expected)),
                and_(expected == 0, postings != 0),
            )
        )
        .order_by(CashHandover.id)
    )
    for org_id, hid, amount, n, found in db.session.execute(
        _org_filter(query, CashHandover.organization_id, organization_id)
    ):
        ref = f"handover:{hid}"
        if amount == 0:
            out.append(Mismatch(org_id, POSTING_UNEXPECTED, "handover", hid, None, found, ref=ref))
        elif n == 0:
            out.append(Mismatch(org_id, POSTING_MISSING, "handover", hid, amount, None, ref=ref))
        elif n > 1:
            out.append(
                Mismatch(org_id, POSTING_DUPLICATE, "handover", hid, 1, n, unit="count", ref=ref)
            )
        else:
            out.append(Mismatch(org_id, POSTING_AMOUNT, "handover", hid, amount, found, ref=ref))
    count = select(func.count(CashHandover.id))
    return db.session.scalar(_org_filter(count, CashHandover.organization_id, organization_id))


def _orphans(organization_id, out: list[Mismatch]) -> None:
    """Postings under an operation's key whose operation does not exist (or is elsewhere), and
    any source key posted twice."""

    # One text per (organization, key): SQLite runs a row-value NOT IN (subquery) as a list
    # scanned for every entry (seconds for a small year); a one-column NOT IN gets an index
    # (SQLite) or a hash (PostgreSQL).
    def tagged(org, key):
        return cast(org, String) + literal("|") + key

    payment_keys = _org_filter(
        _payments_with_org().with_only_columns(
            tagged(Market.organization_id, _key("payment:", Payment.id))
        ),
        Market.organization_id,
        organization_id,
    )
    handover_keys = _org_filter(
        select(tagged(CashHandover.organization_id, _key("handover:", CashHandover.id))),
        CashHandover.organization_id,
        organization_id,
    )
    tag = tagged(LedgerEntry.organization_id, LedgerEntry.source_key)
    query = (
        select(LedgerEntry.organization_id, LedgerEntry.id, LedgerEntry.source_key)
        .where(
            or_(
                and_(LedgerEntry.source_key.like("payment:%"), tag.not_in(payment_keys)),
                and_(LedgerEntry.source_key.like("handover:%"), tag.not_in(handover_keys)),
            )
        )
        .order_by(LedgerEntry.id)
    )
    for org_id, entry_id, key in db.session.execute(
        _org_filter(query, LedgerEntry.organization_id, organization_id)
    ):
        out.append(Mismatch(org_id, POSTING_ORPHAN, "entry", entry_id, None, None, ref=key))
    twice = (
        select(LedgerEntry.organization_id, LedgerEntry.source_key, func.count(LedgerEntry.id))
        .group_by(LedgerEntry.organization_id, LedgerEntry.source_key)
        .having(func.count(LedgerEntry.id) > 1)
        .where(~LedgerEntry.source_key.like("payment:%"))
        .where(~LedgerEntry.source_key.like("handover:%"))
        .where(~LedgerEntry.source_key.like("session-close:%"))
    )
    for org_id, key, n in db.session.execute(
        _org_filter(twice, LedgerEntry.organization_id, organization_id)
    ):
        out.append(Mismatch(org_id, POSTING_DUPLICATE, "entry", None, 1, n, unit="count", ref=key))


# --- sessions ------------------------------------------------------------------------------


def _key_sum(key: str):
    """Net debit (debit - credit) of the lines on the system account `key`."""
    return func.coalesce(
        func.sum(
            case((LedgerAccount.key == key, LedgerLine.debit_fen - LedgerLine.credit_fen), else_=0)
        ),
        0,
    )


SESSION_PREFIXES = ("session-close:", "session-reopen:")


def _session_of(key: str) -> tuple[str, int] | None:
    """("close" or "reopen", session id) from `session-close:12`, `session-reopen:12/2` … (a
    session closed, reopened and closed again posts under `…/2`, `…/3`)."""
    kind, _sep, rest = key.partition(":")
    ref = rest.split("/", 1)[0]
    if not ref.isdigit() or kind not in ("session-close", "session-reopen"):
        return None
    return kind.removeprefix("session-"), int(ref)


def _session_postings(organization_id) -> dict[tuple[int, int], list]:
    """Per (organization, session): [closes, reopens, receivables moved, relief moved, a key,
    an entry id] of the close and reopen postings; an unreadable key as (organization,
    -entry id)."""
    query = (
        select(
            LedgerEntry.organization_id,
            LedgerEntry.id,
            LedgerEntry.source_key,
            _key_sum("receivables"),
            _key_sum("fee_relief"),
        )
        .join(LedgerLine, LedgerLine.entry_id == LedgerEntry.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(or_(*(LedgerEntry.source_key.like(f"{p}%") for p in SESSION_PREFIXES)))
        .group_by(LedgerEntry.organization_id, LedgerEntry.id, LedgerEntry.source_key)
    )
    out: dict[tuple[int, int], list] = {}
    for org_id, entry_id, key, receivables, relief in db.session.execute(
        _org_filter(query, LedgerEntry.organization_id, organization_id)
    ):
        parsed = _session_of(key)
        sid = parsed[1] if parsed else -entry_id
        row = out.setdefault((org_id, sid), [0, 0, 0, 0, key, entry_id])
        row[0 if parsed and parsed[0] == "close" else 1] += 1
        row[2] += receivables
        row[3] += relief
    return out


def _session_ops() -> dict[int, list]:
    """Per ended session, from the operations: [relief, receivable charges, what they owe]."""
    ended = MarketSession.closed_at.is_not(None)
    owed = case((Charge.receivable_at.is_not(None), Charge.amount_fen), else_=0)
    charges = (
        select(
            CheckIn.session_id,
            func.sum(Charge.relief_fen),
            func.count(Charge.receivable_at),
            func.sum(owed),
        )
        .join(Charge, Charge.checkin_id == CheckIn.id)
        .join(MarketSession, MarketSession.id == CheckIn.session_id)
        .where(ended)
        .group_by(CheckIn.session_id)
    )
    ops = {sid: [relief, n, fen] for sid, relief, n, fen in db.session.execute(charges)}
    paid = (
        select(CheckIn.session_id, func.sum(_signed()))
        .join(Charge, Charge.id == Payment.charge_id)
        .join(CheckIn, CheckIn.id == Charge.checkin_id)
        .join(MarketSession, MarketSession.id == CheckIn.session_id)
        .where(ended, Charge.receivable_at.is_not(None), Payment.status == PaymentStatus.CONFIRMED)
        .group_by(CheckIn.session_id)
    )
    for sid, fen in db.session.execute(paid):
        ops[sid][2] -= fen
    return ops


def _sessions(organization_id, out: list[Mismatch]) -> int:
    """Each ended session: its close posting booked its relief, and the receivables its close
    (and reopen) postings and its payments' postings moved are what its charges still owe."""
    ops = _session_ops()
    books = _session_postings(organization_id)
    moved = dict(
        db.session.execute(
            _payments_with_org()
            .with_only_columns(CheckIn.session_id, _key_sum("receivables"))
            .join(
                LedgerEntry,
                _entry_join(Market.organization_id, _key("payment:", Payment.id)),
            )
            .join(LedgerLine, LedgerLine.entry_id == LedgerEntry.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
            .where(LedgerAccount.key == "receivables")
            .group_by(CheckIn.session_id)
        ).all()
    )
    sessions = select(
        Market.organization_id, MarketSession.id, MarketSession.closed_at.is_not(None)
    ).join(Market, Market.id == MarketSession.market_id)
    checked = 0
    for org_id, sid, ended in db.session.execute(
        _org_filter(sessions, Market.organization_id, organization_id).order_by(MarketSession.id)
    ):
        closes, _reopens, booked, relief_booked, *_ = books.pop((org_id, sid), [0, 0, 0, 0])
        if not ended:
            continue
        checked += 1
        relief, receivables, owed = ops.get(sid, [0, 0, 0])
        ref = f"session-close:{sid}"
        if closes == 0 and (relief or receivables):
            # Without the posting the close would have booked relief + the unpaid amount.
            out.append(Mismatch(org_id, CLOSE_MISSING, "session", sid, relief, None, ref=ref))
            continue
        if relief_booked != relief:
            out.append(Mismatch(org_id, CLOSE_RELIEF, "session", sid, relief, relief_booked))
        found = booked + moved.get(sid, 0)
        if found != owed:
            out.append(Mismatch(org_id, RECEIVABLES, "session", sid, owed, found, ref=ref))
    # What is left was posted for a session that is not there (or not of that organization).
    for (org_id, _sid), row in sorted(books.items()):
        out.append(Mismatch(org_id, POSTING_ORPHAN, "entry", row[5], None, None, ref=row[4]))
    return checked


# --- balances ------------------------------------------------------------------------------


def _guide_cash(organization_id, out: list[Mismatch]) -> int:
    original = Payment.__table__.alias("original")
    guide = func.coalesce(original.c.recorded_by_id, Payment.recorded_by_id)
    taken = (
        _payments_with_org()
        .with_only_columns(Market.organization_id, guide, func.sum(_signed()))
        .outerjoin(original, original.c.id == Payment.reverses_id)
        .where(Payment.method == PaymentMethod.CASH, Payment.status == PaymentStatus.CONFIRMED)
        .group_by(Market.organization_id, guide)
    )
    expected: dict[tuple[int, int], int] = {
        (org, user): fen for org, user, fen in db.session.execute(taken)
    }
    handed = select(
        CashHandover.organization_id, CashHandover.guide_id, func.sum(CashHandover.expected_fen)
    ).where(CashHandover.state == HandoverState.CONFIRMED)
    for org, user, fen in db.session.execute(
        handed.group_by(CashHandover.organization_id, CashHandover.guide_id)
    ):
        expected[(org, user)] = expected.get((org, user), 0) - fen
    books = select(
        LedgerAccount.organization_id,
        LedgerAccount.guide_user_id,
        func.coalesce(func.sum(LedgerLine.debit_fen - LedgerLine.credit_fen), 0),
    ).outerjoin(LedgerLine, LedgerLine.account_id == LedgerAccount.id)
    found = {
        (org, user): fen
        for org, user, fen in db.session.execute(
            books.where(LedgerAccount.guide_user_id.is_not(None)).group_by(
                LedgerAccount.organization_id, LedgerAccount.guide_user_id
            )
        )
    }
    keys = sorted(k for k in expected.keys() | found.keys() if organization_id in (None, k[0]))
    for org, user in keys:
        want, have = expected.get((org, user), 0), found.get((org, user), 0)
        if want != have:
            out.append(Mismatch(org, GUIDE_CASH, "guide", user, want, have))
    return len(keys)


def _governance_fund(organization_id, out: list[Mismatch]) -> int:
    closes = dict(
        db.session.execute(
            select(MonthClose.organization_id, func.sum(MonthClose.governance_fund_fen)).group_by(
                MonthClose.organization_id
            )
        ).all()
    )
    fund = dict(
        db.session.execute(
            select(
                LedgerAccount.organization_id,
                func.coalesce(func.sum(LedgerLine.credit_fen - LedgerLine.debit_fen), 0),
            )
            .outerjoin(LedgerLine, LedgerLine.account_id == LedgerAccount.id)
            .where(LedgerAccount.key == "governance_fund")
            .group_by(LedgerAccount.organization_id)
        ).all()
    )
    # The one other way in: the balance a community brought along when it started using the
    # system, booked once as an opening entry (entries.post_fund_opening).
    opening = dict(
        db.session.execute(
            select(
                LedgerEntry.organization_id,
                func.sum(LedgerLine.credit_fen - LedgerLine.debit_fen),
            )
            .join(LedgerLine, LedgerLine.entry_id == LedgerEntry.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
            .where(
                LedgerEntry.source_key == FUND_OPENING_KEY, LedgerAccount.key == "governance_fund"
            )
            .group_by(LedgerEntry.organization_id)
        ).all()
    )
    orgs = sorted(o for o in closes.keys() | fund.keys() if organization_id in (None, o))
    for org in orgs:
        want, have = closes.get(org, 0) + opening.get(org, 0), fund.get(org, 0)
        if want != have:
            out.append(Mismatch(org, GOVERNANCE_FUND, "organization", org, want, have))
    return len(orgs)


def _fund_projects(organization_id, out: list[Mismatch]) -> int:
    """Project spending ≤ approved budget, and each project's account = its booked expenses."""
    spent = (
        select(
            FundProject.id.label("pid"),
            func.coalesce(
                func.sum(case((Expense.state == ExpenseState.POSTED, Expense.amount_fen), else_=0)),
                0,
            ).label("posted"),
            func.coalesce(
                func.sum(
                    case((Expense.state != ExpenseState.REJECTED, Expense.amount_fen), else_=0)
                ),
                0,
            ).label("committed"),
        )
        .outerjoin(Expense, Expense.account_id == FundProject.account_id)
        .where(FundProject.account_id.is_not(None))
        .group_by(FundProject.id)
        .subquery()
    )
    booked = (
        select(
            LedgerLine.account_id.label("aid"),
            func.sum(LedgerLine.debit_fen - LedgerLine.credit_fen).label("net"),
        )
        .group_by(LedgerLine.account_id)
        .subquery()
    )
    query = _org_filter(
        select(
            FundProject.organization_id,
            FundProject.id,
            FundProject.budget_fen,
            spent.c.posted,
            spent.c.committed,
            func.coalesce(booked.c.net, 0),
        )
        .join(spent, spent.c.pid == FundProject.id)
        .outerjoin(booked, booked.c.aid == FundProject.account_id),
        FundProject.organization_id,
        organization_id,
    )
    rows = db.session.execute(query).all()
    for org, pid, budget, posted, committed, net in rows:
        if net != posted:
            out.append(Mismatch(org, FUND_PROJECT, "project", pid, posted, net))
        if committed > budget:
            out.append(Mismatch(org, FUND_OVERSPENT, "project", pid, budget, committed))
    return len(rows)


def verify_operations(organization_id: int | None = None) -> OperationsResult:
    """Check the books against the operations (one organization, or all)."""
    result = OperationsResult()
    out = result.mismatches
    result.checked["charges"] = _charges(organization_id, out)
    result.checked["payments"] = _payments(organization_id, out)
    result.checked["hand-overs"] = _handovers(organization_id, out)
    result.checked["ended sessions"] = _sessions(organization_id, out)
    _orphans(organization_id, out)
    result.checked["cash accounts"] = _guide_cash(organization_id, out)
    result.checked["governance funds"] = _governance_fund(organization_id, out)
    result.checked["fund projects"] = _fund_projects(organization_id, out)
    return result
