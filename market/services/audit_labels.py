"""How the audit trail reads to people: actions, object types and details by name, money in
yuan. The stored events keep their codes (they are only ever added, never rewritten); a code
without a label here is shown as it is stored."""

import json

from flask_babel import lazy_gettext as _l

from . import session_notes
from .incidents import KIND_LABELS as INCIDENT_KINDS
from .money import yuan
from .tables import LABELS as TABLE_LABELS
from .vendors import RELIEF_LABELS

ACTIONS = {
    "checkin.created": _l("Vendor checked in"),
    "checkin.moved": _l("Vendor moved to another stall"),
    "checkin.checked_out": _l("Vendor checked out"),
    "payment.cash": _l("Cash recorded"),
    "payment.collection_code_reported": _l("Collection-code payment reported"),
    "payment.confirmed": _l("Payment confirmed"),
    "payment.waived": _l("Fee waived by a cadre"),
    "payment.voided": _l("Payment voided"),
    "handover.created": _l("Cash handed over"),
    "handover.confirmed": _l("Hand-over counted"),
    "session.opened": _l("Session opened"),
    "session.closed": _l("Session closed"),
    "session.cancelled": _l("Session cancelled"),
    "session.extended": _l("Session extended"),
    "session.reinstated": _l("Session reinstated"),
    "session_template.created": _l("Session template added"),
    "session_template.updated": _l("Session template changed"),
    "session_template.deactivated": _l("Session template switched off"),
    "session_template.deleted": _l("Session template deleted"),
    "market.created": _l("Market added"),
    "market.updated": _l("Market changed"),
    "market.collection_code_set": _l("Collection code image changed"),
    "market.tokens_rotated": _l("All stall QR codes renewed"),
    "market.closure_added": _l("Market closed for dates"),
    "market.closure_lifted": _l("Closure lifted"),
    "zone.created": _l("Zone added"),
    "zone.updated": _l("Zone changed"),
    "stall.created": _l("Stall added"),
    "stall.updated": _l("Stall changed"),
    "stall.bulk_created": _l("Stalls added"),
    "stall.disabled": _l("Stall disabled"),
    "stall.enabled": _l("Stall enabled"),
    "stall.deleted": _l("Stall deleted"),
    "stall.token_rotated": _l("Stall QR code renewed"),
    "fee_rule.created": _l("Fee rule set"),
    "relief_rule.created": _l("Relief rule set"),
    "monthly_pass.created": _l("Monthly pass sold"),
    "vendor.registered": _l("Vendor registered"),
    "vendor.details_updated": _l("Vendor changed their details"),
    "vendor.approve": _l("Vendor approved"),
    "vendor.reject": _l("Vendor rejected"),
    "vendor.suspend": _l("Vendor suspended"),
    "vendor.reinstate": _l("Vendor reinstated"),
    "vendor.certificate_accepted": _l("Health certificate accepted"),
    "vendor.certificate_declined": _l("Health certificate declined"),
    "vendor.relief_confirmed": _l("Fee relief confirmed"),
    "vendor.relief_declined": _l("Fee relief declined"),
    "incident.opened": _l("Incident logged"),
    "incident.resolved": _l("Incident resolved"),
    "ledger.manual_entry": _l("Ledger entry posted by hand"),
    "ledger.expense_recorded": _l("Expense recorded"),
    "ledger.expense_approved": _l("Expense approved"),
    "ledger.account_added": _l("Ledger account added"),
    "ledger.account_active": _l("Ledger account switched on"),
    "ledger.account_inactive": _l("Ledger account switched off"),
    "ledger.session_reconciled": _l("Session reconciled"),
    "ledger.month_closed": _l("Month closed"),
    "user.login": _l("Logged in"),
    "user.password_changed": _l("Password changed"),
    "user.created_by_cli": _l("User added on the server"),
}

OBJECTS = {
    "checkins": _l("Check-in"),
    "payments": _l("Payment"),
    "cash_handovers": _l("Cash hand-over"),
    "market_sessions": _l("Session"),
    "market_closures": _l("Closure"),
    "session_templates": _l("Session template"),
    "markets": _l("Market"),
    "zones": _l("Zone"),
    "stalls": _l("Stall"),
    "fee_rules": _l("Fee rule"),
    "relief_rules": _l("Relief rule"),
    "monthly_passes": _l("Monthly pass"),
    "vendors": _l("Vendor"),
    "incidents": _l("Incident"),
    "complaints": _l("Complaint"),
    "expenses": _l("Expense"),
    "ledger_entries": _l("Ledger entry"),
    "ledger_accounts": _l("Ledger account"),
    "ledger_month_closes": _l("Month close"),
    "users": _l("User"),
    "none": _l("Nothing in particular"),
}

DETAILS = {
    "amount_fen": _l("amount"),
    "base_fen": _l("stall fee"),
    "expected_fen": _l("expected"),
    "declared_fen": _l("declared"),
    "received_fen": _l("received"),
    "difference_fen": _l("difference"),
    "relief_fen": _l("relief by fee rules"),
    "waived_fen": _l("waived by a cadre"),
    "pending_fen": _l("reported, unconfirmed"),
    "unpaid_fen": _l("unpaid"),
    "collected_fen": _l("collected"),
    "collected_total_fen": _l("collected in total"),
    "net_income_fen": _l("net income"),
    "governance_fund_fen": _l("governance fund"),
    "cash": _l("cash"),
    "collection_code": _l("collection code"),
    "charges": _l("check-ins"),
    "charge_id": _l("charge no."),
    "session_id": _l("session no."),
    "stall": _l("stall"),
    "to": _l("to stall"),
    "from_stall_id": _l("from stall no."),
    "kind": _l("kind"),
    "session_kind": _l("session"),
    "relief_kind": _l("relief"),
    "percent_off": _l("percent off"),
    "reason": _l("reason"),
    "note": _l("note"),
    "reference": _l("reference"),
    "by": _l("by"),
    "business_date": _l("market day"),
    "first_date": _l("from"),
    "last_date": _l("to"),
    "old_end": _l("old end"),
    "new_end": _l("new end"),
    "month": _l("month"),
    "code": _l("code"),
    "codes": _l("codes"),
    "count": _l("count"),
    "name": _l("name"),
    "role": _l("role"),
    "changed": _l("changed"),
    "fields": _l("fields"),
    "checked_out": _l("checked out"),
    "receivables": _l("became receivables"),
    "takings": _l("takings"),
    "cancelled": _l("sessions cancelled"),
    "left_open": _l("left open"),
    "restored": _l("sessions restored"),
    "outside_geofence": _l("outside the market area"),
    "needs_approval": _l("needs a second cadre"),
    "day_locked": _l("day locked"),
    "certificate_waiting": _l("new certificate waiting"),
    "voids": _l("voids payment no."),
    "was": _l("was"),
    "zone_id": _l("zone no."),
}

WHO = {"user": _l("a person"), "scheduler": _l("the scheduler")}
YES_NO = {True: _l("Yes"), False: _l("No")}


def action_label(code: str | None) -> str:
    return str(ACTIONS.get(code, code or ""))


def object_label(code: str | None) -> str:
    return str(OBJECTS.get(code, code or ""))


def _value(key: str, value, action: str, money: bool) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(YES_NO[value])
    if isinstance(value, dict):
        parts = [_part(k, v, action, money or key.endswith("_fen")) for k, v in value.items()]
        return "(" + ", ".join(p for p in parts if p) + ")"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if (money or key.endswith("_fen")) and isinstance(value, int):
        return yuan(value)
    if key == "note":
        return session_notes.note_label(str(value))
    if key == "by":
        return str(WHO.get(value, value))
    if key == "kind":
        labels = RELIEF_LABELS if action.startswith("vendor.relief") else INCIDENT_KINDS
        return str(labels.get(value, value))
    if key == "relief_kind":
        return str(RELIEF_LABELS.get(value, value))
    if key == "session_kind":
        return str(TABLE_LABELS["kind"].get(value, value))
    return str(value)


def _part(key: str, value, action: str, money: bool = False) -> str | None:
    shown = _value(key, value, action, money)
    if shown is None:
        return None
    return f"{DETAILS.get(key, key)} {shown}"


def detail_text(action: str, detail: str | None) -> str:
    """The event's details as people read them: "amount ¥15.00, kind Short weight"."""
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return detail or ""
    if not isinstance(data, dict):
        return ""
    parts = (_part(k, v, action or "") for k, v in data.items())
    return ", ".join(p for p in parts if p)
