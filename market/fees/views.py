from datetime import date

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..auth.decorators import roles_required
from ..extensions import db
from ..formtools import submit
from ..models import FeeRule, MonthlyPass, ReliefRule, Role, User, Vendor
from ..services.auth import access
from ..services.common.clock import now
from ..services.common.errors import InvalidInput
from ..services.common.money import parse_yuan
from ..services.fees import rules as fees
from ..services.vendors.registry import RELIEF_LABELS
from ..services.zoning import places as zoning
from . import bp
from .forms import FeeRuleForm, PassForm, ReliefRuleForm

ID = "int(max=2147483647)"
RULE_STATE_LABELS = {
    "in_force": _l("in force"),
    "superseded": _l("replaced by a newer rule"),
    "upcoming": _l("not yet in force"),
}


def _context(market):
    rules = db.session.scalars(
        select(FeeRule)
        .where(FeeRule.market_id == market.id)
        .order_by(FeeRule.effective_from.desc(), FeeRule.id.desc())
    ).all()
    return {
        "market": market,
        "rules": rules,
        "rule_states": fees.rule_states(rules, now()),
        "rule_state_labels": RULE_STATE_LABELS,
        "reliefs": db.session.scalars(
            select(ReliefRule)
            .where(ReliefRule.market_id == market.id)
            .order_by(ReliefRule.effective_from.desc(), ReliefRule.id.desc())
        ).all(),
        "passes": db.session.scalars(
            select(MonthlyPass)
            .where(MonthlyPass.market_id == market.id)
            .order_by(MonthlyPass.valid_from.desc(), MonthlyPass.id.desc())
            .limit(100)
        ).all(),
        "relief_labels": RELIEF_LABELS,
        "zones": {z.id: z for z in market.zones},
    }


def _forms(market, **given):
    rule = given.get("rule_form") or FeeRuleForm(prefix="rule")
    rule.zone_id.choices = [SelectChoice("", _("All zones"))] + [
        SelectChoice(str(z.id), f"{z.code} {z.name}") for z in market.zones
    ]
    held = given.get("pass_form") or PassForm(prefix="pass")
    held.stall_id.choices = [
        SelectChoice(s.id, s.code) for s in zoning.stalls_of(market, status="active")
    ]
    vendors = db.session.execute(
        select(Vendor.id, User.name)
        .join(User, Vendor.user_id == User.id)
        .where(Vendor.organization_id == market.organization_id, Vendor.status == "approved")
        .order_by(User.name)
    ).all()
    held.vendor_id.choices = [SelectChoice(v, name) for v, name in vendors]
    return {
        "rule_form": rule,
        "relief_form": given.get("relief_form") or ReliefRuleForm(prefix="relief"),
        "pass_form": held,
    }


@bp.route(f"/markets/<{ID}:market_id>")
@roles_required(*Role.MANAGERS)
def market(market_id):
    m = access.market_for_manager(current_user, market_id)
    return render_template("fees/market.html", **_context(m), **_forms(m))


def _post(market_id, form_key, form, action):
    m = access.market_for_manager(current_user, market_id)
    forms = _forms(m, **{form_key: form})

    def run():
        action(m, forms[form_key])
        flash(_("Saved. It applies from the next session on."), "success")
        return url_for(".market", market_id=m.id)

    return submit(forms[form_key], run, "fees/market.html", **_context(m), **forms)


@bp.route(f"/markets/<{ID}:market_id>/rules", methods=["POST"])
@roles_required(*Role.MANAGERS)
def add_rule(market_id):
    def action(m, form):
        values = {
            "zone_id": int(form.zone_id.data) if form.zone_id.data else None,
            "session_kind": form.session_kind.data or None,
            "base_fen": parse_yuan(form.base.data, "base"),
            "power_fen": parse_yuan(form.power.data or "0", "power"),
            "note": form.note.data or None,
        }
        fees.add_rule(
            m, values, actor=current_user._get_current_object(), now=now(), ip=request.remote_addr
        )

    return _post(market_id, "rule_form", FeeRuleForm(prefix="rule"), action)


@bp.route(f"/markets/<{ID}:market_id>/relief", methods=["POST"])
@roles_required(*Role.MANAGERS)
def add_relief(market_id):
    def action(m, form):
        fees.add_relief_rule(
            m,
            form.relief_kind.data,
            form.percent_off.data,
            actor=current_user._get_current_object(),
            now=now(),
            ip=request.remote_addr,
        )

    return _post(market_id, "relief_form", ReliefRuleForm(prefix="relief"), action)


@bp.route(f"/markets/<{ID}:market_id>/passes", methods=["POST"])
@roles_required(*Role.MANAGERS)
def add_pass(market_id):
    def action(m, form):
        try:
            month = date.fromisoformat(form.month.data + "-01")
        except ValueError:
            month = None
        if month is None or not 2000 <= month.year <= 2100:  # as every other month field
            raise InvalidInput(_("Write the month as 2026-12."), field="month")
        fees.add_pass(
            m,
            form.stall_id.data,
            form.vendor_id.data,
            month,
            parse_yuan(form.amount.data),
            actor=current_user._get_current_object(),
            ip=request.remote_addr,
        )

    return _post(market_id, "pass_form", PassForm(prefix="pass"), action)
