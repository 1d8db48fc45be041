"""The board's version: whether anything it shows changed, told by one indexed read.

A poll that finds the board unchanged must cost next to nothing (a 3,000-stall board takes
hundreds of milliseconds to build). What the board shows changes in two ways:

- a write: check-ins, check-outs, moves, payments (cash, collection code, confirmed, waived,
  voided), incidents opened or resolved, stalls and zones edited, disabled or enabled,
  monthly passes, sessions opened, closed, cancelled, extended, reinstated, planned (a
  template saved, or the tick planning ahead). Each writes an audit event of the market's
  organization in the same transaction (services.common.audit), so those events are the
  change marker, and the check-in adds no statement and no lock for it;
- the clock: a session begins or ends, the monthly-pass holders' stalls are released at the
  cutoff, a new local day renames "tonight" and "tomorrow". The board knows when the first of
  those comes (`until`) and the version expires then. (The tick's own writes at those moments
  are dated at them, so they fall behind the window below; the board has followed the clock
  already.)

The read counts the organization's audit events since a moment a few minutes before the board
was built (the index on organization_id, at). Counting, not the highest id: on PostgreSQL ids
are handed out at insert and become visible at commit, so a slow transaction's lower id can
appear after a faster one's higher id; any event committed later still adds to the count. The
margin covers transactions that take up to MARGIN between their audit row and their commit,
and clocks that far apart between hosts.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from ...extensions import db
from ...models import AuditEvent
from ..common.clock import as_utc

MARGIN = timedelta(minutes=5)
# A quiet board is built again after this long, so the counted range stays a few minutes'
# worth of one organization's events however the version was made.
MAX_AGE = timedelta(minutes=30)
VERSION = re.compile(r"^([0-9a-f]{1,8})-([0-9a-f]{1,10})-([0-9a-f]{1,8})-([0-9a-f]{1,10})$")


@dataclass(frozen=True)
class Marker:
    market_id: int
    since: int  # epoch seconds: the counted events are those dated from here on
    count: int
    until: int  # epoch seconds: the board's first change by the clock

    def __str__(self) -> str:
        return f"{self.market_id:x}-{self.since:x}-{self.count:x}-{self.until:x}"

    @classmethod
    def parse(cls, text: str | None) -> "Marker | None":
        match = VERSION.match(text or "")
        return cls(*(int(part, 16) for part in match.groups())) if match else None


def _since(now: datetime) -> int:
    # The earlier of the market clock and the host's: audit rows are dated by the host when
    # written, and a session's events by the clock of the action.
    earliest = min(as_utc(now), datetime.now(UTC))
    return int((earliest - MARGIN).timestamp())


def _count(organization_id: int, since: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.organization_id == organization_id,
            AuditEvent.at >= datetime.fromtimestamp(since, UTC),
        )
    )


def read(organization_id: int, now: datetime) -> tuple[int, int]:
    """(since, count) for a board about to be built: read before the board, so that what it
    shows is at least as new as the count says."""
    since = _since(now)
    return since, _count(organization_id, since)


def version(market_id: int, since: int, count: int, until: datetime, now: datetime) -> str:
    until = min(as_utc(until), as_utc(now) + MAX_AGE)
    return str(Marker(market_id, since, count, int(until.timestamp())))


def unchanged(market_id: int, organization_id: int, sent: str | None, now: datetime) -> bool:
    """True when `sent` is this market's version and nothing the board shows has changed
    since: at most one statement, none when the version has expired or is not one."""
    marker = Marker.parse(sent)
    if marker is None or marker.market_id != market_id:
        return False
    at = as_utc(now).timestamp()
    if at >= marker.until or marker.since < _since(now) - (MAX_AGE + MARGIN).total_seconds():
        return False
    return _count(organization_id, marker.since) == marker.count
