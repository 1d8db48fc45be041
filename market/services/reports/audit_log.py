"""Reading the audit trail of one organization: filtered, paged, exported.

Events are only ever added (services.audit); this module only reads them."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...extensions import db
from ...models import AuditEvent, Market, Organization, User
from ..common.errors import InvalidInput
from ..common.tables import Column, Table
from . import audit_labels
from .summaries import DateRange

PER_PAGE = 50


@dataclass(frozen=True)
class AuditFilter:
    span: DateRange
    action: str | None = None
    object_type: str | None = None
    actor_id: int | None = None


def zone_of(org: Organization, default: str) -> ZoneInfo:
    """The organization's markets share a place: the first one's clock (else the default)."""
    name = db.session.scalar(
        select(Market.timezone).where(Market.organization_id == org.id).order_by(Market.id)
    )
    return ZoneInfo(name or default)


def parse_actor(text: str | None) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise InvalidInput(_l("Choose who from the list."), code="invalid_actor", field="actor")
    return int(text)


def parse_word(text: str | None, field: str) -> str | None:
    """An action or object type: short, printable, as stored."""
    if not text:
        return None
    if len(text) > 60 or not text.isprintable():
        raise InvalidInput(_l("Choose a value from the list."), code="invalid_filter", field=field)
    return text


def _query(org: Organization, f: AuditFilter, zone: ZoneInfo):
    start = datetime.combine(f.span.first, time(0), zone)
    end = datetime.combine(f.span.last + timedelta(days=1), time(0), zone)
    q = (
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.organization_id == org.id, AuditEvent.at >= start, AuditEvent.at < end)
    )
    if f.action:
        q = q.where(AuditEvent.action == f.action)
    if f.object_type:
        q = q.where(AuditEvent.object_type == f.object_type)
    if f.actor_id is not None:
        q = q.where(AuditEvent.actor_id == f.actor_id)
    return q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def page(org: Organization, f: AuditFilter, zone: ZoneInfo, number: int, per_page=PER_PAGE):
    """(events with the actor's name, total count) of one page, newest first."""
    q = _query(org, f, zone)
    total = db.session.scalar(select(func.count()).select_from(q.order_by(None).subquery()))
    items = db.session.execute(q.limit(per_page).offset((number - 1) * per_page)).all()
    return items, total


def choices(org: Organization) -> dict:
    """What the filters offer: the actions, object types and people in this trail."""

    def distinct(column):
        return db.session.scalars(
            select(column).where(AuditEvent.organization_id == org.id).distinct().order_by(column)
        ).all()

    actors = db.session.execute(
        select(User.id, User.name)
        .where(
            User.id.in_(
                select(AuditEvent.actor_id).where(
                    AuditEvent.organization_id == org.id, AuditEvent.actor_id.is_not(None)
                )
            )
        )
        .order_by(User.name, User.id)
    ).all()
    return {
        "actions": distinct(AuditEvent.action),
        "object_types": distinct(AuditEvent.object_type),
        "actors": actors,
    }


def detail_text(event: AuditEvent, zone: ZoneInfo | None = None) -> str:
    """The details in words, money in yuan, times in `zone` (services.audit_labels)."""
    return audit_labels.detail_text(event.action, event.detail, zone)


def object_text(event: AuditEvent) -> str:
    label = audit_labels.object_label(event.object_type)
    return f"{label} #{event.object_id}" if event.object_id is not None else label


def _rows(org: Organization, f: AuditFilter, zone: ZoneInfo) -> Iterator[dict]:
    # `with`: a download stopped early still closes the server-side cursor.
    with db.session.execute(_query(org, f, zone).execution_options(yield_per=500)) as result:
        yield from _audit_rows(result, zone)


def _audit_rows(result, zone: ZoneInfo) -> Iterator[dict]:
    for event, name in result:
        yield {
            "at": event.at.astimezone(zone),
            "actor": name or str(_l("the system")),
            "action": audit_labels.action_label(event.action),
            "object": object_text(event),
            "ip": event.ip or "",
            "detail": detail_text(event, zone),
            "action_code": event.action,
            "object_type": event.object_type,
        }


def table(org: Organization, f: AuditFilter, zone: ZoneInfo) -> Table:
    return Table(
        _l("Audit log"),
        [
            Column("at", _l("Time"), "datetime"),
            Column("actor", _l("Who"), "text"),
            Column("action", _l("What"), "text"),
            Column("object", _l("Object"), "text"),
            Column("ip", _l("IP address"), "text"),
            Column("detail", _l("Details"), "text"),
            Column("action_code", _l("Action code"), "text"),
            Column("object_type", _l("Object type code"), "text"),
        ],
        _rows(org, f, zone),
    )
