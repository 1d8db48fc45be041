"""The community income ledger: the chart of accounts, posting a balanced entry onto the
organization's hash chain, and what others read (chain head, verify, closed months, balances).

This module and its companions are the only writers of the ledger tables:
- ledger.postings: the entries events make (payments, voids, session close, hand-over)
- ledger.periods: reconciled days, month close and the distribution
- ledger.expenses: expenses, their receipts and the second cadre's approval
- ledger.accounts: the chart of accounts and balances
- ledger.chain: canonical bytes, hashes, the chain lock and `verify`

Every posting happens inside the caller's transaction (the payment, the session close …), so
the event and its entry commit together or not at all. Postings of one organization are
serialised (PostgreSQL: a transaction-level advisory lock per organization; SQLite: writers
already queue on BEGIN IMMEDIATE), so `seq` is contiguous and each entry links to the one
before it.
"""

import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...extensions import db
from ...models import (
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    LockedDay,
    Market,
    MonthClose,
    Organization,
    Role,
    User,
    utcnow,
)
from ..auth import access
from ..common import audit
from ..common.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..common.money import check_fen
from ..sessions.plan import local_today
from .accounts import (
    DEBIT_KINDS,
    GUIDE_CASH_PREFIX,
    KIND_LABELS,
    RESERVED_CODES,
    SYSTEM_ACCOUNTS,
    SYSTEM_LABELS,
    account,
    account_label,
    account_used,
    accounts_of,
    add_account,
    balances,
    ensure_chart,
    guide_cash_account,
    overdrawn,
    set_account_active,
)
from .chain import ChainHead, VerifyResult, chain_head, entry_hash, lock_chain
from .chain import verify as _verify

__all__ = [
    "DEBIT_KINDS",
    "GUIDE_CASH_PREFIX",
    "KIND_LABELS",
    "RESERVED_CODES",
    "SYSTEM_ACCOUNTS",
    "SYSTEM_LABELS",
    "ChainHead",
    "VerifyResult",
    "account",
    "account_label",
    "account_used",
    "accounts_of",
    "add_account",
    "balances",
    "chain_head",
    "closed_months",
    "ensure_chart",
    "guide_cash_account",
    "lock_chain",
    "overdrawn",
    "post",
    "set_account_active",
    "verify",
]


class PeriodClosed(InvalidInput):
    code = "period_closed"


# --- posting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    account: LedgerAccount
    debit_fen: int = 0
    credit_fen: int = 0
    memo: str | None = None


def _is_fen(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_lines(organization_id: int, lines: list[Line]) -> None:
    """Every amount whole fen above zero, each line one side only, debits equal credits."""
    if len(lines) < 2:
        raise InvalidInput(
            _l("An entry needs at least one debit and one credit."), code="unbalanced"
        )
    for line in lines:
        if not (_is_fen(line.debit_fen) and _is_fen(line.credit_fen)):
            raise InvalidInput(_l("Amounts are whole fen."), code="invalid_amount")
        if line.debit_fen < 0 or line.credit_fen < 0:
            raise InvalidInput(_l("Amounts cannot be negative."), code="negative_amount")
        if (line.debit_fen > 0) == (line.credit_fen > 0):
            raise InvalidInput(
                _l("Each line is either a debit or a credit above zero."), code="invalid_amount"
            )
        if line.account.organization_id != organization_id:
            raise InvalidInput(_l("An account of another organization."), code="foreign_account")
    debits = sum(line.debit_fen for line in lines)
    credits = sum(line.credit_fen for line in lines)
    if debits != credits:
        raise InvalidInput(
            _l(
                "Debits (%(debits)d fen) and credits (%(credits)d fen) differ.",
                debits=debits,
                credits=credits,
            ),
            code="unbalanced",
        )


def month_start(day: date) -> date:
    return day.replace(day=1)


def closed_through(organization_id: int) -> date | None:
    """The last closed month. Months are closed in order, so every month up to it is closed:
    the books are closed through it."""
    return db.session.scalar(
        select(func.max(MonthClose.month)).where(MonthClose.organization_id == organization_id)
    )


def is_month_closed(organization_id: int, day: date) -> bool:
    last = closed_through(organization_id)
    return last is not None and month_start(day) <= last


def is_day_locked(organization_id: int, day: date) -> bool:
    return (
        db.session.scalar(
            select(LockedDay.id).where(
                LockedDay.organization_id == organization_id, LockedDay.day == day
            )
        )
        is not None
    )


def check_open(organization_id: int, day: date, *, allow_locked_day: bool = False) -> None:
    """422 for a date in a closed month, or on a day locked by reconciliation."""
    last = closed_through(organization_id)
    if last is not None and month_start(day) == last:
        raise PeriodClosed(
            _l(
                "%(month)s is closed: no entry can be dated in it.",
                month=month_start(day).strftime("%Y-%m"),
            ),
            field="date",
        )
    if last is not None and month_start(day) < last:
        raise PeriodClosed(
            _l(
                "The books are closed through %(month)s: date the entry after it.",
                month=last.strftime("%Y-%m"),
            ),
            field="date",
        )
    if not allow_locked_day and is_day_locked(organization_id, day):
        raise PeriodClosed(
            _l(
                "%(day)s is reconciled and locked: date the entry on another day.",
                day=day.isoformat(),
            ),
            code="day_locked",
            field="date",
        )


def open_day(organization_id: int, day: date) -> date:
    """The date an event's money is booked on: its own day, or, when that day is already
    reconciled (or its month closed), the first open day after it — later money is dated
    on the day it arrives, never back into a locked period."""
    for _day in range(400):
        if not is_day_locked(organization_id, day) and not is_month_closed(organization_id, day):
            return day
        day += timedelta(days=1)
    raise PeriodClosed()  # pragma: no cover - a year of locked days ahead is not a state


def existing(organization_id: int, source_key: str) -> LedgerEntry | None:
    return db.session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.organization_id == organization_id,
            LedgerEntry.source_key == source_key,
        )
    )


def post(
    organization_id: int,
    entry_date: date,
    description: str,
    source_key: str,
    lines: list[Line],
    *,
    actor: User | None = None,
    reverses: LedgerEntry | None = None,
    allow_locked_day: bool = False,
) -> LedgerEntry:
    """Append one balanced entry to the organization's chain. An event posts once: asking
    again with the same source key gives back the entry already there."""
    check_lines(organization_id, lines)
    lock_chain(organization_id)  # before the period check: a month close may be under way
    check_open(organization_id, entry_date, allow_locked_day=allow_locked_day)
    if (found := existing(organization_id, source_key)) is not None:
        return found
    head = chain_head(organization_id)
    seq = head.seq + 1 if head else 1
    prev_hash = head.entry_hash if head else None
    description = description[:200]
    reverses_id = reverses.id if reverses is not None else None
    entry = LedgerEntry(
        organization_id=organization_id,
        seq=seq,
        entry_date=entry_date,
        description=description,
        source_key=source_key,
        reverses_id=reverses_id,
        prev_hash=prev_hash,
        entry_hash=entry_hash(
            organization_id,
            seq,
            entry_date,
            description,
            source_key,
            reverses_id,
            prev_hash,
            [(ln.account.id, ln.debit_fen, ln.credit_fen, ln.memo) for ln in lines],
        ),
        created_by_id=actor.id if actor is not None and actor.is_authenticated else None,
        posted_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    db.session.add_all(
        LedgerLine(
            entry_id=entry.id,
            account_id=ln.account.id,
            debit_fen=ln.debit_fen,
            credit_fen=ln.credit_fen,
            memo=ln.memo,
        )
        for ln in lines
    )
    db.session.flush()
    return entry


FUND_OPENING_KEY = "opening:governance_fund"


def post_fund_opening(
    org: Organization, cadre: User, entry_date: date, amount_fen: int, *, at: datetime, ip=None
) -> LedgerEntry:
    """The governance fund a community brought along when it started using the system (what
    earlier years' closes set aside, now in the bank): booked once, Dr bank / Cr fund. The
    books-to-operations check counts it beside the month closes; a second one is refused."""
    if not access.has_org_role(cadre, org.id, Role.MANAGERS):
        raise Forbidden()
    amount_fen = check_fen(amount_fen)
    if amount_fen <= 0:
        raise InvalidInput(_l("Give an amount above zero."), code="bad_amount", field="amount_fen")
    existing = db.session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.organization_id == org.id, LedgerEntry.source_key == FUND_OPENING_KEY
        )
    )
    if existing is not None:
        raise Conflict(_l("The fund's opening balance is already booked."), code="opening_exists")
    check_entry_date(org, entry_date, at)
    entry = post(
        org.id,
        entry_date,
        "期初余额：以往年度计提的社区治理专项资金",
        FUND_OPENING_KEY,
        [
            Line(account(org.id, "bank"), debit_fen=amount_fen),
            Line(account(org.id, "governance_fund"), credit_fen=amount_fen),
        ],
        actor=cadre,
    )
    audit.record(
        "ledger.fund_opening",
        entry,
        actor=cadre,
        organization_id=org.id,
        ip=ip,
        amount_fen=amount_fen,
    )
    return entry


def post_manual(
    org: Organization,
    cadre: User,
    entry_date: date,
    description: str,
    lines: list[dict],
    *,
    at: datetime,
    ip=None,
) -> LedgerEntry:
    """A cadre's own entry (cash at the office taken to the bank, a correction): accounts of
    the organization, a date not in the future nor in a closed period, balanced."""
    if not access.has_org_role(cadre, org.id, Role.MANAGERS):
        raise Forbidden()
    description = (description or "").strip()
    if not description:
        raise InvalidInput(
            _l("Say what the entry is for."), code="description_required", field="description"
        )
    check_entry_date(org, entry_date, at)
    by_id = {a.id: a for a in accounts_of(org.id) if a.is_active}
    built = []
    for line in lines:
        acc = by_id.get(line.get("account_id"))
        if acc is None:
            raise InvalidInput(
                _l("Choose active accounts of this community."), code="invalid_account"
            )
        debit, credit = line.get("debit_fen", 0), line.get("credit_fen", 0)
        built.append(Line(acc, check_fen(debit), check_fen(credit), line.get("memo")))
    entry = post(
        org.id,
        entry_date,
        description,
        f"manual:{secrets.token_hex(8)}",
        built,
        actor=cadre,
    )
    audit.record("ledger.manual_entry", entry, actor=cadre, organization_id=org.id, ip=ip)
    return entry


# A cadre's own entries and expenses share one window: not in the future, at most a year back
# (an older bill belongs to books long since closed), and never in a closed period.
MAX_AGE = timedelta(days=366)


def check_entry_date(org: Organization, day: date, at: datetime) -> None:
    """422 unless `day` is in the window (a closed period is refused by `post`, under the
    chain lock)."""
    if not isinstance(day, date):
        raise InvalidInput(_l("Give the date of the entry."), code="invalid_date", field="date")
    today = org_today(org, at)
    if day > today:
        raise InvalidInput(
            _l("An entry cannot be dated in the future."), code="future_date", field="date"
        )
    if day < today - MAX_AGE:
        raise InvalidInput(
            _l("An entry can be dated at most a year back."), code="date_too_old", field="date"
        )


def reversal_lines(entry: LedgerEntry, swap: dict[int, LedgerAccount] | None = None) -> list[Line]:
    """The entry's lines with debit and credit exchanged (an account may be swapped for
    another, e.g. fee income for receivables once the charge became a receivable)."""
    swap = swap or {}
    return [
        Line(
            swap.get(ln.account_id, ln.account),
            debit_fen=ln.credit_fen,
            credit_fen=ln.debit_fen,
            memo=ln.memo,
        )
        for ln in entry.lines
    ]


def org_today(org: Organization, at: datetime) -> date:
    market = db.session.scalar(
        select(Market).where(Market.organization_id == org.id).order_by(Market.id).limit(1)
    )
    if market is not None:
        return local_today(market, at)
    return at.astimezone(ZoneInfo(current_app.config["MARKET_TIMEZONE"])).date()


# --- reads for the pages, the API and the public notice board -----------------------------------


def verify(organization_id: int | None = None) -> VerifyResult:
    return _verify(organization_id)


_verified: dict[int, tuple[float, int | None, VerifyResult]] = {}


def verify_cached(organization_id: int, max_age_s: float = 300) -> VerifyResult:
    """verify() at most every `max_age_s` seconds per organization and process, and again at
    once when the chain grew: for busy public pages (a year's chain takes seconds)."""
    head = chain_head(organization_id)
    seq = head.seq if head else None
    hit = _verified.get(organization_id)
    if hit and hit[1] == seq and time.monotonic() - hit[0] < max_age_s:
        return hit[2]
    result = _verify(organization_id)
    _verified[organization_id] = (time.monotonic(), seq, result)
    return result


def closed_months(organization_id: int) -> list[MonthClose]:
    """Closed months, newest first, with their figures (MonthClose.expenses_by_category)."""
    return list(
        db.session.scalars(
            select(MonthClose)
            .where(MonthClose.organization_id == organization_id)
            .order_by(MonthClose.month.desc())
        )
    )


def organization_for_cadre(user: User, organization_id: int) -> Organization:
    org = db.session.get(Organization, organization_id)
    if org is None or not access.has_org_role(user, org.id, Role.MANAGERS):
        raise NotFound()
    return org


def entries_query(organization_id: int):
    return (
        select(LedgerEntry)
        .where(LedgerEntry.organization_id == organization_id)
        .order_by(LedgerEntry.seq.desc())
    )
