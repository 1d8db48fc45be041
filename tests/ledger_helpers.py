"""Shared set-up for the ledger tests: a community with a market, staff and charged check-ins,
and a way to alter a ledger row behind the application's back."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text

from market.extensions import db
from market.models import LedgerEntry, LedgerLine, Role
from market.services.ledger import entries as ledger
from tests import builders as b

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai


def community():
    """An organization with its chart, a market, an open session, two cadres, a guide."""
    zone = b.zone(code="A")
    market = zone.market
    org = market.organization
    ledger.ensure_chart(org)
    session = b.session(market, starts_at=NOW - timedelta(hours=1), state="open")
    return {
        "org": org,
        "market": market,
        "zone": zone,
        "session": session,
        "cadre": b.user(role=Role.CADRE, organization=org, name="张会计"),
        "cadre2": b.user(role=Role.CADRE, organization=org, name="王主任"),
        "guide": b.user(role=Role.GUIDE, organization=org, mkt=market, name="李引导"),
    }


def charged(w, base_fen=1500, relief_fen=0):
    """A check-in on a new stall of the session with its charge."""
    ci = b.checkin(w["session"], b.stall(w["zone"]))
    return b.charge(ci, base_fen=base_fen, relief_fen=relief_fen)


def entries(org_id) -> list[LedgerEntry]:
    return list(
        db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.organization_id == org_id)
            .order_by(LedgerEntry.seq)
        )
    )


def count_entries() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def count_lines() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerLine))


def lines_of(entry) -> set[tuple[str, int, int]]:
    """(account key or code, debit, credit) of an entry's lines."""
    return {(ln.account.key or ln.account.code, ln.debit_fen, ln.credit_fen) for ln in entry.lines}


def balance(org_id, key) -> int:
    return ledger.balances(org_id).get(ledger.account(org_id, key).id, 0)


def tamper(sql: str, **params) -> None:
    """Run a raw UPDATE on a ledger table with the append-only triggers out of the way,
    as someone with direct database access would, and commit it."""
    db.session.commit()
    dialect = db.session.get_bind().dialect.name
    table = "ledger_lines" if "ledger_lines" in sql else "ledger_entries"
    if dialect == "postgresql":
        db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        db.session.execute(text(sql), params)
        db.session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    else:
        db.session.execute(text(f"DROP TRIGGER {table}_no_update"))
        db.session.execute(text(sql), params)
    db.session.commit()


def a_day() -> date:
    return NOW.date()
