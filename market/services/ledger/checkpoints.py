"""Checkpoints of the chain check: a full `verify` (`flask ledger verify`, and nightly the
scheduler's job `nightly_check` below) re-hashes a year of entries in seconds per
organization; it leaves, per organization, how far it got (ChainCheckpoint). A page that shows
many organizations at once (the street office's dashboard) then checks only the entries after
the checkpoint, and says which entry and which time the full check covered. A full check that
fails records the broken entry, and every page reading the checkpoint shows the chain as broken
until a full check passes again.

A passing full check also takes each account's balance up to its head (`balances`): the
dashboard's "asset account below zero" adds the entries after it instead of a year of lines.

What a checkpoint cannot see: an entry at or before it edited after the full check (its hash
stored anew). The checkpoint's own entry is compared with the hash it had; the rest waits for
the next full check, which is why the page prints when that was.

The books against the operations (services.ledger.operations) have no such tail: their checks
are balances over the whole year. `flask ledger verify --operations` records its result per
organization; for OPERATIONS_FRESH after it the page shows that result (and when it was
taken), later it checks again itself, as before checkpoints.

The scheduler's tick runs both full checks once a night (`nightly_check`): the first tick
between NIGHT_FROM and NIGHT_UNTIL in MARKET_TIMEZONE when no full check of the books was
recorded since NIGHT_FROM. A check that fails is logged as an error, and what it recorded keeps
the dashboard's "books" flag raised."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, func, or_, select

from ...extensions import db
from ...models import ChainCheckpoint, LedgerEntry, LedgerLine, Organization
from ..common import clock, ticks
from . import chain, operations

log = logging.getLogger(__name__)

OPERATIONS_FRESH = timedelta(hours=36)  # a nightly check, and a night's slack


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    full_seq: int | None  # entries 1…full_seq: checked by the last full check (None: never)
    full_at: datetime | None
    tail_checked: int  # entries after full_seq checked now
    message: str


def _organizations(organization_id: int | None) -> list[int]:
    """Every organization's id, or the one given if it exists."""
    query = select(Organization.id).order_by(Organization.id)
    if organization_id is not None:
        query = query.where(Organization.id == organization_id)
    return list(db.session.scalars(query))


def _point(organization_id: int) -> ChainCheckpoint:
    point = db.session.get(ChainCheckpoint, organization_id)
    if point is None:
        point = ChainCheckpoint(organization_id=organization_id, seq=0)
        db.session.add(point)
    return point


def _balances_upto(organization_id: int, seq: int) -> dict[str, int]:
    """Each account's debits less credits over the chain's entries 1…seq."""
    rows = db.session.execute(
        select(LedgerLine.account_id, func.sum(LedgerLine.debit_fen - LedgerLine.credit_fen))
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .where(LedgerEntry.organization_id == organization_id, LedgerEntry.seq <= seq)
        .group_by(LedgerLine.account_id)
    ).all()
    return {str(account): int(net) for account, net in rows}


def balances_after(organization_ids: list[int]) -> dict[int, dict[int, int]]:
    """{organization id: {account id: debits less credits}} over the whole chain, from the
    balances the last passing full check took plus the entries after it: a few rows read
    instead of a year of lines. Chains without such a checkpoint are summed in full."""
    points = {
        p.organization_id: p
        for p in db.session.scalars(
            select(ChainCheckpoint).where(
                ChainCheckpoint.organization_id.in_(organization_ids),
                ChainCheckpoint.balances.is_not(None),
                ChainCheckpoint.broken_seq.is_(None),
            )
        )
    }
    out = {org: {int(a): n for a, n in json.loads(p.balances).items()} for org, p in points.items()}
    whole = [org for org in organization_ids if org not in points]
    scopes = [LedgerEntry.organization_id.in_(whole)] if whole else []
    scopes += [
        and_(LedgerEntry.organization_id == org, LedgerEntry.seq > p.seq)
        for org, p in points.items()
    ]
    if not scopes:
        return out
    for org, account, net in db.session.execute(
        select(
            LedgerEntry.organization_id,
            LedgerLine.account_id,
            func.sum(LedgerLine.debit_fen - LedgerLine.credit_fen),
        )
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .where(or_(*scopes))
        .group_by(LedgerEntry.organization_id, LedgerLine.account_id)
    ):
        balances = out.setdefault(org, {})
        balances[account] = balances.get(account, 0) + int(net)
    return out


def verify_and_record(organization_id: int | None = None, now: datetime | None = None):
    """`chain.verify` of every organization (or one), each leaving its checkpoint: the head it
    saw before checking (entries posted meanwhile are left to the next check), or the entry
    where its chain broke. Returns a VerifyResult as `chain.verify(organization_id)` does:
    intact, or the first broken chain's entry. The caller commits."""
    now = now or clock.now()
    ids = _organizations(organization_id)
    if organization_id is not None and not ids:  # no such organization: nothing to record
        return chain.verify(organization_id)
    checked = orgs = 0
    failure = None
    for org_id in ids:
        head = chain.chain_head(org_id)
        result = chain.verify(org_id)
        point = _point(org_id)
        point.verified_at = now
        if result.ok:
            point.seq = head.seq if head else 0
            point.entry_hash = head.entry_hash if head else None
            point.broken_seq = None
            point.balances = json.dumps(_balances_upto(org_id, point.seq))
        else:
            point.broken_seq = result.first_bad.seq if result.first_bad else 0
            point.balances = None
            if failure is None:
                failure = chain.VerifyResult(
                    False,
                    checked + result.entries_checked,
                    result.first_bad,
                    result.message,
                    orgs + result.organizations,
                )
        checked += result.entries_checked
        orgs += result.organizations
    db.session.flush()
    if failure is not None:
        return failure
    return chain.VerifyResult(True, checked, None, f"{checked} entries intact", orgs)


def check(organization_id: int) -> ChainCheck:
    """The chain as far as the last full check saw it, plus the entries after it checked now.
    Without a checkpoint, the whole chain is checked now (slow, as before checkpoints)."""
    return check_many([organization_id])[organization_id]


def check_many(organization_ids: list[int]) -> dict[int, ChainCheck]:
    """check() of several organizations, their tails read together."""
    points = {
        p.organization_id: p
        for p in db.session.scalars(
            select(ChainCheckpoint).where(ChainCheckpoint.organization_id.in_(organization_ids))
        )
    }
    out: dict[int, ChainCheck] = {}
    for org in organization_ids:
        point = points.get(org)
        if point is None:
            result = chain.verify(org)
            out[org] = ChainCheck(result.ok, None, None, result.entries_checked, result.message)
        elif point.broken_seq is not None:
            message = f"the full check at {point.verified_at:%Y-%m-%d %H:%M} found entry seq {point.broken_seq} broken"  # noqa: E501
            out[org] = ChainCheck(False, point.seq, point.verified_at, 0, message)
    tails = chain.verify_after_many(
        {org: (p.seq, p.entry_hash) for org, p in points.items() if org not in out}
    )
    for org, result in tails.items():
        point = points[org]
        out[org] = ChainCheck(
            result.ok, point.seq, point.verified_at, result.entries_checked, result.message
        )
    return out


def record_operations(
    result: operations.OperationsResult,
    organization_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Remember a full check of the books against the operations (of every organization, or
    one): when, and how many mismatches each organization had. The caller commits."""
    now = now or clock.now()
    for org_id in _organizations(organization_id):
        point = _point(org_id)
        if point.verified_at is None:  # no chain check yet: nothing of the chain is vouched for
            point.verified_at, point.broken_seq = now, None
            point.seq, point.entry_hash = 0, None
        point.operations_at = now
        point.operations_mismatches = sum(
            1 for m in result.mismatches if m.organization_id == org_id
        )
    db.session.flush()


@dataclass(frozen=True)
class OperationsCheck:
    ok: bool
    at: datetime | None  # when the result was recorded by a full check (None: checked now)
    mismatches: int


def check_operations(organization_id: int, now: datetime) -> OperationsCheck:
    """The last full check's result while fresh (OPERATIONS_FRESH), else checked now."""
    point = db.session.get(ChainCheckpoint, organization_id)
    fresh = point is not None and point.operations_at is not None
    if fresh and now - point.operations_at <= OPERATIONS_FRESH:
        n = point.operations_mismatches or 0
        return OperationsCheck(n == 0, point.operations_at, n)
    result = operations.verify_operations(organization_id)
    return OperationsCheck(result.ok, None, len(result.mismatches))


# Nobody trades then: night markets have closed, morning ones (06:00) not opened yet.
NIGHT_FROM, NIGHT_UNTIL = time(3, 0), time(5, 0)
_TRIED = "ledger.nightly_check"  # app.extensions: the local date this process last tried


def nightly_due(now: datetime, zone: ZoneInfo) -> bool:
    """Whether a tick at `now` runs the full checks: inside the night window, and no full check
    of the books (this job's or `flask ledger verify --operations`) recorded since the window
    opened. Outside the window nothing is read; inside it, one read of the checkpoints (a row
    per organization)."""
    local = now.astimezone(zone)
    if not NIGHT_FROM <= local.time() < NIGHT_UNTIL:
        return False
    opened = datetime.combine(local.date(), NIGHT_FROM, tzinfo=zone)
    done = db.session.scalar(
        select(ChainCheckpoint.organization_id)
        .where(ChainCheckpoint.operations_at >= opened)
        .limit(1)
    )
    return done is None


@ticks.register("ledger.nightly_check")
def nightly_check(now: datetime) -> list[str]:
    """Both full checks of every organization, as `flask ledger verify --operations`, once a
    night. Tried once per night per process even if it raises (a retry every tick would redo
    seconds of work each minute); the next night tries again."""
    zone = ZoneInfo(current_app.config["MARKET_TIMEZONE"])
    if not nightly_due(now, zone):
        return []
    night = now.astimezone(zone).date()
    if current_app.extensions.get(_TRIED) == night:
        return []
    current_app.extensions[_TRIED] = night
    result = verify_and_record(None, now)
    books = operations.verify_operations(None)
    record_operations(books, None, now)
    if result.ok and books.ok:
        return [f"ledger nightly check: {result.message}; {books.message}"]
    problems = [] if result.ok else [f"LEDGER BROKEN: {result.message}"]
    if not books.ok:
        problems.append(f"BOOKS DO NOT MATCH THE OPERATIONS: {books.message}")
        problems += [f"MISMATCH {m}" for m in books.mismatches[:20]]
    log.error("nightly ledger check failed:\n%s", "\n".join(problems))
    return problems
