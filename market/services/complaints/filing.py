"""Complaints from the public: each becomes an incident for the market's guides (flagging the
stall on their board), is answered when the incident is resolved, and is followed by its
random tracking code. Nothing here is shown publicly except the status and the response."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import (
    MARKET_COMPLAINT_KINDS,
    STALL_COMPLAINT_KINDS,
    CheckIn,
    Complaint,
    Incident,
    IncidentState,
    Market,
    Stall,
    User,
)
from ..auth import access
from ..common import idempotency
from ..common.errors import InvalidInput, NotFound
from ..guide import incidents
from . import codes
from . import guard as complaint_guard

TEXT_MAX = 1000
CODE_RE = re.compile(r"[A-Za-z0-9_-]{22,43}")
MAP_MAX = 10_000


class Status:
    RECEIVED = "received"
    HANDLED = "handled"


@dataclass
class Where:
    """Optionally where it is: a cell of the market map, or a position."""

    map_x: int | None = None
    map_y: int | None = None
    latitude: float | None = None
    longitude: float | None = None

    def check(self) -> "Where":
        if (self.map_x is None) != (self.map_y is None) or (self.latitude is None) != (
            self.longitude is None
        ):
            raise InvalidInput(_l("Give both coordinates or neither."), code="bad_location")
        if self.map_x is not None and not (
            0 <= self.map_x <= MAP_MAX and 0 <= self.map_y <= MAP_MAX
        ):
            raise InvalidInput(_l("This place is not on the map."), code="bad_location")
        if self.latitude is not None and not (
            -90 <= self.latitude <= 90 and -180 <= self.longitude <= 180
        ):
            raise InvalidInput(_l("This position is not valid."), code="bad_location")
        return self


def kinds_for(stall: Stall | None) -> tuple[str, ...]:
    return STALL_COMPLAINT_KINDS if stall is not None else MARKET_COMPLAINT_KINDS


def clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_l("Please write what happened."), code="text_required", field="text")
    if len(text) > TEXT_MAX:
        raise InvalidInput(
            _l("At most %(n)d characters, please.", n=TEXT_MAX), code="too_long", field="text"
        )
    return text


def _note(text: str) -> str:
    """The incident's note: the complaint, shortened to what the board holds."""
    limit = incidents.NOTE_MAX
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scoped_key(key: str | None, address_hash: str | None) -> str | None:
    """Idempotency keys are scoped to the sender's address: another sender's key finds nothing."""
    if key is None:
        return None
    key = idempotency.check_key(key)
    return hashlib.sha256(f"{address_hash or ''}:{key}".encode()).hexdigest()


def _replay(scoped_key: str | None, digest: str) -> Complaint | None:
    if scoped_key is None:
        return None
    found = db.session.scalar(select(Complaint).where(Complaint.idempotency_key == scoped_key))
    if found is not None and found.request_hash != digest:
        raise InvalidInput(
            _l("This Idempotency-Key was used for a different request."),
            code="idempotency_key_reused",
        )
    return found


def file_complaint(
    market: Market,
    kind: str,
    text: str | None,
    now: datetime,
    *,
    stall: Stall | None = None,
    photo=None,
    where: Where | None = None,
    ip: str | None = None,
    challenge_token: str | None = None,
    challenge_answer=None,
    idempotency_key: str | None = None,
) -> tuple[Complaint, bool]:
    """File a complaint and open its incident. Returns (complaint, created); a retry with the
    same key and content returns the first complaint. Everything is checked before anything
    is written; the caller commits."""
    where = (where or Where()).check()
    if stall is not None and stall.market_id != market.id:
        raise NotFound()
    if kind not in kinds_for(stall):
        raise InvalidInput(_l("Choose what kind of problem it is."), code="bad_kind", field="kind")
    text = clean_text(text)
    address = complaint_guard.ip_hash(ip)
    scoped = _scoped_key(idempotency_key, address)
    digest = idempotency.request_hash(
        {"m": market.id, "s": stall.id if stall else None, "k": kind, "t": text, "w": vars(where)}
    )
    if (first := _replay(scoped, digest)) is not None:
        return first, False
    complaint_guard.check_challenge(address, challenge_token, challenge_answer, now)
    incident = incidents.open_incident(
        market,
        kind,
        _note(text),
        now,
        stall=stall,
        photo=photo,
        source="complaint",
        kinds=kinds_for(stall),
    )
    db.session.flush()
    vendor_id = (
        db.session.get(CheckIn, incident.checkin_id).vendor_id if incident.checkin_id else None
    )
    complaint = Complaint(
        tracking_code=secrets.token_urlsafe(16),
        short_code=_free_short_code(),
        market_id=market.id,
        stall_id=stall.id if stall else None,
        vendor_id=vendor_id,
        incident_id=incident.id,
        kind=kind,
        text=text,
        photo=incident.photo,
        map_x=where.map_x,
        map_y=where.map_y,
        latitude=where.latitude,
        longitude=where.longitude,
        ip_hash=address,
        idempotency_key=scoped,
        request_hash=digest if scoped else None,
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(complaint)
            db.session.flush()
    except IntegrityError:
        # The same retried request raced this one and won: its complaint is the answer.
        db.session.rollback()
        if (first := _replay(scoped, digest)) is not None:
            return first, False
        raise
    return complaint, True


def _free_short_code() -> str:
    while True:  # 2^35 codes: a second try is already a once-in-years event
        code = codes.new_code()
        if db.session.scalar(select(Complaint.id).where(Complaint.short_code == code)) is None:
            return code


def status_of(complaint: Complaint) -> str:
    return Status.HANDLED if complaint.incident.state == IncidentState.RESOLVED else Status.RECEIVED


def by_tracking_code(code: str) -> Complaint:
    """The complaint behind a tracking link or its short code (typed as people type it: lower
    case, spaces, O for 0); a malformed or unknown code is the same 404."""
    complaint = None
    if CODE_RE.fullmatch(code or ""):
        complaint = db.session.scalar(select(Complaint).where(Complaint.tracking_code == code))
    elif short := codes.normalize(code):
        complaint = db.session.scalar(select(Complaint).where(Complaint.short_code == short))
    if complaint is None:
        raise NotFound(
            _l("No complaint has this tracking code. Please check the link you were given."),
            code="unknown_tracking_code",
        )
    return complaint


# --- the guides' and cadres' side -------------------------------------------------------------


def complaint_for_staff(user: User, complaint_id: int) -> Complaint:
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound()
    access.incident_for_guide(user, complaint.incident_id)  # 404 outside the user's markets
    return complaint


def complaints_query(market_id: int, state: str | None = None):
    query = (
        select(Complaint)
        .join(Incident, Complaint.incident_id == Incident.id)
        .where(Complaint.market_id == market_id)
    )
    if state is not None:
        query = query.where(Incident.state == state)
    # Open ones first, oldest first (the longest waiting); then the handled ones, newest first.
    return query.order_by(
        (Incident.state == IncidentState.RESOLVED).asc(),
        Incident.resolved_at.desc(),
        Complaint.created_at.asc(),
        Complaint.id.asc(),
    )


def stalls_by_cell(market_id: int) -> dict[tuple[int, int], str]:
    """(map x, map y) → the code of the stall covering that cell: a complaint placed "near
    stall A-01" is stored as A-01's cell, and staff read it back as that stall."""
    rows = db.session.execute(
        select(Stall.code, Stall.grid_row, Stall.grid_col, Stall.grid_w, Stall.grid_h).where(
            Stall.market_id == market_id
        )
    )
    return {
        (col + dx, row + dy): code
        for code, row, col, w, h in rows
        for dx in range(w or 1)
        for dy in range(h or 1)
    }


def complaints_of_market(market_id: int, state: str | None = None, limit: int = 200):
    return db.session.scalars(complaints_query(market_id, state).limit(limit)).all()


def respond(
    complaint: Complaint, response: str, now: datetime, *, actor: User, ip: str | None = None
) -> Complaint:
    """Record what was done: it resolves the incident and is what the complainant reads."""
    incidents.resolve(complaint.incident, response, now, actor=actor, ip=ip)
    return complaint
