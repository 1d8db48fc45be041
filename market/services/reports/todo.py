"""等我处理: what waits for one cadre in one organization, counted for the office page.

A handful of aggregate queries, whatever the size of the organization: each item is a count
(and, for the days to reconcile, their amounts), never a loop over objects. The street
office's supervisor page calls `for_cadre` once per organization.

- expenses recorded by another cadre and waiting for approval (the recorder cannot approve);
- cash hand-overs not yet counted, except the cadre's own (she may not count those);
- closed sessions not yet reconciled, by market-local day, with what they took;
- complaints still open after the promised answer time (complaints.stats.HANDLED_WITHIN);
- vendors waiting for approval;
- approved food vendors whose health certificate runs out within CERT_WARNING_DAYS;
- questions (质询) of the street office waiting for the community's answer.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from ...extensions import db
from ...models import (
    CashHandover,
    Charge,
    CheckIn,
    Complaint,
    Expense,
    ExpenseState,
    HandoverState,
    Incident,
    IncidentState,
    Market,
    MarketSession,
    Organization,
    Payment,
    PaymentMethod,
    PaymentStatus,
    SessionReconciliation,
    SessionState,
    User,
    Vendor,
    VendorStatus,
)
from ..areas import questions
from ..complaints.stats import HANDLED_WITHIN
from ..ledger.entries import org_today
from ..vendors.registry import CERT_WARNING_DAYS

DAYS_SHOWN = 7  # days to reconcile listed with their amounts; the count covers them all
CERTS_SHOWN = 10


@dataclass(frozen=True)
class DayToReconcile:
    day: date
    sessions: int
    expected_fen: int  # what the charges asked for, after relief
    collected_fen: int  # confirmed cash and collection-code money, reversals subtracted
    unpaid_fen: int


@dataclass(frozen=True)
class ExpiringCert:
    vendor_id: int
    name: str
    expires: date


@dataclass(frozen=True)
class Todo:
    organization_id: int
    expenses: int = 0
    handovers: int = 0
    sessions_to_reconcile: int = 0
    days_to_reconcile: int = 0
    # The latest of those days (DAYS_SHOWN at most), with their amounts.
    days: list[DayToReconcile] = field(default_factory=list)
    complaints_overdue: int = 0
    # The market with the most overdue complaints: where the link goes.
    complaints_market_id: int | None = None
    vendors_pending: int = 0
    certs_expiring: int = 0
    certs: list[ExpiringCert] = field(default_factory=list)
    questions: int = 0

    @property
    def total(self) -> int:
        return (
            self.expenses
            + self.handovers
            + self.sessions_to_reconcile
            + self.complaints_overdue
            + self.vendors_pending
            + self.certs_expiring
            + self.questions
        )

    @property
    def empty(self) -> bool:
        return self.total == 0


def _count(statement) -> int:
    return db.session.scalar(statement) or 0


def expenses_waiting(org_id: int, user: User) -> int:
    return _count(
        select(func.count(Expense.id)).where(
            Expense.organization_id == org_id,
            Expense.state == ExpenseState.PENDING,
            Expense.recorded_by_id != user.id,
        )
    )


def handovers_waiting(org_id: int, user: User) -> int:
    return _count(
        select(func.count(CashHandover.id)).where(
            CashHandover.organization_id == org_id,
            CashHandover.state == HandoverState.PENDING,
            CashHandover.guide_id != user.id,
        )
    )


def _signed():
    return case((Payment.reverses_id.is_(None), Payment.amount_fen), else_=-Payment.amount_fen)


def _confirmed_sum(*methods):
    condition = Payment.status == PaymentStatus.CONFIRMED
    if methods:
        condition = condition & Payment.method.in_(methods)
    return func.coalesce(func.sum(case((condition, _signed()), else_=0)), 0)


def to_reconcile(org_id: int) -> tuple[int, int, list[DayToReconcile]]:
    """(closed sessions not reconciled, the days they fall on, the latest DAYS_SHOWN of those
    days with their amounts).

    The same money rules as sessions.takings: a reversal counts negative, a charge's unpaid
    part is never below zero, waivers settle without money."""
    per_charge = (
        select(
            CheckIn.session_id.label("session_id"),
            Charge.amount_fen.label("amount"),
            _confirmed_sum().label("settled"),
            _confirmed_sum(PaymentMethod.CASH, PaymentMethod.COLLECTION_CODE).label("money"),
        )
        .select_from(Charge)
        .join(CheckIn, CheckIn.id == Charge.checkin_id)
        .outerjoin(Payment, Payment.charge_id == Charge.id)
        .group_by(Charge.id, CheckIn.session_id, Charge.amount_fen)
        .subquery()
    )
    open_sessions = (
        select(MarketSession.id, MarketSession.business_date)
        .join(Market, Market.id == MarketSession.market_id)
        .outerjoin(SessionReconciliation, SessionReconciliation.session_id == MarketSession.id)
        .where(
            Market.organization_id == org_id,
            MarketSession.state == SessionState.CLOSED,
            SessionReconciliation.id.is_(None),
        )
        .subquery()
    )
    total, day_count = db.session.execute(
        select(func.count(), func.count(func.distinct(open_sessions.c.business_date))).select_from(
            open_sessions
        )
    ).one()
    if not total:
        return 0, 0, []
    unpaid = case(
        (per_charge.c.amount > per_charge.c.settled, per_charge.c.amount - per_charge.c.settled),
        else_=0,
    )
    rows = db.session.execute(
        select(
            open_sessions.c.business_date,
            func.count(func.distinct(open_sessions.c.id)),
            func.coalesce(func.sum(per_charge.c.amount), 0),
            func.coalesce(func.sum(per_charge.c.money), 0),
            func.coalesce(func.sum(unpaid), 0),
        )
        .outerjoin(per_charge, per_charge.c.session_id == open_sessions.c.id)
        .group_by(open_sessions.c.business_date)
        .order_by(open_sessions.c.business_date.desc())
        .limit(DAYS_SHOWN)
    ).all()
    days = [DayToReconcile(d, int(n), int(e), int(c), int(u)) for d, n, e, c, u in rows]
    return total, day_count, days


def complaints_overdue(org_id: int, at: datetime) -> tuple[int, int | None]:
    """(open complaints older than the promised answer time, the market with most of them)."""
    rows = db.session.execute(
        select(Complaint.market_id, func.count(Complaint.id))
        .join(Incident, Incident.id == Complaint.incident_id)
        .join(Market, Market.id == Complaint.market_id)
        .where(
            Market.organization_id == org_id,
            Incident.state == IncidentState.OPEN,
            Complaint.created_at <= at - HANDLED_WITHIN,
        )
        .group_by(Complaint.market_id)
        .order_by(func.count(Complaint.id).desc(), Complaint.market_id)
    ).all()
    return sum(n for _m, n in rows), (rows[0][0] if rows else None)


def vendors_pending(org_id: int) -> int:
    return _count(
        select(func.count(Vendor.id)).where(
            Vendor.organization_id == org_id, Vendor.status == VendorStatus.PENDING
        )
    )


def certs_expiring(org: Organization, at: datetime) -> tuple[int, list[ExpiringCert]]:
    """Approved food vendors whose certificate runs out today or within CERT_WARNING_DAYS
    (the expired ones cannot trade any more: the vendor page says so)."""
    today = org_today(org, at)
    condition = (
        (Vendor.organization_id == org.id)
        & (Vendor.status == VendorStatus.APPROVED)
        & Vendor.sells_food
        & Vendor.health_cert_expires.between(today, today + timedelta(days=CERT_WARNING_DAYS))
    )
    count = _count(select(func.count(Vendor.id)).where(condition))
    if not count:
        return 0, []
    rows = db.session.execute(
        select(Vendor.id, User.name, Vendor.health_cert_expires)
        .join(User, User.id == Vendor.user_id)
        .where(condition)
        .order_by(Vendor.health_cert_expires, Vendor.id)
        .limit(CERTS_SHOWN)
    ).all()
    return count, [ExpiringCert(*r) for r in rows]


def for_cadre(org: Organization, user: User, at: datetime) -> Todo:
    """What waits for `user` in `org` at `at`. The caller has checked that she manages it."""
    sessions_open, day_count, days = to_reconcile(org.id)
    overdue, complaints_market = complaints_overdue(org.id, at)
    certs_count, certs = certs_expiring(org, at)
    return Todo(
        organization_id=org.id,
        expenses=expenses_waiting(org.id, user),
        handovers=handovers_waiting(org.id, user),
        sessions_to_reconcile=sessions_open,
        days_to_reconcile=day_count,
        days=days,
        complaints_overdue=overdue,
        complaints_market_id=complaints_market,
        vendors_pending=vendors_pending(org.id),
        certs_expiring=certs_count,
        certs=certs,
        questions=questions.open_counts([org.id]).get(org.id, 0),
    )
