"""Freezing the list, the draw itself, winners' passes, and a stall going down the list.

Each step happens once: a frozen list is never rebuilt, a drawn round is never drawn again
(the state and the database's CHECKs hold that), and the scheduler's job catches up after
downtime in order (freeze, then draw)."""

from datetime import date, datetime
from types import SimpleNamespace

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import (
    ApplicationState,
    DrawApplication,
    DrawRound,
    DrawState,
    MonthlyPass,
    User,
)
from ..checkin.stall_card import mask_name
from ..common import audit, ticks
from ..common.errors import Conflict, NotFound
from ..fees import rules as fees
from ..sessions.plan import local_today
from . import canonical, rounds, seal


def _locked(round_id: int) -> DrawRound:
    return db.session.scalar(select(DrawRound).where(DrawRound.id == round_id).with_for_update())


def group_of(rnd: DrawRound, app: DrawApplication) -> str:
    kinds = set(filter(None, rnd.priority_kinds.split(",")))
    v = app.vendor
    if rnd.quota_percent and v.relief_status == "confirmed" and v.relief_kind in kinds:
        return canonical.PRIORITY
    return canonical.GENERAL


def list_text(rnd: DrawRound) -> str:
    """The canonical applicant list (docs/draws.md): active applications by number."""
    apps = [a for a in rnd.applications if a.state == ApplicationState.APPLIED]
    return canonical.canonical(
        {
            "applicants": [
                {
                    "group": group_of(rnd, a),
                    "name": mask_name(a.vendor.user.name),
                    "number": a.number,
                    "preferences": [c for c in a.preferences.split(",") if c],
                }
                for a in sorted(apps, key=lambda a: a.number)
            ],
            "format": canonical.FORMAT,
            "market": rnd.market.slug,
            "quota": rounds.quota(rnd),
            "ranked": rnd.ranked,
            "round": rnd.id,
            "stalls": rounds.stall_codes(rnd),
        }
    )


def freeze(round_id: int, now: datetime) -> bool:
    """After the window: fix and publish the list with its hash. False when not due / done."""
    rnd = _locked(round_id)
    if rnd.state != DrawState.ANNOUNCED or now < rnd.closes_at:
        return False
    rnd.frozen_list = list_text(rnd)
    rnd.list_hash = canonical.list_hash(rnd.frozen_list)
    rnd.state, rnd.frozen_at = DrawState.FROZEN, now
    audit.record(
        "draw.frozen",
        rnd,
        organization_id=rnd.market.organization_id,
        list_hash=rnd.list_hash,
        applicants=sum(a.state == ApplicationState.APPLIED for a in rnd.applications),
    )
    return True


def draw(round_id: int, now: datetime) -> bool:
    """At the draw time: reveal the secret, compute the result, make the winners' passes.
    Only the scheduler calls this; there is no way to run it twice."""
    rnd = _locked(round_id)
    if rnd.state != DrawState.FROZEN or now < rnd.draw_at:
        return False
    secret = seal.unseal(rnd.sealed_secret, current_app.config["SECRET_KEY"])
    if canonical.commitment(secret) != rnd.commitment:
        raise seal.SealBroken("the unsealed secret does not match the commitment")
    rnd.result = canonical.compute(secret, rnd.frozen_list)
    rnd.revealed_secret = secret.hex()
    rnd.state, rnd.drawn_at = DrawState.DRAWN, now
    _apply_result(rnd, now)
    audit.record(
        "draw.drawn",
        rnd,
        organization_id=rnd.market.organization_id,
        seed=canonical.json.loads(rnd.result)["seed"],
    )
    return True


def _apply_result(rnd: DrawRound, now: datetime) -> None:
    result = canonical.json.loads(rnd.result)
    by_number = {a.number: a for a in rnd.applications if a.state == ApplicationState.APPLIED}
    stalls = {ds.stall.code: ds.stall for ds in rnd.stalls}
    position = {n: i for i, n in enumerate(result["order"], 1)}
    for item in result["assignments"]:
        app = by_number[item["number"]]
        app.state, app.position = ApplicationState.WON, position[app.number]
        app.stall = stalls[item["stall"]]
        make_passes(rnd, app, rnd.period_start, now)
    for number in result["waiting"]:
        app = by_number[number]
        app.state, app.position = ApplicationState.WAITING, position[number]


def pass_amount(rnd: DrawRound, app: DrawApplication, at: datetime) -> int:
    """The round's monthly price with the vendor's relief, as a daily fee would have it."""
    when = SimpleNamespace(market_id=rnd.market_id, starts_at=at)
    percent = fees.relief_percent(app.vendor, when)
    return fees.compute(rnd.fee_fen, 0, False, percent, False).amount_fen


def make_passes(rnd: DrawRound, app: DrawApplication, from_month: date, now: datetime) -> None:
    """A monthly pass for each month of the period from `from_month` on: the stall reserved
    until each session's cutoff, no daily fee, exactly what a pass sold by a cadre gives."""
    amount = pass_amount(rnd, app, now)
    for first in rounds.month_starts(rnd.period_start, rnd.months):
        if first < from_month:
            continue
        held = MonthlyPass(
            market_id=rnd.market_id,
            stall_id=app.stall.id,
            vendor_id=app.vendor_id,
            valid_from=first,
            valid_until=rounds.month_end(first, 1),
            amount_fen=amount,
        )
        db.session.add(held)
        db.session.flush()
        audit.record(
            "monthly_pass.created",
            held,
            organization_id=rnd.market.organization_id,
            month=str(first),
            amount_fen=amount,
            round_id=rnd.id,
        )


def _cancel_passes(rnd: DrawRound, app: DrawApplication, from_month: date) -> None:
    for held in db.session.scalars(
        select(MonthlyPass).where(
            MonthlyPass.stall_id == app.stall_id,
            MonthlyPass.vendor_id == app.vendor_id,
            MonthlyPass.status == "active",
            MonthlyPass.valid_from >= from_month,
            MonthlyPass.valid_until <= rounds.period_end(rnd),
        )
    ):
        held.status = "cancelled"


def give_up(
    app: DrawApplication, *, actor: User, forfeit: bool, now: datetime, reason=None, ip=None
):
    """A winner declines (the vendor) or forfeits (a cadre decides): the passes from this
    month on are cancelled and the stall goes to the first on the waiting list, audited.
    -> the application that took the stall, or None when the list is empty."""
    rnd = _locked(app.round_id)
    if app.state != ApplicationState.WON:
        raise Conflict(_l("Only a stall won in the draw can be given up."), code="not_won")
    this_month = local_today(rnd.market, now).replace(day=1)
    if this_month > rounds.period_end(rnd):
        raise Conflict(_l("This round's period is over."), code="period_over")
    from_month = max(this_month, rnd.period_start)
    _cancel_passes(rnd, app, from_month)
    stall = app.stall
    app.state = ApplicationState.FORFEITED if forfeit else ApplicationState.DECLINED
    app.updated_at = now
    org = rnd.market.organization_id
    audit.record(
        "draw.forfeited" if forfeit else "draw.declined",
        app,
        actor=actor,
        organization_id=org,
        ip=ip,
        round_id=rnd.id,
        number=app.number,
        stall=app.stall.code,
        reason=reason,
    )
    nxt = db.session.scalar(
        select(DrawApplication)
        .where(
            DrawApplication.round_id == rnd.id,
            DrawApplication.state == ApplicationState.WAITING,
        )
        .order_by(DrawApplication.position)
        .limit(1)
    )
    if nxt is None:
        return None
    nxt.state, nxt.stall, nxt.updated_at = ApplicationState.WON, stall, now
    db.session.flush()
    make_passes(rnd, nxt, from_month, now)
    audit.record(
        "draw.reassigned",
        nxt,
        actor=actor,
        organization_id=org,
        ip=ip,
        round_id=rnd.id,
        number=nxt.number,
        stall=nxt.stall.code,
        after=app.number,
    )
    return nxt


def won_application(application_id: int) -> DrawApplication:
    app = db.session.get(DrawApplication, application_id)
    if app is None:
        raise NotFound(_l("There is no such application."), code="no_application")
    return app


@ticks.register("draws.reveal")
def tick(now: datetime) -> list[str]:
    """Freeze what closed, draw what is due, in that order (a late tick does both)."""
    lines = []
    due = db.session.scalars(
        select(DrawRound.id).where(
            DrawRound.state.in_((DrawState.ANNOUNCED, DrawState.FROZEN)),
            DrawRound.closes_at <= now,
        )
    ).all()
    for round_id in due:
        if freeze(round_id, now):
            lines.append(f"draw {round_id}: applicant list frozen")
        if draw(round_id, now):
            lines.append(f"draw {round_id}: drawn")
    return lines
