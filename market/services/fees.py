"""The fee of one check-in: which rule is in force, relief, passes — computed in one place."""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import FeeRule, MarketSession, MonthlyPass, ReliefRule, Stall, Vendor


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
    if not rules:
        return None
    return max(
        rules,
        key=lambda r: (r.zone_id is not None, r.session_kind is not None, r.effective_from, r.id),
    )


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


def charge_for(
    stall: Stall, session: MarketSession, vendor: Vendor, uses_power: bool = False
) -> Breakdown:
    rule = rule_for(stall, session)
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
    from . import audit, zoning

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
