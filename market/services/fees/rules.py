"""The fee of one check-in: which rule is in force, relief, passes — computed in one place."""

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import (
    DrawRound,
    DrawStall,
    DrawState,
    FeeRule,
    MarketSession,
    MonthlyPass,
    Relief,
    ReliefRule,
    Stall,
    Vendor,
)
from ..common import audit, clock
from ..common.errors import Conflict, InvalidInput
from ..sessions.plan import local_today
from ..zoning import places as zoning

PASS_AHEAD = timedelta(days=366)  # passes are sold for the coming months, not years


@dataclass(frozen=True)
class Breakdown:
    """A charge as computed: integer fen, never negative, relief never above the base."""

    base_fen: int
    extras_fen: int
    relief_fen: int
    lines: list[str] = field(default_factory=list)

    @property
    def amount_fen(self) -> int:
        return self.base_fen + self.extras_fen - self.relief_fen


def compute(
    base_fen: int, power_fen: int, uses_power: bool, relief_percent: int, on_pass: bool
) -> Breakdown:
    """Pure arithmetic. Relief applies to the base only and rounds to the nearest fen;
    electricity is an extra the vendor asks for at a stall with an outlet."""
    if min(base_fen, power_fen) < 0 or not 0 <= relief_percent <= 100:
        raise ValueError("fees are never negative and relief is 0-100 %")
    if on_pass:
        return Breakdown(0, 0, 0, ["monthly_pass"])
    extras = power_fen if uses_power else 0
    relief = min(base_fen, (base_fen * relief_percent + 50) // 100)
    lines = ["base"] + (["power"] if extras else []) + (["relief"] if relief else [])
    return Breakdown(base_fen, extras, relief, lines)


def rule_states(rules: list[FeeRule], at) -> dict[int, str]:
    """Rule id → "in_force", "superseded" (a newer rule of the same zone and session kind took
    over) or "upcoming" (starts later). Changing a fee means adding a rule for the scope."""
    states, seen = {}, set()
    for rule in sorted(rules, key=lambda r: (r.effective_from, r.id), reverse=True):
        scope = (rule.zone_id, rule.session_kind)
        if rule.effective_from > at:
            states[rule.id] = "upcoming"
        elif scope in seen:
            states[rule.id] = "superseded"
        else:
            states[rule.id] = "in_force"
            seen.add(scope)
    return states


def rule_for(stall: Stall, session: MarketSession) -> FeeRule | None:
    """The most specific rule in force when the session starts: zone and kind, then zone,
    then kind, then the market's default; the latest of equals wins."""
    rules = db.session.scalars(
        select(FeeRule).where(
            FeeRule.market_id == stall.market_id,
            FeeRule.effective_from <= session.starts_at,
            (FeeRule.zone_id == stall.zone_id) | FeeRule.zone_id.is_(None),
            (FeeRule.session_kind == session.kind) | FeeRule.session_kind.is_(None),
        )
    ).all()
    return most_specific(rules)


def most_specific(rules):
    """Of the rules that apply, the one in force: zone and kind, then zone, then kind, then
    the market's default; the latest of equals wins."""
    if not rules:
        return None
    return max(
        rules,
        key=lambda r: (r.zone_id is not None, r.session_kind is not None, r.effective_from, r.id),
    )


def rule_among(rules, zone_id: int, session_kind: str, starts_at):
    """`rule_for` over rules already read (a worker's cached copy of the market's rules)."""
    return most_specific(
        [
            r
            for r in rules
            if r.effective_from <= starts_at
            and r.zone_id in (zone_id, None)
            and r.session_kind in (session_kind, None)
        ]
    )


def relief_among(rules, vendor, starts_at) -> int:
    """`relief_percent` over the market's relief rules already read."""
    if vendor.relief_status != "confirmed" or not vendor.relief_kind:
        return 0
    found = [
        r for r in rules if r.relief_kind == vendor.relief_kind and r.effective_from <= starts_at
    ]
    return max(found, key=lambda r: (r.effective_from, r.id)).percent_off if found else 0


def relief_percent(vendor: Vendor, session: MarketSession) -> int:
    if vendor.relief_status != "confirmed" or not vendor.relief_kind:
        return 0
    rule = db.session.scalar(
        select(ReliefRule)
        .where(
            ReliefRule.market_id == session.market_id,
            ReliefRule.relief_kind == vendor.relief_kind,
            ReliefRule.effective_from <= session.starts_at,
        )
        .order_by(ReliefRule.effective_from.desc(), ReliefRule.id.desc())
        .limit(1)
    )
    return rule.percent_off if rule else 0


def pass_on(stall: Stall, session: MarketSession) -> MonthlyPass | None:
    """The active monthly pass for this stall on the session's business date."""
    return db.session.scalar(
        select(MonthlyPass).where(
            MonthlyPass.stall_id == stall.id,
            MonthlyPass.status == "active",
            MonthlyPass.valid_from <= session.business_date,
            MonthlyPass.valid_until >= session.business_date,
        )
    )


NO_PASS = object()


def charge_for(
    stall: Stall, session: MarketSession, vendor: Vendor, uses_power: bool = False, held=NO_PASS
) -> Breakdown:
    """`held` may pass the stall's monthly pass when the caller already looked it up."""
    rule = rule_for(stall, session)
    if held is NO_PASS:
        held = pass_on(stall, session)
    return compute(
        rule.base_fen if rule else 0,
        rule.power_fen if rule else 0,
        uses_power and stall.has_power,
        relief_percent(vendor, session),
        on_pass=held is not None and held.vendor_id == vendor.id,
    )


LINE_LABELS = {
    "base": _l("Stall fee"),
    "power": _l("Electricity"),
    "relief": _l("Fee relief"),
    "monthly_pass": _l("Monthly pass: no daily fee"),
}


def add_rule(market, values: dict, *, actor, now, ip=None) -> FeeRule:
    """A new rule in force for sessions starting from now on: charges already made keep theirs."""
    zone_id = values.get("zone_id")
    if zone_id is not None:
        zoning.zone_of_market(market, zone_id)
    rule = FeeRule(
        market_id=market.id,
        zone_id=zone_id,
        session_kind=values.get("session_kind"),
        base_fen=values["base_fen"],
        power_fen=values.get("power_fen", 0),
        note=values.get("note"),
        effective_from=now,
        created_by_id=actor.id,
    )
    db.session.add(rule)
    db.session.flush()
    audit.record(
        "fee_rule.created",
        rule,
        actor=actor,
        organization_id=market.organization_id,
        ip=ip,
        base_fen=rule.base_fen,
        zone_id=zone_id,
        session_kind=rule.session_kind,
    )
    return rule


def add_relief_rule(market, relief_kind: str, percent_off: int, *, actor, now, ip=None):
    if relief_kind not in Relief.KINDS:
        raise InvalidInput(_l("Choose a fee relief from the list."), field="relief_kind")
    if not 0 <= percent_off <= 100:
        raise InvalidInput(_l("A percentage from 0 to 100."), field="percent_off")
    rule = ReliefRule(
        market_id=market.id,
        relief_kind=relief_kind,
        percent_off=percent_off,
        effective_from=now,
        created_by_id=actor.id,
    )
    db.session.add(rule)
    db.session.flush()
    audit.record(
        "relief_rule.created",
        rule,
        actor=actor,
        organization_id=market.organization_id,
        ip=ip,
        relief_kind=relief_kind,
        percent_off=percent_off,
    )
    return rule


def _promised_by_a_draw(stall_id: int, first: date, last: date) -> bool:
    """A round not yet drawn holds its stalls for its period (once drawn, its winners' passes
    do); selling a pass there would give the stall twice."""
    rounds = db.session.execute(
        select(DrawRound.period_start, DrawRound.months)
        .join(DrawStall, DrawStall.round_id == DrawRound.id)
        .where(
            DrawStall.stall_id == stall_id,
            DrawRound.state != DrawState.DRAWN,
            DrawRound.period_start <= last,
        )
    ).all()
    for start, months in rounds:
        month = start.month - 1 + months
        end = date(start.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        if end >= first:
            return True
    return False


def add_pass(market, stall_id: int, vendor_id: int, month, amount_fen: int, *, actor, ip=None):
    """A monthly pass: the vendor holds the stall every session of that calendar month."""
    stall = db.session.get(Stall, stall_id)
    vendor = db.session.get(Vendor, vendor_id)
    if stall is None or stall.market_id != market.id:
        raise InvalidInput(_l("Choose a stall of this market."), field="stall_id")
    if (
        vendor is None
        or vendor.organization_id != market.organization_id
        or vendor.status != "approved"
    ):
        raise InvalidInput(_l("Choose an approved vendor of this community."), field="vendor_id")
    if amount_fen < 0:
        raise InvalidInput(_l("Enter an amount above zero."), field="amount")
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    today = local_today(market, clock.now())
    if last < today:
        raise InvalidInput(
            _l("That month is over: sell a pass for this month or a later one."),
            code="month_over",
            field="month",
        )
    if first > today.replace(day=1) + PASS_AHEAD:
        raise InvalidInput(
            _l("A pass can be sold at most a year ahead."), code="month_too_far", field="month"
        )
    clash = db.session.scalar(
        select(MonthlyPass.id).where(
            MonthlyPass.stall_id == stall.id,
            MonthlyPass.status == "active",
            MonthlyPass.valid_from <= last,
            MonthlyPass.valid_until >= first,
        )
    )
    if clash:
        raise Conflict(
            _l("This stall already has a monthly pass for that month."), field="stall_id"
        )
    if _promised_by_a_draw(stall.id, first, last):
        raise Conflict(
            _l("This stall is in a stall draw for that month: the draw decides who holds it."),
            code="stall_in_draw",
            field="stall_id",
        )
    held = MonthlyPass(
        market_id=market.id,
        stall_id=stall.id,
        vendor_id=vendor.id,
        valid_from=first,
        valid_until=last,
        amount_fen=amount_fen,
        created_by_id=actor.id,
    )
    db.session.add(held)
    db.session.flush()
    audit.record(
        "monthly_pass.created",
        held,
        actor=actor,
        organization_id=market.organization_id,
        ip=ip,
        stall=stall.code,
        month=str(first),
        amount_fen=amount_fen,
    )
    return held
