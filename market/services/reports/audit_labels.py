"""How the audit trail reads to people: actions, object types and details by name, money in
yuan, times on the market's clock. The stored events keep their codes (they are only ever
added, never rewritten); a code without a label here is shown as it is stored."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.lists import format_list
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..common.money import yuan
from ..common.tables import LABELS as TABLE_LABELS
from ..guide.incidents import KIND_LABELS as INCIDENT_KINDS
from ..sessions import notes as session_notes
from ..vendors.registry import RELIEF_LABELS

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
    "session.reopened": _l("Session reopened"),
    "market.sessions_planned": _l("Sessions planned ahead by the scheduler"),
    "scheduler.clock_refused": _l("Scheduler refused a clock ahead of the database"),
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
    "ledger.expense_rejected": _l("Expense rejected"),
    "ledger.account_added": _l("Ledger account added"),
    "ledger.account_active": _l("Ledger account switched on"),
    "ledger.account_inactive": _l("Ledger account switched off"),
    "ledger.session_reconciled": _l("Session reconciled"),
    "ledger.month_closed": _l("Month closed"),
    "ledger.fund_opening": _l("Governance fund's opening balance booked"),
    "user.login": _l("Logged in"),
    "user.login_failed": _l("Wrong password at login"),
    "user.login_locked": _l("Phone locked after wrong passwords"),
    "user.password_changed": _l("Password changed"),
    "user.reset_code_issued": _l("Password reset code issued"),
    "user.reset_code_used": _l("Password reset with a code"),
    "user.reset_code_failed": _l("Wrong password reset code"),
    "user.logged_out_everywhere": _l("Logged out on every device"),
    "user.created_by_cli": _l("User added on the server"),
    "question.asked": _l("Street office asked a question"),
    "question.answer": _l("Question answered"),
    "question.follow_up": _l("Street office asked again"),
    "question.accept": _l("Street office accepted the answer"),
    "draw.created": _l("Stall draw announced"),
    "draw.applied": _l("Applied to a stall draw"),
    "draw.withdrawn": _l("Stall draw application withdrawn"),
    "draw.frozen": _l("Stall draw applicant list frozen"),
    "draw.drawn": _l("Stall draw drawn"),
    "draw.declined": _l("Stall from the draw declined"),
    "draw.forfeited": _l("Stall from the draw forfeited"),
    "draw.reassigned": _l("Stall from the draw given to the next on the list"),
    "fund.project_created": _l("Fund project drafted"),
    "fund.project_proposed": _l("Fund project proposed by a resident"),
    "fund.project_published": _l("Fund project published for deliberation"),
    "fund.project_declined": _l("Resident's fund proposal not published"),
    "fund.project_started": _l("Fund project started"),
    "fund.project_done": _l("Fund project done"),
    "fund.project_cancelled": _l("Fund project cancelled"),
    "fund.project_decided": _l("Fund project decided"),
    "fund.meeting_recorded": _l("Representatives' meeting recorded"),
    "fund.rule_changed": _l("Meeting rule of the fund changed"),
    "fund.households_registered": _l("Households registered for votes"),
    "fund.vote_opened": _l("Household vote opened"),
    "fund.slips_issued": _l("Ballot slips issued"),
    "fund.slip_reissued": _l("Lost ballot slip voided and reissued"),
    "fund.vote_closed": _l("Household vote closed and counted"),
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
    "questions": _l("Question"),
    "draw_rounds": _l("Stall draw"),
    "draw_applications": _l("Stall draw application"),
    "fund_projects": _l("Fund project"),
    "fund_meetings": _l("Representatives' meeting"),
    "fund_votes": _l("Household vote"),
    "organizations": _l("Community"),
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
    "distributable_fen": _l("distributable"),
    "balance_before_fen": _l("balance before"),
    "balance_after_fen": _l("balance after"),
    "below_zero_acknowledged": _l("below zero, acknowledged"),
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
    "area_id": _l("street office (no.)"),
    "changed": _l("changed"),
    "fields": _l("fields"),
    "checked_out": _l("checked out"),
    "receivables": _l("became receivables"),
    "takings": _l("takings"),
    "cancelled": _l("sessions cancelled"),
    "left_open": _l("left open"),
    "restored": _l("sessions restored"),
    "moved": _l("sessions moved"),
    "dropped": _l("sessions removed"),
    "generated": _l("sessions added"),
    "outside_geofence": _l("outside the market area"),
    "needs_approval": _l("needs a second cadre"),
    "day_locked": _l("day locked"),
    "certificate_waiting": _l("new certificate waiting"),
    "voids": _l("voids payment no."),
    "was": _l("was"),
    "resumed": _l("check-ins resumed"),
    "unmarked": _l("charges no longer receivables"),
    "minutes_ahead": _l("minutes ahead"),
    "scheduler_clock": _l("scheduler's clock"),
    "database_clock": _l("database's clock"),
    "zone_id": _l("zone no."),
    "phone": _l("phone"),
    "failures": _l("wrong passwords"),
    "expires_at": _l("valid until"),
    "subject": _l("about"),
    "body": _l("text"),
    "stalls": _l("stalls"),
    "period": _l("period from"),
    "months": _l("months"),
    "commitment": _l("commitment (SHA-256)"),
    "round_id": _l("draw no."),
    "number": _l("application no."),
    "list_hash": _l("applicant list SHA-256"),
    "applicants": _l("applicants"),
    "seed": _l("seed"),
    "after": _l("after application no."),
    "budget_fen": _l("budget"),
    "from_state": _l("state before"),
    "to_state": _l("state after"),
    "outcome": _l("outcome"),
    "decided_by": _l("decided by"),
    "project_id": _l("fund project no."),
    "present": _l("representatives present"),
    "total": _l("representatives"),
    "closes_at": _l("closes at"),
    "household": _l("household"),
    "voided": _l("old slip voided"),
    "added": _l("added"),
    "votes_for": _l("for"),
    "votes_against": _l("against"),
    "votes_abstain": _l("abstaining"),
    "quorum": _l("quorum"),
    "majority_pct": _l("majority above (percent)"),
}

# What `changed` and `fields` list (zoning.MARKET_FIELDS, zoning.ZONE_FIELDS,
# session_templates.TEMPLATE_FIELDS), by the labels of the forms that edit them and in each
# form's order.
FIELDS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "slug": _l("Short name for web addresses"),
    "address": _l("Address"),
    "timezone": _l("Timezone"),
    "latitude": _l("Latitude of the centre"),
    "longitude": _l("Longitude of the centre"),
    "geofence_radius_m": _l("Geofence radius (metres)"),
    "public_notice": _l("Short public notice"),
    "rules_text": _l("Market rules vendors agree to"),
    "color": _l("Colour on the map"),
    "sort_order": _l("Order"),
    "categories": _l("Categories sold here"),
    "goods_note": _l("What may be sold here"),
    "kind": _l("Kind"),
    "weekdays": _l("Weekdays"),
    "start_local": _l("Opens at"),
    "end_local": _l("Closes at"),
    "cutoff_minutes": _l("Check-in cutoff for reserved stalls (minutes after opening)"),
    "valid_from": _l("First date"),
    "valid_until": _l("Last date"),
    "is_active": _l("Active"),
}
FIELD_ORDER = {key: n for n, key in enumerate(FIELDS)}
ROLES = {
    "vendor": _l("Vendor"),
    "guide": _l("Guide"),
    "cadre": _l("Cadre"),
    "admin": _l("Administrator"),
}
WHO = {"user": _l("a person"), "scheduler": _l("the scheduler")}
YES_NO = {True: _l("Yes"), False: _l("No")}
# As the audit page shows when an event happened.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def action_label(code: str | None) -> str:
    return str(ACTIONS.get(code, code or ""))


def object_label(code: str | None) -> str:
    return str(OBJECTS.get(code, code or ""))


def _words(items) -> str:
    return format_list([str(i) for i in items], locale=get_locale() or "en")


def _labelled(labels: dict) -> Callable:
    def label(value, action: str, zone: ZoneInfo) -> str:
        return str(labels.get(value, value) if isinstance(value, str) else value)

    return label


def _field_list(value, action: str, zone: ZoneInfo) -> str:
    """Field names in the form's order; one without a label by its code, at the end."""
    names = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    ordered = sorted(names, key=lambda v: FIELD_ORDER.get(v, len(FIELD_ORDER)))
    return _words(FIELDS.get(v, v) for v in ordered)


def _local_time(value, action: str, zone: ZoneInfo) -> str:
    """A stored UTC moment ("2026-12-01T14:30:00+00:00") on the market's clock."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime(TIME_FORMAT)


def _kind(value, action: str, zone: ZoneInfo) -> str:
    labels = RELIEF_LABELS if action.startswith("vendor.relief") else INCIDENT_KINDS
    return str(labels.get(value, value))


# How the value of a key reads, where it is a code (money, yes/no and nesting aside).
VALUES: dict[str, Callable] = {
    "note": lambda value, action, zone: session_notes.note_label(str(value)),
    "by": _labelled(WHO),
    "kind": _kind,
    "relief_kind": _labelled(RELIEF_LABELS),
    "session_kind": _labelled(TABLE_LABELS["kind"]),
    "role": _labelled(ROLES),
    "changed": _field_list,
    "fields": _field_list,
    "old_end": _local_time,
    "new_end": _local_time,
    "expires_at": _local_time,
}


def _value(key: str, value, action: str, zone: ZoneInfo, money: bool) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return str(YES_NO[value])
    money = money or key.endswith("_fen")
    if isinstance(value, dict):
        parts = [_part(k, v, action, zone, money) for k, v in value.items()]
        return "(" + ", ".join(p for p in parts if p) + ")"
    if money and isinstance(value, int):
        return yuan(value)
    if key in VALUES:
        return VALUES[key](value, action, zone)
    if isinstance(value, list):
        return _words(value)
    return str(value)


def _part(key: str, value, action: str, zone: ZoneInfo, money: bool = False) -> str | None:
    shown = _value(key, value, action, zone, money)
    if shown is None:
        return None
    return f"{DETAILS.get(key, key)} {shown}"


def detail_text(action: str, detail: str | None, zone: ZoneInfo | None = None) -> str:
    """The event's details as people read them: "amount ¥15.00, kind Short weight". Times
    are shown in `zone` (by default the configured MARKET_TIMEZONE)."""
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return detail or ""
    if not isinstance(data, dict):
        return ""
    if zone is None:
        zone = ZoneInfo(current_app.config.get("MARKET_TIMEZONE", "Asia/Shanghai"))
    parts = (_part(k, v, action or "", zone) for k, v in data.items())
    return ", ".join(p for p in parts if p)
