"""The community income ledger: double-entry, append-only, hash-chained per organization.

Only market.services.ledger.entries (and its ledger_* companions) writes these tables. Entries and
lines are never updated or deleted: the ORM refuses here, and triggers in the database
(migration 0006_ledger) refuse too, so a raw UPDATE is caught as well.
"""

import json
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .audit import AuditEvent
from .types import UTCDateTime, non_negative, one_of, utcnow

ACCOUNT_KINDS = ("asset", "liability", "equity", "income", "contra_income", "expense")


class LedgerAccount(db.Model):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("organization_id", "code"),
        # The system accounts the postings look up (fee_income, office_cash …); NULL for the
        # accounts cadres add and for the per-guide cash accounts.
        UniqueConstraint("organization_id", "key"),
        UniqueConstraint("organization_id", "guide_user_id"),
        one_of("kind", ACCOUNT_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str | None] = mapped_column(String(32))
    # Cash on hand is kept per guide, so a hand-over can be checked.
    guide_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("organization_id", "seq"),
        # Each event posts once: a cash payment, a session close, a hand-over …
        UniqueConstraint("organization_id", "source_key"),
        CheckConstraint("seq > 0", name="seq_positive"),
        CheckConstraint("length(entry_hash) = 64", name="entry_hash_sha256"),
        CheckConstraint("prev_hash IS NULL OR length(prev_hash) = 64", name="prev_hash_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    seq: Mapped[int]
    entry_date: Mapped[date] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(String(200))
    source_key: Mapped[str] = mapped_column(String(80))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lines: Mapped[list["LedgerLine"]] = relationship(
        back_populates="entry", order_by="LedgerLine.id"
    )
    created_by: Mapped["User | None"] = relationship()  # noqa: F821


class LedgerLine(db.Model):
    __tablename__ = "ledger_lines"
    __table_args__ = (
        *non_negative("debit_fen", "credit_fen"),
        # A line is either a debit or a credit, never both, never zero.
        CheckConstraint("(debit_fen > 0) <> (credit_fen > 0)", name="debit_xor_credit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    debit_fen: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    credit_fen: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    memo: Mapped[str | None] = mapped_column(String(200))

    entry: Mapped[LedgerEntry] = relationship(back_populates="lines")
    account: Mapped[LedgerAccount] = relationship()


class ChainCheckpoint(db.Model):
    """How far the last full check of an organization's chain (`flask ledger verify`) got:
    every entry up to `seq` (whose hash was `entry_hash`) re-hashed and intact at `verified_at`;
    or, `broken_seq` set, the entry where it found the chain broken. Pages that cannot afford to
    re-hash a year check only the entries after it, and read the last full check of the books
    against the operations (`operations_at`, its number of mismatches)."""

    __tablename__ = "ledger_chain_checkpoints"
    __table_args__ = (
        CheckConstraint("seq >= 0", name="seq_not_negative"),
        CheckConstraint("entry_hash IS NULL OR length(entry_hash) = 64", name="hash_sha256"),
    )

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    seq: Mapped[int]  # 0: the chain was empty
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    broken_seq: Mapped[int | None]
    # The last full check of the books against the operations (`verify --operations`).
    operations_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    operations_mismatches: Mapped[int | None]
    # Each account's debits less credits over entries 1…seq, as JSON {account id: fen}, taken
    # by the full check that passed (None: not taken yet, or the chain was broken).
    balances: Mapped[str | None] = mapped_column(Text)


class SessionReconciliation(db.Model):
    """A cadre checked a closed session's money against the ledger. Once every session of a
    market-local day is reconciled (or cancelled) the day is locked (LockedDay)."""

    __tablename__ = "session_reconciliations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("market_sessions.id"), unique=True)
    business_date: Mapped[date]
    reconciled_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reconciled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LockedDay(db.Model):
    """No ledger entry may be dated on this day of the organization any more."""

    __tablename__ = "ledger_locked_days"
    __table_args__ = (UniqueConstraint("organization_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    day: Mapped[date]
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MonthClose(db.Model):
    """A closed month: its figures as computed at closing and the distribution posted."""

    __tablename__ = "ledger_month_closes"
    __table_args__ = (
        UniqueConstraint("organization_id", "month"),
        CheckConstraint("governance_pct BETWEEN 0 AND 100", name="governance_pct_range"),
        *non_negative("governance_fund_fen", "distributable_fen"),
        CheckConstraint(
            "net_income_fen = fee_income_fen - relief_fen - expenses_fen", name="net_is_breakdown"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # The first day of the month.
    month: Mapped[date]
    fee_income_fen: Mapped[int]
    relief_fen: Mapped[int]
    expenses_fen: Mapped[int]
    # {account name: fen}, JSON.
    expenses_detail: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    net_income_fen: Mapped[int]
    governance_pct: Mapped[int]
    governance_fund_fen: Mapped[int]
    distributable_fen: Mapped[int]
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    closed_by: Mapped["User"] = relationship()  # noqa: F821
    entry: Mapped[LedgerEntry | None] = relationship()

    @property
    def expenses_by_category(self) -> dict[str, int]:
        return json.loads(self.expenses_detail or "{}")

    @property
    def is_loss(self) -> bool:
        return self.net_income_fen < 0


class ExpenseState:
    PENDING = "pending"  # above the threshold: waits for a second cadre
    POSTED = "posted"
    REJECTED = "rejected"  # a cadre turned it down, with a reason: never posted
    ALL = (PENDING, POSTED, REJECTED)


class Expense(db.Model):
    """Money the organization spent, with its receipt; posted to the ledger once approved."""

    __tablename__ = "expenses"
    __table_args__ = (
        one_of("state", ExpenseState.ALL),
        one_of("paid_from", ("office_cash", "bank")),
        CheckConstraint("amount_fen > 0", name="amount_fen_positive"),
        CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> recorded_by_id", name="four_eyes"
        ),
        CheckConstraint("(state = 'posted') = (entry_id IS NOT NULL)", name="posted_has_entry"),
        CheckConstraint(
            "(state = 'rejected') = (rejected_by_id IS NOT NULL AND rejection_reason IS NOT NULL)",
            name="rejected_has_reason",
        ),
        Index("ix_expenses_organization_id_state", "organization_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_fen: Mapped[int]
    spent_on: Mapped[date]
    description: Mapped[str] = mapped_column(String(200))
    paid_from: Mapped[str] = mapped_column(String(16))
    receipt_photo: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(12))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[LedgerAccount] = relationship()
    entry: Mapped[LedgerEntry | None] = relationship()
    recorded_by: Mapped["User"] = relationship(foreign_keys=[recorded_by_id])  # noqa: F821
    approved_by: Mapped["User | None"] = relationship(foreign_keys=[approved_by_id])  # noqa: F821
    rejected_by: Mapped["User | None"] = relationship(foreign_keys=[rejected_by_id])  # noqa: F821


class AppendOnlyError(RuntimeError):
    """Raised by the ORM guard: ledger rows and audit events are never changed or removed."""


def _refuse(_mapper, _connection, target):
    raise AppendOnlyError(f"{type(target).__tablename__} is append-only")


for _model in (LedgerEntry, LedgerLine, AuditEvent):
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)
