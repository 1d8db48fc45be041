"""Another organization with one of everything, for the tests that try to reach it."""

import secrets
from datetime import date

from market.extensions import db
from market.models import (
    Area,
    DrawApplication,
    DrawRound,
    DrawStall,
    MarketClosure,
    Question,
    QuestionMessage,
    Role,
)
from market.models.complaints import Complaint
from market.models.fund import FundHousehold, FundMeeting, FundProject, FundVote
from market.models.guide import CashHandover, HandoverItem, Incident
from market.models.ledger import Expense, ExpenseState, LedgerAccount
from market.services.vendors import passes as vendor_pass
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
    cash.handover_id = handover.id
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
    area = Area(name=f"{org.name}的街道")
    db.session.add(area)
    db.session.flush()
    org.area_id = area.id
    asker = b.user(
        role=Role.CADRE, organization=org
    )  # who asked matters not: nobody outside sees it
    question = Question(
        area_id=area.id,
        organization_id=org.id,
        subject_kind="expense",
        subject_id=expense.id,
        asked_by_id=asker.id,
        state="open",
    )
    question.messages.append(QuestionMessage(author_id=asker.id, kind="ask", body="乙的质询"))
    db.session.add(question)
    fund_project = FundProject(
        organization_id=org.id,
        title="乙的专项",
        place="乙处",
        reason="乙的理由",
        budget_fen=100,
        state="published",
    )
    db.session.add(fund_project)
    db.session.flush()
    fund_meeting = FundMeeting(
        project_id=fund_project.id,
        held_on=date(2099, 1, 1),
        total=3,
        present=1,
        votes_for=1,
        votes_against=0,
        votes_abstain=0,
        quorum_num=2,
        quorum_den=3,
        majority_pct=50,
        outcome="no_quorum",
        recorded_by_id=cadre.id,
    )
    fund_vote = FundVote(
        project_id=fund_project.id,
        opens_at=session.starts_at,
        closes_at=session.ends_at,
        majority_pct=50,
        created_by_id=cadre.id,
    )
    fund_household = FundHousehold(organization_id=org.id, label="9-9-909")
    db.session.add_all([fund_meeting, fund_vote, fund_household])
    draw = DrawRound(
        market_id=market.id,
        title="乙摇号",
        period_start=date(2099, 1, 1),
        months=1,
        fee_fen=100,
        opens_at=session.starts_at,
        closes_at=session.ends_at,
        draw_at=session.ends_at,
        commitment="0" * 64,
        sealed_secret="v1:none",
    )
    db.session.add(draw)
    db.session.flush()
    db.session.add(DrawStall(round_id=draw.id, stall_id=stall.id, position=1))
    application = DrawApplication(
        round_id=draw.id, vendor_id=vendor.id, number=1, state="won", stall_id=stall.id
    )
    db.session.add(application)
    db.session.commit()
    return {
        "org": org.id,
        "market": market.id,
        "zone": zone.id,
        "stall": stall.id,
        "stall_token": stall.qr_token,
        "vendor": vendor.id,
        "user": vendor.user_id,
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
        "area": area.id,
        "question": question.id,
        "market_slug": market.slug,
        "fund_project": fund_project.id,
        "fund_meeting": fund_meeting.id,
        "fund_vote": fund_vote.id,
        "fund_household": fund_household.id,
        "draw_round": draw.id,
        "draw_application": application.id,
        # Not an object: the report whose export is asked for; the hand-over list names people.
        "export_kind": "handovers",
    }
