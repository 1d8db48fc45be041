"""The guide's board: every stall's state in the current session, counts, and a version.

Built from rows, not ORM objects: a 3,000-stall evening is some 12,000 records, and loading
them as objects made the garbage collector walk every long-lived object of the process again
and again (super-linear: 8 ms at 40 stalls, 509 ms at 3,000). A stall's panel, which acts on
one check-in, loads that one as a record (`with_records`).

The version comes from services.guide.changes: a poll that finds it unchanged costs one
indexed read and no board at all (204 for pages, 304 for the API)."""

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    Charge,
    CheckIn,
    CheckInState,
    Incident,
    IncidentState,
    Market,
    MarketSession,
    Payment,
    PaymentStatus,
    Stall,
    StallStatus,
    User,
    Vendor,
    Zone,
)
from ..checkin import checkins as checkin
from ..checkin import payments
from ..sessions import takings
from ..sessions import tide as sessions
from . import changes


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


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is twice as slow
class StallRow:
    """One stall. `stall` and `checkin` are rows (their columns as attributes); on a row
    `with_records`, `checkin` is the CheckIn record and `vendor` the Vendor."""

    stall: Any
    zone: Zone
    state: str
    flagged: bool = False
    checkin: Any = None
    vendor: Vendor | None = None
    vendor_name: str = ""
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
            "vendor_id": self.checkin.vendor_id if self.checkin else None,
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


STALL_COLUMNS = (
    Stall.id,
    Stall.code,
    Stall.zone_id,
    Stall.status,
    Stall.disabled_reason,
    Stall.grid_row,
    Stall.grid_col,
    Stall.grid_w,
    Stall.grid_h,
)


@dataclass(slots=True)
class ChargeRow:
    """What the money rules read of a charge (payments.paid_fen, takings.summarise)."""

    id: int
    checkin_id: int
    amount_fen: int
    relief_fen: int
    payments: list = field(default_factory=list)


def _rows(statement):
    """Rows straight from the connection: the ORM's result machinery costs more than the
    query for a few thousand plain rows."""
    return db.session.connection().execute(statement)


def _stalls(market_id: int) -> list:
    return _rows(
        select(*STALL_COLUMNS).where(Stall.market_id == market_id).order_by(Stall.code)
    ).all()


def _active(session_id: int) -> dict[int, Any]:
    """Active check-ins by stall id, with the vendor's name."""
    rows = _rows(
        select(
            CheckIn.id,
            CheckIn.stall_id,
            CheckIn.vendor_id,
            CheckIn.outside_geofence,
            User.name.label("vendor_name"),
        )
        .join(Vendor, Vendor.id == CheckIn.vendor_id)
        .join(User, User.id == Vendor.user_id)
        .where(CheckIn.session_id == session_id, CheckIn.state == CheckInState.ACTIVE)
    )
    return {r.stall_id: r for r in rows}


def _session_charges(session: MarketSession) -> dict[int, ChargeRow]:
    """Every charge of the session (those who left too: the counts are the evening's), by
    check-in id, with its payments in id order: two queries."""
    of_session = (
        CheckIn.market_id == session.market_id,  # the (market_id, session_id) index
        CheckIn.session_id == session.id,
    )
    charges = {
        r.id: ChargeRow(r.id, r.checkin_id, r.amount_fen, r.relief_fen)
        for r in _rows(
            select(Charge.id, Charge.checkin_id, Charge.amount_fen, Charge.relief_fen)
            .join(CheckIn, CheckIn.id == Charge.checkin_id)
            .where(*of_session)
        )
    }
    for p in _rows(
        select(
            Payment.charge_id,
            Payment.method,
            Payment.status,
            Payment.amount_fen,
            Payment.reverses_id,
        )
        .join(Charge, Charge.id == Payment.charge_id)
        .join(CheckIn, CheckIn.id == Charge.checkin_id)
        .where(*of_session)
        .order_by(Payment.id)
    ):
        charges[p.charge_id].payments.append(p)
    return {c.checkin_id: c for c in charges.values()}


def _open_incident_counts(market_id: int) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(Incident.stall_id, func.count())
            .where(
                Incident.market_id == market_id,
                Incident.state == IncidentState.OPEN,
                Incident.stall_id.is_not(None),
            )
            .group_by(Incident.stall_id)
        ).all()
    )


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
    waiting = charge and any(p.status == PaymentStatus.PENDING for p in charge.payments)
    with_pending = payments.paid_fen(charge, include_pending=True) if waiting else paid
    unpaid = max(amount - paid, 0)
    return StallRow(
        stall,
        zone,
        StallState.UNPAID if unpaid > 0 else StallState.PAID,
        flagged=stall.id in flags or ci.outside_geofence,
        checkin=ci,
        vendor_name=ci.vendor_name,
        amount_fen=amount,
        paid_fen=paid,
        unpaid_fen=unpaid,
        pending_fen=max(with_pending - paid, 0),
        incidents=flags.get(stall.id, 0),
        outside_geofence=ci.outside_geofence,
    )


def _next_change(status: sessions.MarketStatus, now: datetime) -> datetime:
    """When the clock alone changes what the board shows: the session ends, the reserved
    stalls are released, the next session begins, a cancelled one passes, a new local day."""
    tomorrow = status.local(now).date() + timedelta(days=1)
    moments = [datetime.combine(tomorrow, time(0), tzinfo=status.zone)]
    if status.current is not None:
        moments.append(status.current.ends_at)
        cutoff = status.current.cutoff_at
        if cutoff is not None and cutoff > now:
            moments.append(cutoff)
    if status.upcoming is not None:
        moments.append(status.upcoming.starts_at)
    if status.cancelled is not None:
        moments.append(status.cancelled.ends_at)
    return min(moments)


def build(market: Market, now: datetime) -> Board:
    """The board for the session open now (or the one about to open), in a handful of queries
    returning rows."""
    since, count = changes.read(market.organization_id, now)
    status = sessions.market_status(market, now)
    session = status.current
    zones = {z.id: z for z in market.zones}
    active = _active(session.id) if session else {}
    charges = _session_charges(session) if session else {}
    held = checkin.held_stall_ids(session, now) if session else set()
    flags = _open_incident_counts(market.id)
    rows = [_row(s, zones[s.zone_id], active, charges, held, flags) for s in _stalls(market.id)]
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
        version=changes.version(market.id, since, count, _next_change(status, now), now),
        by_stall={r.stall.id: r for r in rows},
    )


def unchanged(market: Market, sent: str | None, now: datetime) -> bool:
    """Whether a board of version `sent` is still what `build` would show (one read)."""
    return changes.unchanged(market.id, market.organization_id, sent, now)


def with_records(row: StallRow) -> StallRow:
    """The row with its check-in (charge and payments, vendor and user loaded) as records,
    for the stall's panel and what a guide does there."""
    if row.checkin is None:
        return row
    ci = db.session.scalar(
        select(CheckIn)
        .where(CheckIn.id == row.checkin.id)
        .options(
            selectinload(CheckIn.vendor).selectinload(Vendor.user),
            selectinload(CheckIn.charge).selectinload(Charge.payments),
        )
    )
    return replace(row, checkin=ci, vendor=ci.vendor)


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
    """Collection-code reports waiting for staff (a voided report waits no longer); `row`
    with its records."""
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
