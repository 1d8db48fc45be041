"""Allocation rounds: a cadre announces one (stalls, period, fee, window, draw time, priority
groups and quota); its secret is drawn and sealed at once and only the commitment is shown."""

import calendar
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import (
    DrawRound,
    DrawStall,
    Market,
    MonthlyPass,
    Relief,
    Stall,
    StallStatus,
    User,
)
from ..common import audit
from ..common.errors import Conflict, InvalidInput, NotFound
from ..sessions.plan import local_today
from . import canonical, seal

MAX_STALLS = 200
MAX_AHEAD = timedelta(days=400)
DEFAULT_PRIORITY = ("low_income", "disability", "veteran")


@dataclass
class RoundInput:
    title: str
    stall_codes: list[str]  # in the round's order
    period_start: date  # any day of the first month
    months: int
    fee_fen: int
    opens_at: datetime
    closes_at: datetime
    draw_at: datetime
    priority_kinds: list[str] = field(default_factory=lambda: list(DEFAULT_PRIORITY))
    quota_percent: int = 0
    ranked: bool = False


def month_end(first: date, months: int) -> date:
    """The last day of the `months`-th month starting at `first`."""
    year, month = divmod(first.month - 1 + months - 1, 12)
    year += first.year
    month += 1
    return date(year, month, calendar.monthrange(year, month)[1])


def period_end(rnd: DrawRound) -> date:
    return month_end(rnd.period_start, rnd.months)


def month_starts(first: date, months: int) -> list[date]:
    out, day = [], first
    for _ in range(months):
        out.append(day)
        day = month_end(day, 1) + timedelta(days=1)
    return out


def _check(market: Market, data: RoundInput, now: datetime) -> list[Stall]:
    if not data.title.strip() or len(data.title.strip()) > 80:
        raise InvalidInput(_l("Give the round a title of 1 to 80 characters."), field="title")
    if not 1 <= data.months <= 12:
        raise InvalidInput(_l("A round runs 1 to 12 months."), field="months")
    if not 0 <= data.fee_fen <= 10_000_000:
        raise InvalidInput(_l("Enter a monthly fee from 0 to 100,000 yuan."), field="fee")
    if not 0 <= data.quota_percent <= 100:
        raise InvalidInput(_l("A percentage from 0 to 100."), field="quota_percent")
    if any(k not in Relief.KINDS for k in data.priority_kinds):
        raise InvalidInput(_l("Choose a fee relief from the list."), field="priority_kinds")
    if not data.opens_at < data.closes_at <= data.draw_at:
        raise InvalidInput(
            _l("The window must open before it closes, and the draw come after it closes."),
            code="times_out_of_order",
            field="closes_at",
        )
    if data.closes_at <= now:
        raise InvalidInput(
            _l("The application window must close in the future."), field="closes_at"
        )
    if data.draw_at > now + MAX_AHEAD:
        raise InvalidInput(_l("A draw can be set at most a year ahead."), field="draw_at")
    first = data.period_start.replace(day=1)
    if first < local_today(market, data.draw_at).replace(day=1):
        raise InvalidInput(
            _l("The period must start in the month of the draw or later."), field="period_start"
        )
    codes = [c.strip().upper() for c in data.stall_codes if c.strip()]
    if not codes or len(codes) > MAX_STALLS:
        raise InvalidInput(_l("Choose 1 to 200 stalls."), field="stalls")
    if len(set(codes)) != len(codes):
        raise InvalidInput(_l("A stall is listed twice."), field="stalls")
    found = {
        s.code: s
        for s in db.session.scalars(
            select(Stall).where(Stall.market_id == market.id, Stall.code.in_(codes))
        )
    }
    missing = [c for c in codes if c not in found or found[c].status != StallStatus.ACTIVE]
    if missing:
        raise InvalidInput(
            _l("Not an active stall of this market: %(codes)s", codes=", ".join(missing)),
            field="stalls",
        )
    stalls = [found[c] for c in codes]
    _check_free(market, stalls, first, month_end(first, data.months))
    return stalls


def _check_free(market: Market, stalls: list[Stall], first: date, last: date) -> None:
    """No stall may be held by a pass or promised by another round in the period."""
    ids = [s.id for s in stalls]
    held = db.session.scalars(
        select(Stall.code)
        .join(MonthlyPass, MonthlyPass.stall_id == Stall.id)
        .where(
            MonthlyPass.stall_id.in_(ids),
            MonthlyPass.status == "active",
            MonthlyPass.valid_from <= last,
            MonthlyPass.valid_until >= first,
        )
    ).all()
    rounds = db.session.scalars(
        select(DrawRound).join(DrawStall).where(DrawStall.stall_id.in_(ids))
    ).unique()
    for other in rounds:
        if other.period_start <= last and period_end(other) >= first:
            held += [ds.stall.code for ds in other.stalls if ds.stall_id in ids]
    if held:
        raise Conflict(
            _l(
                "These stalls are already held in that period (a monthly pass or another "
                "round): %(codes)s",
                codes=", ".join(sorted(set(held))),
            ),
            code="stalls_held",
            field="stalls",
        )


def create_round(market: Market, data: RoundInput, *, actor: User, now: datetime, ip=None):
    """Announce a round. The secret is drawn here, sealed, and never shown before the draw;
    its commitment is public from this moment, before anyone can apply."""
    stalls = _check(market, data, now)
    secret = secrets.token_bytes(32)
    rnd = DrawRound(
        market_id=market.id,
        title=data.title.strip(),
        period_start=data.period_start.replace(day=1),
        months=data.months,
        fee_fen=data.fee_fen,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        draw_at=data.draw_at,
        priority_kinds=",".join(k for k in Relief.KINDS if k in data.priority_kinds),
        quota_percent=data.quota_percent,
        ranked=data.ranked,
        commitment=canonical.commitment(secret),
        sealed_secret=seal.seal(secret, current_app.config["SECRET_KEY"]),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(rnd)
    db.session.flush()
    for position, stall in enumerate(stalls, 1):
        db.session.add(DrawStall(round_id=rnd.id, stall_id=stall.id, position=position))
    audit.record(
        "draw.created",
        rnd,
        actor=actor,
        organization_id=market.organization_id,
        ip=ip,
        stalls=len(stalls),
        period=str(rnd.period_start),
        months=rnd.months,
        commitment=rnd.commitment,
    )
    return rnd


def get_round(round_id: int) -> DrawRound:
    rnd = db.session.get(DrawRound, round_id)
    if rnd is None:
        raise NotFound(_l("There is no such draw."), code="draw_not_found")
    return rnd


def rounds_query(market: Market):
    return (
        select(DrawRound)
        .where(DrawRound.market_id == market.id)
        .order_by(DrawRound.draw_at.desc(), DrawRound.id.desc())
    )


def rounds_of(market: Market) -> list[DrawRound]:
    return list(db.session.scalars(rounds_query(market)))


def stall_codes(rnd: DrawRound) -> list[str]:
    return [ds.stall.code for ds in rnd.stalls]


def quota(rnd: DrawRound) -> int:
    """How many stalls the priority group may take first (rounded down)."""
    return len(rnd.stalls) * rnd.quota_percent // 100


def window_state(rnd: DrawRound, now: datetime) -> str:
    """'upcoming', 'open', 'closed' (waiting for the draw) or 'drawn'."""
    if rnd.state == "drawn":
        return "drawn"
    if now < rnd.opens_at:
        return "upcoming"
    return "open" if now < rnd.closes_at else "closed"
