"""The ledger's tamper evidence: the canonical bytes of an entry, its SHA-256, and `verify`.

An entry's hash covers its organization, sequence number, date, description, source key, the
id of the entry it reverses, the previous entry's hash and its lines sorted (account id,
debit, credit, memo), as compact JSON in UTF-8. Because the previous hash is inside, changing
any row of any entry breaks that entry's hash and every link after it. The bulk generator
(services.yeardata) hashes with these same functions.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, groupby
from operator import itemgetter

from sqlalchemy import select, text

from ..extensions import db
from ..models import LedgerAccount, LedgerEntry

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def canonical_bytes(
    organization_id: int,
    seq: int,
    entry_date: date,
    description: str,
    source_key: str,
    reverses_id: int | None,
    prev_hash: str | None,
    lines,
) -> bytes:
    """`lines`: (account_id, debit_fen, credit_fen, memo) tuples, in any order."""
    body = [
        organization_id,
        seq,
        entry_date if isinstance(entry_date, str) else entry_date.isoformat(),
        description,
        source_key,
        reverses_id,
        prev_hash,
        sorted([a, d, c, m or ""] for a, d, c, m in lines),
    ]
    return _dumps(body).encode()


def entry_hash(*args, **kwargs) -> str:
    return hashlib.sha256(canonical_bytes(*args, **kwargs)).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    """The newest entry of an organization: print seq and hash on the notice board; anyone can
    later check that the chain still leads to it."""

    organization_id: int
    seq: int
    entry_hash: str
    posted_at: datetime


@dataclass(frozen=True)
class BadEntry:
    organization_id: int
    seq: int
    entry_id: int
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries_checked: int
    first_bad: BadEntry | None
    message: str
    organizations: int = 0


ADVISORY_LOCK_CLASS = 7_001  # pg_advisory_xact_lock(class, organization id)


def lock_chain(organization_id: int) -> None:
    """Serialise postings of one organization until this transaction ends."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :org)"),
            {"cls": ADVISORY_LOCK_CLASS, "org": organization_id},
        )


def chain_head(organization_id: int) -> ChainHead | None:
    row = db.session.execute(
        select(LedgerEntry.seq, LedgerEntry.entry_hash, LedgerEntry.posted_at)
        .where(LedgerEntry.organization_id == organization_id)
        .order_by(LedgerEntry.seq.desc())
        .limit(1)
    ).first()
    return ChainHead(organization_id, row.seq, row.entry_hash, row.posted_at) if row else None


ROWS_SQL = """
SELECT e.id, e.organization_id, e.seq, e.entry_date, e.description, e.source_key,
       e.reverses_id, e.prev_hash, e.entry_hash,
       l.account_id, l.debit_fen, l.credit_fen, l.memo
FROM ledger_entries e LEFT JOIN ledger_lines l ON l.entry_id = e.id
{where}
ORDER BY e.organization_id, e.seq, l.id
"""


def _rows(organization_id: int | None):
    """Every entry with its lines, in chain order, one row per line (an entry without lines
    comes as one row of NULLs), streamed. Plain SQL on the driver: verify reads every row of
    the ledger, and skipping the ORM's row processing makes it several times faster."""
    where = "" if organization_id is None else f"WHERE e.organization_id = {int(organization_id)}"
    # Options for this statement only: Connection.execution_options() would change the
    # session's connection for every later statement too.
    return db.session.connection().exec_driver_sql(
        ROWS_SQL.format(where=where),
        execution_options={"stream_results": True, "yield_per": 5000},
    )


def _check_lines(lines, org_id: int, account_orgs: dict[int, int]) -> str | None:
    debits = credits = 0
    for account_id, debit, credit, _memo in lines:
        if account_id is None:
            return "entry has no lines"
        if account_orgs.get(account_id) != org_id:
            return f"line on account {account_id} of another organization"
        if (debit > 0) == (credit > 0) or debit < 0 or credit < 0:
            return "line is not one positive debit or credit"
        debits += debit
        credits += credit
    if debits != credits:
        return f"debits {debits} and credits {credits} differ"
    return None


def _check_entry(e, lines, state: dict, account_orgs: dict[int, int]) -> str | None:
    entry_id, org_id, seq, day, description, source_key, reverses_id, prev_hash, stored = e[:9]
    if seq != state["seq"] + 1:
        return f"sequence jumps from {state['seq']} to {seq}"
    if prev_hash != state["hash"]:
        return "previous hash does not match the entry before"
    if reverses_id is not None and reverses_id not in state["ids"]:
        return "reverses an entry that is not earlier in this chain"
    reason = _check_lines(lines, org_id, account_orgs)
    if reason:
        return reason
    computed = entry_hash(org_id, seq, day, description, source_key, reverses_id, prev_hash, lines)
    if computed != stored:
        return "content does not match its hash"
    return None


def verify(organization_id: int | None = None) -> VerifyResult:
    """Recompute every chain (or one organization's): contiguous sequence, each link, each
    hash, each entry balanced on accounts of its own organization. Stops at the first bad
    entry, which it names."""
    account_orgs = dict(
        db.session.execute(select(LedgerAccount.id, LedgerAccount.organization_id)).all()
    )
    with _rows(organization_id) as result:
        return _walk(chain.from_iterable(result.partitions(5000)), account_orgs)


def _walk(rows_, account_orgs: dict[int, int]) -> VerifyResult:
    checked = orgs = 0
    state: dict = {}
    for entry_id, group in groupby(rows_, key=itemgetter(0)):
        rows = list(group)
        e = rows[0]
        org_id, seq = e[1], e[2]
        if state.get("org") != org_id:
            state = {"org": org_id, "seq": 0, "hash": None, "ids": set()}
            orgs += 1
        lines = [r[9:13] for r in rows]
        reason = _check_entry(e, lines, state, account_orgs)
        if reason:
            bad = BadEntry(org_id, seq, entry_id, reason)
            return VerifyResult(
                False,
                checked,
                bad,
                f"organization {org_id}, entry seq {seq} (id {entry_id}): {reason}",
                orgs,
            )
        state["seq"], state["hash"] = seq, e[8]
        state["ids"].add(entry_id)
        checked += 1
    return VerifyResult(True, checked, None, f"{checked} entries intact", orgs)
