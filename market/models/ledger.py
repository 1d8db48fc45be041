"""The community income ledger: double-entry, append-only, hash-chained per organization."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, non_negative, one_of, utcnow

ACCOUNT_KINDS = ("asset", "liability", "equity", "income", "contra_income", "expense")


class LedgerAccount(db.Model):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("organization_id", "code"),
        one_of("kind", ACCOUNT_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
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
