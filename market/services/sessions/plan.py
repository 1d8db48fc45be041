"""The plan of a market's sessions: which sessions its templates ask for, and generating them.

Times are stored in UTC and computed in the market's own IANA zone, so a session 18:00–01:00
is right in Asia/Shanghai and across a DST change in Europe/Berlin alike. The business date of
a session is the local date on which it starts.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...extensions import db
from ...models import CheckIn, Market, MarketClosure, MarketSession, SessionState, SessionTemplate
from ..common import versions
from ..common.errors import InvalidInput

HORIZON_DAYS = 14
S = SessionState


# --- time in the market's zone ---------------------------------------------------------------


def zone_of(market: Market) -> ZoneInfo:
    try:
        return ZoneInfo(market.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _l(
                "The market's timezone “%(name)s” is unknown; correct it on the market page.",
                name=market.timezone,
            ),
            code="invalid_timezone",
            field="timezone",
        ) from None


def local_today(market: Market, now: datetime) -> date:
    return now.astimezone(zone_of(market)).date()


def local_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time on a local date, in UTC. In a spring-forward gap (fold=0) zoneinfo
    uses the offset before the change, i.e. 02:30 becomes 03:30 summer time."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Slot:
    """The session a template asks for on one business date."""

    business_date: date
    starts_at: datetime
    ends_at: datetime
    cutoff_at: datetime

    def overlaps(self, other: "Slot") -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


def runs_on(template: SessionTemplate, day: date) -> bool:
    return bool(
        template.weekdays >> day.weekday() & 1
        and template.valid_from <= day
        and (template.valid_until is None or day <= template.valid_until)
    )


def slot_for(template: SessionTemplate, day: date, zone: ZoneInfo) -> Slot | None:
    starts = local_to_utc(day, template.start_local, zone)
    crosses_midnight = template.end_local <= template.start_local
    ends = local_to_utc(day + timedelta(days=crosses_midnight), template.end_local, zone)
    if ends <= starts:  # the whole session fell into a DST gap: there is none that day
        return None
    cutoff = min(starts + timedelta(minutes=template.cutoff_minutes), ends)
    return Slot(day, starts, ends, cutoff)


# --- the plan: which sessions the templates ask for ------------------------------------------


def active_templates(market: Market) -> list[SessionTemplate]:
    return list(
        db.session.scalars(
            select(SessionTemplate)
            .where(SessionTemplate.market_id == market.id, SessionTemplate.is_active.is_(True))
            .order_by(SessionTemplate.id)
        )
    )


def wanted_slots(market: Market, first: date, last: date) -> dict[tuple[int, date], Slot]:
    """(template id, business date) → slot, for the active templates. A special session
    replaces a regular one it overlaps (a holiday evening instead of the usual night)."""
    zone = zone_of(market)
    slots: dict[tuple[int, date], Slot] = {}
    kinds: dict[int, str] = {}
    day = first
    templates = active_templates(market)
    while day <= last:
        for template in templates:
            slot = slot_for(template, day, zone) if runs_on(template, day) else None
            if slot is not None:
                slots[(template.id, day)] = slot
                kinds[template.id] = template.kind
        day += timedelta(days=1)
    specials = [s for (tid, _), s in slots.items() if kinds[tid] == "special"]
    return {
        key: slot
        for key, slot in slots.items()
        if kinds[key[0]] == "special" or not any(slot.overlaps(sp) for sp in specials)
    }


def _closures(market: Market, first: date, last: date) -> list[MarketClosure]:
    return list(
        db.session.scalars(
            select(MarketClosure).where(
                MarketClosure.market_id == market.id,
                MarketClosure.lifted_at.is_(None),
                MarketClosure.first_date <= last,
                MarketClosure.last_date >= first,
            )
        )
    )


def closure_on(closures: list[MarketClosure], day: date) -> MarketClosure | None:
    return next((c for c in closures if c.first_date <= day <= c.last_date), None)


def _insert_ignoring_duplicates(rows: list[dict]) -> None:
    # Two reconcilers (the scheduler and a `market tick`) may generate at once: the unique
    # (template_id, business_date) decides, and the loser quietly inserts nothing.
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(MarketSession).on_conflict_do_nothing(
        index_elements=["template_id", "business_date"]
    )
    db.session.execute(stmt, rows)


def generate_ahead(market: Market, now: datetime, days: int = HORIZON_DAYS) -> int:
    """Create the missing sessions of the next `days` days (and any still running from
    yesterday). Sessions already over are not created after the fact. Returns how many."""
    today = local_today(market, now)
    first, last = today - timedelta(days=1), today + timedelta(days=days)
    wanted = wanted_slots(market, first, last)
    existing = set(
        db.session.execute(
            select(MarketSession.template_id, MarketSession.business_date).where(
                MarketSession.market_id == market.id,
                MarketSession.business_date.between(first, last),
            )
        ).all()
    )
    templates = {t.id: t for t in active_templates(market)}
    closures = _closures(market, first, last)
    rows = []
    for (template_id, day), slot in sorted(wanted.items(), key=lambda kv: kv[1].starts_at):
        if (template_id, day) in existing or slot.ends_at <= now:
            continue
        closure = closure_on(closures, day)
        rows.append(
            {
                "market_id": market.id,
                "template_id": template_id,
                "kind": templates[template_id].kind,
                "business_date": day,
                "starts_at": slot.starts_at,
                "ends_at": slot.ends_at,
                "cutoff_at": slot.cutoff_at,
                "state": S.CANCELLED if closure else S.SCHEDULED,
                "cancel_reason": closure.reason if closure else None,
                "closure_id": closure.id if closure else None,
            }
        )
    if rows:
        _insert_ignoring_duplicates(rows)
        versions.bump(db.session, [market.id])  # a bulk INSERT: no flush saw it
    return len(rows)


def _untouched_future(market: Market, now: datetime) -> list[MarketSession]:
    """Sessions a template edit may still move or drop: generated, not yet started, never
    changed by hand (a closure's cancellation is not "by hand": lifting it restores them)."""
    return list(
        db.session.scalars(
            select(MarketSession)
            .where(
                MarketSession.market_id == market.id,
                MarketSession.template_id.is_not(None),
                MarketSession.is_manual.is_(False),
                MarketSession.starts_at > now,
                or_(
                    MarketSession.state == S.SCHEDULED,
                    and_(MarketSession.state == S.CANCELLED, MarketSession.closure_id.is_not(None)),
                ),
            )
            .with_for_update()
        )
    )


def _has_checkins(session: MarketSession) -> bool:
    return bool(db.session.scalar(select(exists().where(CheckIn.session_id == session.id))))


def refresh_plan(market: Market, now: datetime) -> dict:
    """After a template changed: move or drop the untouched future sessions to match the
    templates, then generate what is missing. Sessions a cadre touched stay as they are."""
    stale = _untouched_future(market, now)
    wanted = {}
    if stale:
        days = [s.business_date for s in stale]
        wanted = wanted_slots(market, min(days), max(days))
    templates = {t.id: t for t in active_templates(market)}
    moved = dropped = 0
    for session in stale:
        slot = wanted.get((session.template_id, session.business_date))
        if slot is None or slot.ends_at <= now:
            if not _has_checkins(session):
                db.session.delete(session)
                dropped += 1
            continue
        new = (slot.starts_at, slot.ends_at, slot.cutoff_at, templates[session.template_id].kind)
        if (session.starts_at, session.ends_at, session.cutoff_at, session.kind) != new:
            session.starts_at, session.ends_at, session.cutoff_at, session.kind = new
            moved += 1
    db.session.flush()
    return {"moved": moved, "dropped": dropped, "generated": generate_ahead(market, now)}
