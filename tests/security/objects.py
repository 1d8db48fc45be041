"""Another organization with one of everything, for the tests that try to reach it."""

import secrets
from datetime import date

from market.extensions import db
from market.models import MarketClosure, Role
from market.models.complaints import Complaint
from market.models.guide import CashHandover, HandoverItem, Incident
from market.models.ledger import Expense, ExpenseState, LedgerAccount
from market.services import vendor_pass
from tests import builders as b


def other_organization() -> dict:
    """Build organization B with one of everything; see one_of_everything."""
    return one_of_everything(b.org(name="乙社区股份经济合作社"))


def one_of_everything(org) -> dict:
    """A market of `org` with a zone, stall, vendor, session and its trade, template and
    closure; returns the values that fill URL arguments, by kind. Call in an app context."""
    market = b.market(org, name="乙市场", slug="other-market")
    zone = b.zone(market, code="Q", name="乙片区")
    stall = b.stall(zone, code="Q-01")
    vendor = b.vendor(org, goods="乙的货")
    cadre = b.user(role=Role.ADMIN, organization=org)
    template = b.template(market)
    session = b.session(market)
    closure = MarketClosure(
        market=market, first_date=date(2099, 1, 1), last_date=date(2099, 1, 2), reason="乙停市"
    )
    db.session.add(closure)
    checkin = b.checkin(session, stall, vendor)
    payment = b.payment(b.charge(checkin), 500, confirmed=False, by=cadre)
    guide = b.user(role=Role.GUIDE, organization=org, mkt=market)
    cash = b.payment(b.charge(b.checkin(session, b.stall(zone, code="Q-02"))), 300, by=guide)
    handover = CashHandover(
        organization_id=org.id,
        market_id=market.id,
        guide_id=guide.id,
        expected_fen=300,
        declared_fen=300,
        note="乙交款",
    )
    db.session.add(handover)
    db.session.flush()
    db.session.add(HandoverItem(handover_id=handover.id, payment_id=cash.id))
    incident = Incident(market_id=market.id, stall_id=stall.id, kind="hygiene", note="乙的事")
    db.session.add(incident)
    db.session.flush()
    complaint = Complaint(
        tracking_code=secrets.token_urlsafe(16),
        market_id=market.id,
        stall_id=stall.id,
        incident_id=incident.id,
        kind="hygiene",
        text="乙的投诉",
    )
    account = LedgerAccount(organization_id=org.id, code="5999", name="乙支出", kind="expense")
    db.session.add_all([complaint, account])
    db.session.flush()
    expense = Expense(
        organization_id=org.id,
        account_id=account.id,
        amount_fen=100,
        spent_on=date(2099, 1, 1),
        description="乙买扫帚",
        paid_from="office_cash",
        state=ExpenseState.PENDING,
        recorded_by_id=cadre.id,
    )
    db.session.add(expense)
    db.session.commit()
    return {
        "org": org.id,
        "market": market.id,
        "zone": zone.id,
        "stall": stall.id,
        "stall_token": stall.qr_token,
        "vendor": vendor.id,
        "vendor_pass": vendor_pass.pass_token(vendor),
        "template": template.id,
        "session": session.id,
        "closure": closure.id,
        "checkin": checkin.id,
        "payment": payment.id,
        "handover": handover.id,
        "incident": incident.id,
        "complaint": complaint.id,
        "complaint_code": complaint.tracking_code,
        "ledger_account": account.id,
        "expense": expense.id,
        "market_slug": market.slug,
        # Not an object: the report whose export is asked for; the hand-over list names people.
        "export_kind": "handovers",
    }
