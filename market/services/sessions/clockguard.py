"""The scheduler's clock against a clock it cannot move: a wrong clock must not end an evening.

A tick closes every session whose end has passed, so a clock days ahead (a host clock that
jumps, an operator's typo in `tick --now`) would close tonight's session and the next ones,
check vendors out and turn fees into receivables. Two guards, chosen for what each database
can prove:

- PostgreSQL: the database server has a clock of its own. A tick whose clock is ahead of
  `clock_timestamp()` by more than SCHEDULER_CLOCK_SKEW_MINUTES does nothing; the refusal is
  logged and recorded as an audit event, which the cadre's sessions page shows while recent.
- SQLite has no second clock. The last tick's time is no reference (a server down for three
  days rightly catches up three days at once), and neither is any stored write time, so a
  forward jump of the host clock cannot be told from downtime: there the periodic tick trusts
  the host clock. What can be checked is an explicit instant: `flask market tick --now`
  further than a day from the real time needs `--force` (on both databases).
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, text

from ...extensions import db
from ...models import AuditEvent
from ..common import audit
from ..common.clock import as_utc
from ..common.clock import now as clock_now

log = logging.getLogger("market.scheduler")

REFUSED = "scheduler.clock_refused"
# One audit event per this long while the clock stays wrong (the tick runs every minute).
RECORD_EVERY = timedelta(minutes=10)
# The cadre's page warns while the last refusal is this recent.
SHOWN_FOR = timedelta(minutes=30)
# `tick --now` further than this from the real time needs --force.
EXPLICIT_LIMIT = timedelta(days=1)


@dataclass(frozen=True)
class ClockRefusal:
    scheduler_now: datetime
    database_now: datetime

    @property
    def minutes_ahead(self) -> int:
        return round((self.scheduler_now - self.database_now).total_seconds() / 60)

    def message(self) -> str:
        return (
            f"refused: the scheduler's clock ({self.scheduler_now.isoformat()}) is ahead of "
            f"the database's ({self.database_now.isoformat()}) by {self.minutes_ahead} "
            "minutes; it did nothing"
        )


def skew_limit() -> timedelta:
    return timedelta(minutes=current_app.config.get("SCHEDULER_CLOCK_SKEW_MINUTES", 5))


def database_now() -> datetime | None:
    """The database server's own clock, or None when it has none of its own (SQLite).
    clock_timestamp(), not now(): now() stands still at the start of the transaction."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    return as_utc(db.session.scalar(text("SELECT clock_timestamp()")))


def check(scheduler_now: datetime) -> ClockRefusal | None:
    """A refusal when `scheduler_now` is ahead of the database's clock by more than the limit;
    None when it is not, or when there is no database clock to compare with (SQLite)."""
    db_now = database_now()
    if db_now is None:
        return None
    scheduler_now = as_utc(scheduler_now)
    if scheduler_now - db_now > skew_limit():
        return ClockRefusal(scheduler_now, db_now)
    return None


def _last_event() -> AuditEvent | None:
    return db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == REFUSED)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    )


def record(refusal: ClockRefusal) -> AuditEvent | None:
    """Log the refusal, and keep it (at most once per RECORD_EVERY) for the cadre's page.
    Dated by the database's clock: the scheduler's is the one not to trust. The caller
    commits."""
    log.warning("tick %s", refusal.message())
    last = _last_event()
    if last is not None and refusal.database_now - as_utc(last.at) < RECORD_EVERY:
        return None
    event = audit.record(
        REFUSED,
        minutes_ahead=refusal.minutes_ahead,
        scheduler_clock=refusal.scheduler_now.isoformat(),
        database_clock=refusal.database_now.isoformat(),
    )
    event.at = refusal.database_now
    return event


@dataclass(frozen=True)
class RecentRefusal:
    at: datetime
    minutes_ahead: int


def recent_refusal() -> RecentRefusal | None:
    """The last refusal while it is recent, for the warning on the cadre's page. Recent by the
    database's clock where there is one (the web server may share the scheduler's bad clock)."""
    last = _last_event()
    if last is None:
        return None
    reference = database_now() or clock_now()
    at = as_utc(last.at)
    if reference - at > SHOWN_FOR:
        return None
    try:
        minutes = int(json.loads(last.detail).get("minutes_ahead", 0))
    except (ValueError, TypeError, AttributeError):
        minutes = 0
    return RecentRefusal(at, minutes)
