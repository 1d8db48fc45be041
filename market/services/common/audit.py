"""Recording audit events: the one place that writes them."""

import json

from sqlalchemy import insert

from ...extensions import db
from ...models import AuditEvent, User
from ...models.types import utcnow


def record(
    action: str,
    obj=None,
    *,
    actor: User | None = None,
    organization_id: int | None = None,
    ip: str | None = None,
    **detail,
) -> AuditEvent:
    """Add an audit event to the current transaction (it commits or rolls back with the change)."""
    if obj is not None and obj.id is None:
        db.session.flush()
    event = AuditEvent(
        action=action,
        object_type=type(obj).__tablename__ if obj is not None else "none",
        object_id=obj.id if obj is not None else None,
        actor_id=actor.id if actor is not None and actor.is_authenticated else None,
        organization_id=organization_id,
        ip=ip,
        detail=_detail(detail),
    )
    db.session.add(event)
    return event


def _detail(detail: dict) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


def row_of(
    action: str,
    object_type: str,
    *,
    actor_id: int | None,
    organization_id: int | None,
    ip: str | None = None,
    **detail,
) -> dict:
    """`record` for a row written without the ORM: an event's columns but its object_id,
    for an INSERT (`INSERT`) that fills that in itself (the check-in's, see checkin.rows)."""
    return {
        "action": action,
        "object_type": object_type,
        "actor_id": actor_id,
        "organization_id": organization_id,
        "ip": ip,
        "detail": _detail(detail),
        "at": utcnow(),
    }


INSERT = insert(AuditEvent.__table__)
