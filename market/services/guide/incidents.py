"""Incidents: what guides log at a stall and what complaints become. The one writer of them."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import INCIDENT_KINDS, Incident, IncidentState, Market, Stall, User
from ..checkin import checkins as checkin
from ..common import audit
from ..common.errors import Conflict, InvalidInput, NotFound
from ..common.uploads import save_image, uploads_dir
from ..sessions import tide as sessions

# What a guide can log on the street; complaints use the rest of INCIDENT_KINDS.
GUIDE_KINDS = ("road", "hygiene", "noise", "smoke", "dispute", "other")
NOTE_MAX = 500
RESOLUTION_MAX = 500

KIND_LABELS = {
    "road": _l("Trading on the road"),
    "hygiene": _l("Hygiene"),
    "noise": _l("Noise"),
    "smoke": _l("Oil smoke"),
    "dispute": _l("Dispute"),
    "short_weight": _l("Short weight"),
    "price": _l("Price"),
    "rude": _l("Rude behaviour"),
    "litter": _l("Litter"),
    "after_hours": _l("Trading after hours"),
    "other": _l("Other"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def incident_photos_dir():
    return uploads_dir() / "incidents"


def _clean_note(text: str | None, limit: int, field: str, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise InvalidInput(_l("Please say what happened."), code="note_required", field=field)
    if len(text) > limit:
        raise InvalidInput(
            _l("At most %(n)d characters, please.", n=limit), code="too_long", field=field
        )
    return text


def open_incident(
    market: Market,
    kind: str,
    note: str | None,
    now: datetime,
    *,
    stall: Stall | None = None,
    photo=None,
    actor: User | None = None,
    source: str = "guide",
    kinds=INCIDENT_KINDS,
    ip: str | None = None,
) -> Incident:
    """Log an incident at a stall (or the market); it flags the stall on the board until resolved.

    The caller commits. `photo` is a file-like object or None."""
    if kind not in kinds:
        raise InvalidInput(_l("Choose what kind of problem it is."), code="bad_kind", field="kind")
    if stall is not None and stall.market_id != market.id:
        raise NotFound()
    text = _clean_note(note, NOTE_MAX, "note", required=kind == "other")
    session = sessions.current_session(market.id, now)
    active = checkin.active_checkin(session, stall=stall) if session and stall else None
    incident = Incident(
        market_id=market.id,
        stall_id=stall.id if stall else None,
        session_id=session.id if session else None,
        checkin_id=active.id if active else None,
        kind=kind,
        source=source,
        note=text,
        reported_by_id=actor.id if actor is not None and actor.is_authenticated else None,
        created_at=now,
    )
    if photo is not None:
        incident.photo = save_image(photo, incident_photos_dir(), field="photo")
    db.session.add(incident)
    audit.record(
        "incident.opened",
        incident,
        actor=actor,
        organization_id=market.organization_id,
        ip=ip,
        kind=kind,
        stall=stall.code if stall else None,
    )
    return incident


def resolve(
    incident: Incident, resolution: str, now: datetime, *, actor: User, ip: str | None = None
) -> Incident:
    """Record what was done. Resolving twice is refused, so a double tap changes nothing."""
    if incident.state == IncidentState.RESOLVED:
        raise Conflict(_l("This incident was already resolved."), code="already_resolved")
    incident.resolution = _clean_note(resolution, RESOLUTION_MAX, "resolution", required=True)
    incident.state = IncidentState.RESOLVED
    incident.resolved_by_id = actor.id
    incident.resolved_at = now
    market = db.session.get(Market, incident.market_id)
    audit.record(
        "incident.resolved",
        incident,
        actor=actor,
        organization_id=market.organization_id,
        ip=ip,
    )
    return incident


def open_incidents(market_id: int) -> list[Incident]:
    return db.session.scalars(
        select(Incident)
        .where(Incident.market_id == market_id, Incident.state == IncidentState.OPEN)
        .order_by(Incident.created_at.desc(), Incident.id.desc())
    ).all()


def flagged_stall_ids(market_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(Incident.stall_id).where(
                Incident.market_id == market_id,
                Incident.state == IncidentState.OPEN,
                Incident.stall_id.is_not(None),
            )
        )
    )


def earlier_incidents_of_stall(stall_id: int, limit: int = 10) -> list[Incident]:
    """The stall's last incidents already dealt with (the open ones are listed apart)."""
    return db.session.scalars(
        select(Incident)
        .where(Incident.stall_id == stall_id, Incident.state != IncidentState.OPEN)
        .order_by(Incident.created_at.desc(), Incident.id.desc())
        .limit(limit)
    ).all()
