"""等我处理: what waits for one cadre in one organization, counted in a few queries."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from market.extensions import db
from market.models import (
    Complaint,
    Expense,
    Incident,
    Role,
    SessionReconciliation,
)
from market.services.ledger import entries as ledger
from market.services.reports import todo
from tests import builders
from tests.trade import DAY1, DAY2, handover, trade

NOW = datetime(2026, 11, 5, 4, 0, tzinfo=UTC)  # 12:00 on 5 Nov in Shanghai
TODAY = date(2026, 11, 5)


@pytest.fixture
def w(ctx):
    mkt = builders.market()
    made = trade(mkt)
    ledger.ensure_chart(mkt.organization)
    made["cadre2"] = builders.user(role=Role.CADRE, organization=mkt.organization, name="干部丙")
    return mkt, made


def expense(org, recorder, state="pending", fen=90_000, **kw):
    e = Expense(
        organization_id=org.id,
        account_id=ledger.account(org.id, "cleaning").id,
        amount_fen=fen,
        spent_on=DAY1,
        description="保洁",
        paid_from="office_cash",
        state=state,
        recorded_by_id=recorder.id,
        **kw,
    )
    db.session.add(e)
    db.session.flush()
    return e


def complaint(mkt, created_at, state="open"):
    n = next(builders._seq)
    incident = Incident(
        market_id=mkt.id,
        kind="noise",
        source="complaint",
        state=state,
        resolved_at=created_at + timedelta(hours=1) if state == "resolved" else None,
        created_at=created_at,
    )
    db.session.add(incident)
    db.session.flush()
    c = Complaint(
        tracking_code=f"code-{n:020d}",
        market_id=mkt.id,
        incident_id=incident.id,
        kind="noise",
        text="太吵了",
        created_at=created_at,
    )
    db.session.add(c)
    db.session.flush()
    return c


def food_vendor(org, expires, status="approved"):
    return builders.vendor(
        org,
        status=status,
        category="cooked_food",
        sells_food=True,
        health_cert_no=f"JK{next(builders._seq)}",
        health_cert_expires=expires,
    )


def test_nothing_waiting_in_an_empty_organization(ctx):
    org = builders.market().organization
    cadre = builders.user(role=Role.CADRE, organization=org)
    t = todo.for_cadre(org, cadre, NOW)
    assert t.empty and t.total == 0 and t.days == [] and t.certs == []


def test_expenses_are_the_ones_this_cadre_may_approve(w):
    mkt, made = w
    org, cadre, cadre2 = mkt.organization, made["cadre"], made["cadre2"]
    expense(org, cadre)
    expense(org, cadre)
    expense(org, cadre2)
    expense(org, cadre2, state="rejected", rejected_by_id=cadre.id, rejection_reason="重复")
    assert todo.for_cadre(org, cadre, NOW).expenses == 1  # not the two she recorded
    assert todo.for_cadre(org, cadre2, NOW).expenses == 2


def test_hand_overs_waiting_except_her_own(w):
    mkt, made = w
    guide, cadre, cadre2 = made["guide"], made["cadre"], made["cadre2"]
    handover(mkt, guide, 1500)
    handover(mkt, guide, 900, received=900, cadre=cadre)  # already counted
    handover(mkt, cadre2, 700)  # a cadre who collected cash cannot count her own hand-over
    assert todo.for_cadre(mkt.organization, cadre, NOW).handovers == 2
    assert todo.for_cadre(mkt.organization, cadre2, NOW).handovers == 1


def test_days_to_reconcile_with_their_amounts(w):
    mkt, made = w
    t = todo.for_cadre(mkt.organization, made["cadre"], NOW)
    # tests/trade.py by hand: DAY1 a night (3000 due, 2600 money, 400 unpaid) and a morning
    # settled by a waiver (800); DAY2 2200 due, 400 cash, 1200 only reported, 1800 unpaid.
    assert (t.sessions_to_reconcile, t.days_to_reconcile) == (3, 2)
    assert t.days == [
        todo.DayToReconcile(DAY2, 1, 2200, 400, 1800),
        todo.DayToReconcile(DAY1, 2, 3800, 2600, 400),
    ]
    s1 = made["sessions"][0]
    db.session.add(
        SessionReconciliation(
            organization_id=mkt.organization_id,
            session_id=s1.id,
            business_date=s1.business_date,
            reconciled_by_id=made["cadre"].id,
        )
    )
    db.session.flush()
    t = todo.for_cadre(mkt.organization, made["cadre"], NOW)
    assert (t.sessions_to_reconcile, t.days_to_reconcile) == (2, 2)
    assert t.days[1] == todo.DayToReconcile(DAY1, 1, 800, 0, 0)


def test_complaints_open_past_the_promised_time(w):
    mkt, made = w
    other = builders.market(mkt.organization)
    complaint(mkt, NOW - timedelta(hours=30))
    complaint(other, NOW - timedelta(hours=25))
    complaint(other, NOW - timedelta(hours=48))
    complaint(other, NOW - timedelta(hours=2))  # still within the 24 hours
    complaint(mkt, NOW - timedelta(hours=50), state="resolved")
    t = todo.for_cadre(mkt.organization, made["cadre"], NOW)
    assert t.complaints_overdue == 3
    assert t.complaints_market_id == other.id  # the link goes where most of them are


def test_vendors_pending_and_certificates_expiring_within_a_week(w):
    mkt, made = w
    org = mkt.organization
    builders.vendor(org)  # pending
    soon = food_vendor(org, TODAY + timedelta(days=2))
    food_vendor(org, TODAY)  # runs out today: still counted
    food_vendor(org, TODAY + timedelta(days=7))
    food_vendor(org, TODAY + timedelta(days=8))
    food_vendor(org, TODAY - timedelta(days=1))  # expired: cannot trade, not "expiring"
    food_vendor(org, TODAY + timedelta(days=2), status="pending")
    t = todo.for_cadre(org, made["cadre"], NOW)
    assert t.vendors_pending == 2
    assert t.certs_expiring == 3
    assert [c.expires for c in t.certs] == [TODAY, TODAY + timedelta(days=2), TODAY + timedelta(7)]
    assert t.certs[1].vendor_id == soon.id and t.certs[1].name == soon.user.name


def test_another_organization_counts_nothing(w):
    mkt, made = w
    expense(mkt.organization, made["cadre2"])
    builders.vendor(mkt.organization)
    handover(mkt, made["guide"], 100)
    complaint(mkt, NOW - timedelta(days=3))
    elsewhere = builders.market()
    cadre = builders.user(role=Role.CADRE, organization=elsewhere.organization)
    assert todo.for_cadre(elsewhere.organization, cadre, NOW).empty
    assert todo.for_cadre(mkt.organization, made["cadre"], NOW).total == 1 + 1 + 1 + 1 + 3


def test_a_handful_of_queries_whatever_the_data(w):
    mkt, made = w
    org = mkt.organization
    for _ in range(5):
        expense(org, made["cadre2"])
        handover(mkt, made["guide"], 100)
        builders.vendor(org)
        food_vendor(org, TODAY + timedelta(days=1))
        complaint(mkt, NOW - timedelta(days=2))
    statements = []

    def count(*_args):
        statements.append(1)

    db.session.flush()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        t = todo.for_cadre(org, made["cadre"], NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert t.expenses == 5 and t.handovers == 5 and t.certs_expiring == 5
    assert len(statements) <= 10
