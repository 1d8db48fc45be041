"""The ledger's tamper evidence: the canonical bytes of an entry, its SHA-256, and `verify`.

An entry's hash covers its organization, sequence number, date, description, source key, the
id of the entry it reverses, the previous entry's hash and its lines sorted (account id,
debit, credit, memo), as compact JSON in UTF-8. Because the previous hash is inside, changing
any row of any entry breaks that entry's hash and every link after it. The bulk generator
(services.yeardata) hashes with these same functions.

`verify` lets the database build each entry's canonical text and run the other checks (see
"the fast path" below); a chain it cannot clear is verified again row by row in Python, which
names the first bad entry.
"""

import hashlib
import json
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, groupby
from operator import itemgetter

from sqlalchemy import and_, or_, select, tuple_

from ...extensions import db
from ...models import LedgerAccount, LedgerEntry
from ..common import locks
from ..common.locks import advisory_xact_lock

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


def lock_chain(organization_id: int) -> None:
    """Serialise postings of one organization until this transaction ends."""
    advisory_xact_lock(locks.LEDGER_CHAIN, organization_id)


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
    comes as one row of NULLs), streamed. Plain SQL on the driver: the exact (slow) path of
    verify reads every row of a chain, and skipping the ORM's row processing makes it several
    times faster."""
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


# --- the fast path ---------------------------------------------------------------------------
#
# Reading 520,000 rows of a year through Python and rebuilding 173,000 JSON documents there
# costs far more than SHA-256 itself, so the database builds each entry's canonical JSON text
# (byte for byte what canonical_bytes() makes: tests/services/test_ledger_canonical.py) and
# checks, per entry, the reversed entry and the lines (there are some, each one positive debit
# or credit on an account of the entry's organization, debits equal credits). SQLite hands
# each entry's text to Python, which hashes it and follows seq and prev_hash from row to row;
# PostgreSQL does that itself (sha256, window functions over the chain order) and hands back
# one row per organization: its number of entries and whether every one was cleared.
#
# The fast path only clears entries. An organization whose chain holds any entry it could not
# clear is verified again by the exact path above (_rows, _walk, canonical_bytes in Python),
# which names the first bad entry and its reason exactly as before. So a difference between
# the SQL text and canonical_bytes() (another SQLite or PostgreSQL version, odd data) can cost
# time, never a wrong answer: each fast check holds whenever the exact one does.

# Text of the entry up to its lines: json_array renders the values as Python's json does
# (numbers, null, strings escaped the same way, non-ASCII kept); its closing bracket is cut
# (the last value, prev_hash, is null or a quoted string, so it never ends in "]").
SQLITE_HEAD = """rtrim(json_array(e.organization_id, e.seq, e.entry_date, e.description,
    e.source_key, e.reverses_id, e.prev_hash), ']') || ',['"""

# The lines as JSON, sorted as canonical_bytes sorts them (numbers, then the memo by code
# point: SQLite's BINARY collation compares UTF-8 bytes, which is code point order; NULL and
# "" sort apart but both render ""). NULL when a line check fails or there are no lines.
# Amounts that are not integers (SQLite columns hold anything) or beyond 2**40 fen are left to
# the exact path, so the sums are exact and can never overflow.
SQLITE_LINES = """(SELECT CASE WHEN count(*) > 0 AND min(good) = 1 AND sum(d * good) = sum(c * good)
                   THEN group_concat(x, ',') END
  FROM (SELECT json_array(l.account_id, l.debit_fen, l.credit_fen, coalesce(l.memo, '')) AS x,
               coalesce(a.organization_id = e.organization_id
                        AND typeof(l.debit_fen) = 'integer' AND typeof(l.credit_fen) = 'integer'
                        AND (l.debit_fen > 0) <> (l.credit_fen > 0)
                        AND l.debit_fen BETWEEN 0 AND 1099511627776
                        AND l.credit_fen BETWEEN 0 AND 1099511627776, 0) AS good,
               l.debit_fen AS d, l.credit_fen AS c
        FROM ledger_lines l LEFT JOIN ledger_accounts a ON a.id = l.account_id
        WHERE l.entry_id = e.id
        ORDER BY l.account_id, l.debit_fen, l.credit_fen, l.memo))"""

SQLITE_BODY = f"CAST({SQLITE_HEAD} || {SQLITE_LINES} || ']]' AS BLOB)"

# 1 unless the entry reverses one that is not earlier in its own chain. (Python checks seq and
# prev_hash against the row before: SQLite's window functions would cost more than that.)
SQLITE_REVERSES_OK = """CASE WHEN e.reverses_id IS NULL THEN 1 ELSE EXISTS (
    SELECT 1 FROM ledger_entries r WHERE r.id = e.reverses_id
    AND r.organization_id = e.organization_id AND r.seq < e.seq) END"""

# PostgreSQL: to_json(text) escapes as Python's json does (to_json and json_build_array put
# spaces after commas, so the arrays are put together by hand; || rather than format(), whose
# %s the driver would take for parameters); the memo is ordered with COLLATE "C", byte order,
# which in UTF-8 is code point order.
PG_HEAD = """'[' || e.organization_id || ',' || e.seq
    || ',"' || to_char(e.entry_date, 'YYYY-MM-DD') || '",' || to_json(e.description)::text
    || ',' || to_json(e.source_key)::text || ',' || coalesce(e.reverses_id::text, 'null')
    || ',' || coalesce(to_json(e.prev_hash)::text, 'null') || ',['"""

PG_LINES = """SELECT l.entry_id,
    string_agg('[' || l.account_id || ',' || l.debit_fen || ',' || l.credit_fen || ','
               || to_json(coalesce(l.memo, ''))::text || ']', ','
               ORDER BY l.account_id, l.debit_fen, l.credit_fen,
                        coalesce(l.memo, '') COLLATE "C") AS body,
    count(*) AS n, sum(l.debit_fen) AS debits, sum(l.credit_fen) AS credits,
    bool_and(coalesce((l.debit_fen > 0) <> (l.credit_fen > 0)
                      AND l.debit_fen >= 0 AND l.credit_fen >= 0, false)) AS sided,
    count(a.organization_id) AS n_accounts,
    min(a.organization_id) AS org_lo, max(a.organization_id) AS org_hi
  FROM ledger_lines l LEFT JOIN ledger_accounts a ON a.id = l.account_id
  {join}
  GROUP BY l.entry_id"""

PG_BODY = "convert_to(" + PG_HEAD + " || coalesce(g.body, '') || ']]', 'UTF8')"

# True when the entry follows the one before it and its lines pass (the hash is compared in
# _pg_sql); NULL counts as not cleared.
PG_CLEARED = """e.seq = e.seq_before + 1
    AND e.prev_hash IS NOT DISTINCT FROM e.hash_before
    AND (e.reverses_id IS NULL OR EXISTS (
        SELECT 1 FROM ledger_entries r WHERE r.id = e.reverses_id
        AND r.organization_id = e.organization_id AND r.seq < e.seq))
    AND g.n > 0 AND g.sided AND g.debits = g.credits AND g.n_accounts = g.n
    AND g.org_lo = e.organization_id AND g.org_hi = e.organization_id"""


def _where(organization_id: int | None) -> str:
    return "" if organization_id is None else f"WHERE e.organization_id = {int(organization_id)}"


def _sqlite_sql(organization_id: int | None) -> str:
    """(organization, seq, prev_hash, stored hash, reverses ok, canonical text) per entry,
    in chain order."""
    return (
        "SELECT e.organization_id, e.seq, e.prev_hash, e.entry_hash, "  # noqa: S608 (constants and an int)
        f"{SQLITE_REVERSES_OK}, {SQLITE_BODY} "
        f"FROM ledger_entries e {_where(organization_id)} "
        "ORDER BY e.organization_id, e.seq"
    )


def _pg_lines(organization_id: int | None) -> str:
    """Per entry: its lines' JSON text and the figures of the line checks."""
    if organization_id is None:
        return PG_LINES.replace("{join}", "")
    org = int(organization_id)
    join = f"JOIN ledger_entries le ON le.id = l.entry_id AND le.organization_id = {org}"
    return PG_LINES.replace("{join}", join)


def _pg_sql(organization_id: int | None) -> str:
    """One row per organization: its number of entries and whether every one was cleared.
    (OFFSET 0 keeps the per-entry result a subquery of its own, so what is grouped by
    organization is one boolean per entry, not every entry's columns and lines.)"""
    return (
        f"WITH g AS ({_pg_lines(organization_id)}), "  # noqa: S608 (constants and an int)
        "chain AS (SELECT e.*, lag(e.seq, 1, 0) OVER w AS seq_before, "
        "lag(e.entry_hash) OVER w AS hash_before "
        f"FROM ledger_entries e {_where(organization_id)} "
        "WINDOW w AS (PARTITION BY e.organization_id ORDER BY e.seq)) "
        "SELECT organization_id, count(*), bool_and(cleared) FROM ("
        f"SELECT e.organization_id, coalesce({PG_CLEARED} "
        f"AND encode(sha256({PG_BODY}), 'hex') = e.entry_hash, false) AS cleared "
        "FROM chain e LEFT JOIN g ON g.entry_id = e.id OFFSET 0) per_entry "
        "GROUP BY organization_id ORDER BY organization_id"
    )


def _chains_sqlite(organization_id: int | None):
    """(organization id, entries, whether any entry was not cleared) per chain, in
    organization order. Python hashes each entry's text and follows the links."""
    cursor = db.session.connection().connection.driver_connection.cursor()
    try:
        cursor.execute(_sqlite_sql(organization_id))
        sha256 = hashlib.sha256
        org = count = last_seq = last_hash = None
        doubt = False
        while rows := cursor.fetchmany(5000):
            for org_id, seq, prev_hash, stored, reverses_ok, body in rows:
                if org_id != org:
                    if org is not None:
                        yield org, count, doubt
                    org, count, doubt, last_seq, last_hash = org_id, 0, False, 0, None
                count += 1
                if not doubt and (
                    seq != last_seq + 1
                    or prev_hash != last_hash
                    or reverses_ok != 1
                    or body is None
                    or sha256(body).hexdigest() != stored
                ):
                    doubt = True
                last_seq, last_hash = seq, stored
        if org is not None:
            yield org, count, doubt
    finally:
        cursor.close()


def _chains(organization_id: int | None):
    if db.session.get_bind().dialect.name == "postgresql":
        return _chains_postgresql(organization_id)
    return _chains_sqlite(organization_id)


# For the one statement of _chains_postgresql: JIT compiling it took longer (0.6 s for a year)
# than it could save on string functions, and the hash of the lines per entry fits in memory.
PG_SETTINGS = {"jit": "off", "work_mem": "64MB"}


def _chains_postgresql(organization_id: int | None):
    conn = db.session.connection()
    names = list(PG_SETTINGS)
    # set_config(..., true) lasts until the transaction ends; the values before are put back
    # right after (if the statement fails, the rollback puts them back).
    before = conn.exec_driver_sql(
        "SELECT " + ", ".join(f"current_setting('{n}')" for n in names)
    ).one()
    conn.exec_driver_sql(
        "SELECT " + ", ".join(f"set_config('{n}', '{v}', true)" for n, v in PG_SETTINGS.items())
    )
    rows = conn.exec_driver_sql(_pg_sql(organization_id)).all()
    conn.exec_driver_sql(
        "SELECT " + ", ".join(f"set_config('{n}', %(v{i})s, true)" for i, n in enumerate(names)),
        {f"v{i}": value for i, value in enumerate(before)},
    )
    for org_id, count, cleared in rows:
        yield org_id, count, not cleared


def canonical_texts_sql(organization_id: int | None = None) -> dict[int, bytes | None]:
    """Each entry's canonical bytes as the fast path builds them in the database (None on
    SQLite when a line check fails). For tests: they must equal canonical_bytes()."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        sql = (
            f"WITH g AS ({_pg_lines(organization_id)}) "  # noqa: S608 (constants and an int)
            f"SELECT e.id, {PG_BODY} FROM ledger_entries e LEFT JOIN g ON g.entry_id = e.id "
            + _where(organization_id)
        )
    else:
        sql = f"SELECT e.id, {SQLITE_BODY} FROM ledger_entries e {_where(organization_id)}"  # noqa: S608
    return {i: None if body is None else bytes(body) for i, body in conn.exec_driver_sql(sql)}


def verify(organization_id: int | None = None) -> VerifyResult:
    """Recompute every chain (or one organization's): contiguous sequence, each link, each
    hash, each entry balanced on accounts of its own organization. Stops at the first bad
    entry, which it names."""
    checked = orgs = 0
    with closing(_chains(organization_id)) as per_chain:
        for org_id, count, doubt in per_chain:
            orgs += 1
            if doubt:  # the exact path decides, and names the first bad entry
                exact = _verify_exactly(org_id)
                if not exact.ok:
                    return VerifyResult(
                        False,
                        checked + exact.entries_checked,
                        exact.first_bad,
                        exact.message,
                        orgs,
                    )
            checked += count
    return VerifyResult(True, checked, None, f"{checked} entries intact", orgs)


def _verify_exactly(organization_id: int | None = None) -> VerifyResult:
    """Every row read and every hash rebuilt in Python: slow, and the reference (what verify
    did before the fast path; tests compare the two)."""
    account_orgs = dict(
        db.session.execute(select(LedgerAccount.id, LedgerAccount.organization_id)).all()
    )
    with _rows(organization_id) as result:
        return _walk(chain.from_iterable(result.partitions(5000)), account_orgs)


def verify_after(organization_id: int, seq: int, entry_hash_: str | None) -> VerifyResult:
    """The entries of one chain after entry `seq`, as `verify` checks them, given that entry
    `seq` was found intact with hash `entry_hash_` (a checkpoint; 0 and None: from the start).
    Entry `seq` must still carry that hash. Exact path: a checkpoint leaves few entries."""
    return verify_after_many({organization_id: (seq, entry_hash_)})[int(organization_id)]


def verify_after_many(points: dict[int, tuple[int, str | None]]) -> dict[int, VerifyResult]:
    """verify_after for several chains at once, {organization id: (seq, entry hash)}, in four
    statements whatever their number (the street office's page checks a dozen)."""
    points = {int(org): (int(seq), h) for org, (seq, h) in points.items()}
    if not points:
        return {}
    results: dict[int, VerifyResult] = {}
    after = [(org, seq) for org, (seq, _h) in points.items() if seq]
    stored = {}
    if after:
        stored = dict(
            db.session.execute(
                select(LedgerEntry.organization_id, LedgerEntry.entry_hash).where(
                    tuple_(LedgerEntry.organization_id, LedgerEntry.seq).in_(after)
                )
            ).all()
        )
    for org, seq in after:
        if stored.get(org) != points[org][1]:
            bad = BadEntry(org, seq, 0, "differs from the entry the last full check passed")
            message = f"organization {org}, entry seq {seq}: {bad.reason}"
            results[org] = VerifyResult(False, 0, bad, message, 1)
    todo = {org: p for org, p in points.items() if org not in results}
    if not todo:
        return results
    starts = {
        org: {"org": org, "seq": seq, "hash": h, "ids": set()} for org, (seq, h) in todo.items()
    }
    # Entries the tails reverse from before their checkpoints (checked as earlier entries).
    earlier = LedgerEntry.__table__.alias("earlier")
    tails = [
        and_(
            LedgerEntry.organization_id == org,
            LedgerEntry.seq > seq,
            earlier.c.organization_id == org,
            earlier.c.seq <= seq,
        )
        for org, (seq, _h) in todo.items()
        if seq
    ]
    if tails:
        for org, entry_id in db.session.execute(
            select(earlier.c.organization_id, earlier.c.id)
            .join(LedgerEntry, LedgerEntry.reverses_id == earlier.c.id)
            .where(or_(*tails))
        ):
            starts[org]["ids"].add(entry_id)
    account_orgs = dict(
        db.session.execute(
            select(LedgerAccount.id, LedgerAccount.organization_id).where(
                LedgerAccount.organization_id.in_(list(todo))
            )
        ).all()
    )
    where = "WHERE " + " OR ".join(
        f"(e.organization_id = {org} AND e.seq > {seq})" for org, (seq, _h) in todo.items()
    )
    with db.session.connection().exec_driver_sql(ROWS_SQL.format(where=where)) as rows:
        for org, group in groupby(rows, key=itemgetter(1)):
            results[org] = _walk(group, account_orgs, starts[org])
    for org in todo:
        results.setdefault(org, VerifyResult(True, 0, None, "0 entries intact", 0))
    return results


def _walk(rows_, account_orgs: dict[int, int], state: dict | None = None) -> VerifyResult:
    checked = orgs = 0
    state = state or {}
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
