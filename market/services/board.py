"""The guide's board: every stall's state in the current session, counts, and a version.

The version is a hash of exactly what the board shows, so a poll that finds it unchanged costs
a 204 (pages) or 304 (API) and a few bytes, whichever change made it move."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Charge,
    CheckIn,
    CheckInState,
    Market,
    MarketSession,
    PaymentStatus,
    Stall,
    StallStatus,
    Vendor,
    Zone,
)
from . import checkin, incidents, payments, sessions, takings


class StallState:
    FREE = "free"
    PAID = "paid"
    UNPAID = "unpaid"
    RESERVED = "reserved"
    DISABLED = "disabled"
    ALL = (FREE, PAID, UNPAID, RESERVED, DISABLED)


TO_CONFIRM_LABEL = _l("To confirm")
STATE_LABELS = {
    StallState.FREE: _l("Free"),
    StallState.PAID: _l("Occupied, paid"),
    StallState.UNPAID: _l("Occupied, unpaid"),
    StallState.RESERVED: _l("Reserved"),
    StallState.DISABLED: _l("Disabled"),
}
FLAGGED_LABEL = _l("Flagged")
# The order a guide walks to: money first, then what needs a look, then the rest.
STATE_ORDER = {
    StallState.UNPAID: 0,
    StallState.PAID: 1,
    StallState.RESERVED: 2,
    StallState.FREE: 3,
    StallState.DISABLED: 4,
}


@dataclass(frozen=True)
class StallRow:
    stall: Stall
    zone: Zone
    state: str
    flagged: bool = False
    checkin: CheckIn | None = None
    vendor: Vendor | None = None
    amount_fen: int = 0
    paid_fen: int = 0
    unpaid_fen: int = 0
    pending_fen: int = 0
    incidents: int = 0
    outside_geofence: bool = False

    def as_dict(self) -> dict:
        return {
            "stall_id": self.stall.id,
            "code": self.stall.code,
            "zone": self.zone.code,
            "state": self.state,
            "flagged": self.flagged,
            "checkin_id": self.checkin.id if self.checkin else None,
            "vendor_id": self.vendor.id if self.vendor else None,
            "amount_fen": self.amount_fen,
            "paid_fen": self.paid_fen,
            "unpaid_fen": self.unpaid_fen,
            "pending_fen": self.pending_fen,
            "open_incidents": self.incidents,
            "outside_geofence": self.outside_geofence,
        }


@dataclass(frozen=True)
class Counts:
    stalls: int = 0
    usable: int = 0
    occupied: int = 0
    vendors_on_site: int = 0
    expected_fen: int = 0
    paid_fen: int = 0
    unpaid_fen: int = 0
    pending_fen: int = 0
    flagged: int = 0


@dataclass(frozen=True)
class Board:
    market: Market
    session: MarketSession | None
    status: sessions.MarketStatus
    rows: list[StallRow]
    counts: Counts
    version: str
    by_stall: dict[int, StallRow] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "market_id": self.market.id,
            "session_id": self.session.id if self.session else None,
            "version": self.version,
            "counts": self.counts.__dict__,
            "stalls": [r.as_dict() for r in self.rows],
        }


def _session_charges(session: MarketSession) -> dict[int, Charge]:
    """Charges of the session by check-in id, with their payments (one query each)."""
    charges = db.session.scalars(
        select(Charge)
        .join(CheckIn, Charge.checkin_id == CheckIn.id)
        .where(CheckIn.session_id == session.id)
        .options(selectinload(Charge.payments))
    ).all()
    return {c.checkin_id: c for c in charges}


def _active(session: MarketSession) -> dict[int, CheckIn]:
    rows = db.session.scalars(
        select(CheckIn)
        .where(CheckIn.session_id == session.id, CheckIn.state == CheckInState.ACTIVE)
        .options(selectinload(CheckIn.vendor).selectinload(Vendor.user))
    ).all()
    return {ci.stall_id: ci for ci in rows}


def _open_incident_counts(market_id: int) -> dict[int, int]:
    counts: dict[int, int] = {}
    for incident in incidents.open_incidents(market_id):
        if incident.stall_id is not None:
            counts[incident.stall_id] = counts.get(incident.stall_id, 0) + 1
    return counts


def _row(stall, zone, active, charges, held, flags) -> StallRow:
    if stall.status == StallStatus.DISABLED:
        return StallRow(
            stall,
            zone,
            StallState.DISABLED,
            flagged=stall.id in flags,
            incidents=flags.get(stall.id, 0),
        )
    ci = active.get(stall.id)
    if ci is None:
        state = StallState.RESERVED if stall.id in held else StallState.FREE
        return StallRow(
            stall, zone, state, flagged=stall.id in flags, incidents=flags.get(stall.id, 0)
        )
    charge = charges.get(ci.id)
    amount = charge.amount_fen if charge else 0
    paid = payments.paid_fen(charge) if charge else 0
    with_pending = payments.paid_fen(charge, include_pending=True) if charge else 0
    unpaid = max(amount - paid, 0)
    return StallRow(
        stall,
        zone,
        StallState.UNPAID if unpaid > 0 else StallState.PAID,
        flagged=stall.id in flags or ci.outside_geofence,
        checkin=ci,
        vendor=ci.vendor,
        amount_fen=amount,
        paid_fen=paid,
        unpaid_fen=unpaid,
        pending_fen=max(with_pending - paid, 0),
        incidents=flags.get(stall.id, 0),
        outside_geofence=ci.outside_geofence,
    )


def _version(session: MarketSession | None, status, rows: list[StallRow], counts: Counts) -> str:
    canonical = json.dumps(
        {
            "session": session.id if session else None,
            "session_state": session.state if session else None,
            "upcoming": status.upcoming.id if status.upcoming else None,
            "cancelled": status.cancelled.id if status.cancelled else None,
            "counts": counts.__dict__,
            "rows": [r.as_dict() for r in rows],
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def build(market: Market, now: datetime) -> Board:
    """The board for the session open now (or the one about to open), in a handful of queries."""
    status = sessions.market_status(market, now)
    session = status.current
    stalls = db.session.scalars(
        select(Stall).where(Stall.market_id == market.id).order_by(Stall.code)
    ).all()
    zones = {z.id: z for z in market.zones}
    active = _active(session) if session else {}
    charges = _session_charges(session) if session else {}
    held = checkin.held_stall_ids(session, now) if session else set()
    flags = _open_incident_counts(market.id)
    rows = [_row(s, zones[s.zone_id], active, charges, held, flags) for s in stalls]
    summary = takings.summarise(session, charges.values()) if session else None
    counts = Counts(
        stalls=len(rows),
        usable=sum(r.state != StallState.DISABLED for r in rows),
        occupied=len(active),
        vendors_on_site=len({ci.vendor_id for ci in active.values()}),
        expected_fen=summary.expected_fen if summary else 0,
        paid_fen=summary.collected_total_fen + summary.waived_fen if summary else 0,
        unpaid_fen=summary.unpaid_fen if summary else 0,
        pending_fen=summary.pending_fen if summary else 0,
        flagged=sum(r.flagged for r in rows),
    )
    return Board(
        market=market,
        session=session,
        status=status,
        rows=rows,
        counts=counts,
        version=_version(session, status, rows, counts),
        by_stall={r.stall.id: r for r in rows},
    )


SORTS = {
    "state": lambda r: (STATE_ORDER[r.state], not r.flagged, r.stall.code),
    "zone": lambda r: (r.zone.code, r.stall.code),
}


def sorted_rows(board: Board, sort: str) -> list[StallRow]:
    return sorted(board.rows, key=SORTS.get(sort, SORTS["state"]))


def stall_states(board: Board) -> dict[int, str]:
    """CSS classes per stall for the map."""
    return {r.stall.id: f"st-{r.state}" + (" st-flagged" if r.flagged else "") for r in board.rows}


def pending_payments(row: StallRow):
    """Collection-code reports waiting for staff (a voided report waits no longer)."""
    if row.checkin is None or row.checkin.charge is None:
        return []
    voided = {p.reverses_id for p in row.checkin.charge.payments if p.reverses_id is not None}
    return [
        p
        for p in row.checkin.charge.payments
        if p.status == PaymentStatus.PENDING and p.reverses_id is None and p.id not in voided
    ]


def awaiting_confirmation(row: StallRow) -> bool:
    """Unpaid, but the vendor reported paying all of it by collection code: staff check the
    statement instead of asking for cash again."""
    return row.state == StallState.UNPAID and row.pending_fen >= row.unpaid_fen


def state_label(row: StallRow):
    """The stall's state in words, as the map and the panel both say it."""
    return TO_CONFIRM_LABEL if awaiting_confirmation(row) else STATE_LABELS[row.state]
