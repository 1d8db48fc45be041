"""The dashboard's flags for every community of an area at once: one grouped statement per
rule, each reading only the rows its rule is about (the month, the unreconciled, the unhanded),
so that the page costs a few statements for the area however many communities it holds.

Each function returns {organization id: count}; communities without a hit are left out."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import (
    CashHandover,
    Charge,
    CheckIn,
    Complaint,
    Expense,
    ExpenseState,
    Incident,
    IncidentState,
    LedgerAccount,
    LedgerEntry,
    Market,
    MarketSession,
    MonthClose,
    Organization,
    Payment,
    PaymentMethod,
    PaymentStatus,
    SessionReconciliation,
    SessionState,
    Vendor,
)
from ..complaints import stats as complaint_stats
from ..ledger import checkpoints

Original = aliased(Payment)
Counts = dict[int, int]


def _grouped(query) -> Counts:
    return {org: n for org, n in db.session.execute(query).all() if n}


def unreconciled(org_ids: list[int], before: date) -> Counts:
    """Closed sessions of trading days before `before` that no cadre reconciled."""
    return _grouped(
        select(Market.organization_id, func.count())
        .select_from(MarketSession)
        .join(Market, Market.id == MarketSession.market_id)
        .where(
            Market.organization_id.in_(org_ids),
            MarketSession.state == SessionState.CLOSED,
            MarketSession.business_date < before,
            ~exists().where(SessionReconciliation.session_id == MarketSession.id),
        )
        .group_by(Market.organization_id)
    )


def cash_held(org_ids: list[int], taken_before: datetime) -> Counts:
    """Guides (per market) still holding cash, some of it taken before `taken_before`: the
    cash payments they took and the reversals of them, not yet in a hand-over, as
    handovers.cash_not_handed_over sums them."""
    guide = func.coalesce(Original.recorded_by_id, Payment.recorded_by_id)
    signed = case((Payment.reverses_id.is_not(None), -Payment.amount_fen), else_=Payment.amount_fen)
    rows = db.session.execute(
        select(Market.organization_id, func.sum(signed), func.min(Payment.recorded_at))
        .select_from(Payment)
        .outerjoin(Original, Payment.reverses_id == Original.id)
        .join(Charge, Payment.charge_id == Charge.id)
        .join(CheckIn, Charge.checkin_id == CheckIn.id)
        .join(Market, CheckIn.market_id == Market.id)
        .where(
            Market.organization_id.in_(org_ids),
            Payment.method == PaymentMethod.CASH,
            Payment.status == PaymentStatus.CONFIRMED,
            Payment.handover_id.is_(None),
        )
        .group_by(Market.organization_id, guide, CheckIn.market_id)
    ).all()
    out: Counts = defaultdict(int)
    for org, fen, oldest in rows:
        if fen and oldest is not None and _aware(oldest) < taken_before:
            out[org] += 1
    return dict(out)


def overdrawn(org_ids: list[int]) -> Counts:
    """Asset accounts (cash, bank, receivables) whose balance is below zero."""
    balances = checkpoints.balances_after(org_ids)
    out: Counts = defaultdict(int)
    for account_id, org in db.session.execute(
        select(LedgerAccount.id, LedgerAccount.organization_id).where(
            LedgerAccount.organization_id.in_(org_ids), LedgerAccount.kind == "asset"
        )
    ):
        if balances.get(org, {}).get(account_id, 0) < 0:
            out[org] += 1
    return dict(out)


def stale_books(org_ids: list[int]) -> Counts:
    """1 for a community whose trade closed on a day after its chain head's entry date."""
    last_trade = dict(
        db.session.execute(
            select(Market.organization_id, func.max(MarketSession.business_date))
            .join(Market, Market.id == MarketSession.market_id)
            .where(Market.organization_id.in_(org_ids), MarketSession.state == SessionState.CLOSED)
            .group_by(Market.organization_id)
        ).all()
    )
    # Each chain's head through the (organization, seq) index, read backwards: no scan.
    head = (
        select(LedgerEntry.entry_date)
        .where(LedgerEntry.organization_id == Organization.id)
        .order_by(LedgerEntry.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    head_date = dict(
        db.session.execute(select(Organization.id, head).where(Organization.id.in_(org_ids))).all()
    )
    return {
        org: 1
        for org, traded in last_trade.items()
        if traded is not None and (head_date.get(org) is None or head_date[org] < traded)
    }


def months_not_closed(org_ids: list[int], today: date, within_days: int) -> Counts:
    """Months of the last year with closed trade, ended more than `within_days` ago, with no
    month close."""
    since = (today - timedelta(days=365)).replace(day=1)
    traded = db.session.execute(
        select(Market.organization_id, MarketSession.business_date)
        .join(Market, Market.id == MarketSession.market_id)
        .where(
            Market.organization_id.in_(org_ids),
            MarketSession.business_date >= since,
            MarketSession.state == SessionState.CLOSED,
        )
        .distinct()
    ).all()
    closed = set(
        db.session.execute(
            select(MonthClose.organization_id, MonthClose.month).where(
                MonthClose.organization_id.in_(org_ids)
            )
        ).all()
    )
    due = today - timedelta(days=within_days)
    months = {(org, day.replace(day=1)) for org, day in traded}
    out: Counts = defaultdict(int)
    for org, month in months - closed:
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        if following - timedelta(days=1) < due:
            out[org] += 1
    return dict(out)


def handover_gaps(org_ids: list[int], first: date, last: date, limit_fen: int) -> Counts:
    """Hand-overs made in the month (UTC days, as they are stored) whose cash received differs
    from the cash declared by more than `limit_fen`."""
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    return _grouped(
        select(CashHandover.organization_id, func.count())
        .where(
            CashHandover.organization_id.in_(org_ids),
            CashHandover.received_fen.is_not(None),
            CashHandover.created_at >= start,
            CashHandover.created_at < end,
            func.abs(CashHandover.declared_fen - CashHandover.received_fen) > limit_fen,
        )
        .group_by(CashHandover.organization_id)
    )


def rejected(org_ids: list[int], first: date, last: date) -> Counts:
    return _grouped(
        select(Expense.organization_id, func.count())
        .where(
            Expense.organization_id.in_(org_ids),
            Expense.state == ExpenseState.REJECTED,
            Expense.spent_on.between(first, last),
        )
        .group_by(Expense.organization_id)
    )


def expired_certificates(org_ids: list[int], first: date, last: date) -> Counts:
    """Food vendors who checked in on a day after their health certificate expired."""
    return _grouped(
        select(Market.organization_id, func.count(func.distinct(CheckIn.vendor_id)))
        .select_from(CheckIn)
        .join(MarketSession, MarketSession.id == CheckIn.session_id)
        .join(Market, Market.id == CheckIn.market_id)
        .join(Vendor, Vendor.id == CheckIn.vendor_id)
        .where(
            Market.organization_id.in_(org_ids),
            MarketSession.business_date.between(first, last),
            Vendor.sells_food.is_(True),
            Vendor.health_cert_expires < MarketSession.business_date,
        )
        .group_by(Market.organization_id)
    )


def late_complaints(org_ids: list[int], now: datetime) -> Counts:
    return _grouped(
        select(Market.organization_id, func.count())
        .select_from(Complaint)
        .join(Incident, Incident.id == Complaint.incident_id)
        .join(Market, Market.id == Complaint.market_id)
        .where(
            Market.organization_id.in_(org_ids),
            Incident.state != IncidentState.RESOLVED,
            Complaint.created_at < now - complaint_stats.HANDLED_WITHIN,
        )
        .group_by(Market.organization_id)
    )


def mutual_approvals(org_ids: list[int], first: date, last: date) -> Counts:
    """Pairs of cadres who approved each other's expenses in the month while nobody else
    approved either's: four eyes that are really two."""
    approvals = db.session.execute(
        select(Expense.organization_id, Expense.recorded_by_id, Expense.approved_by_id)
        .where(
            Expense.organization_id.in_(org_ids),
            Expense.approved_by_id.is_not(None),
            Expense.spent_on.between(first, last),
        )
        .distinct()
    ).all()
    approvers: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for org, recorder, approver in approvals:
        approvers[org][recorder].add(approver)
    out = {}
    for org, by_recorder in approvers.items():
        pairs = {
            frozenset((a, b))
            for a, by in by_recorder.items()
            for b in by
            if by == {b} and by_recorder.get(b) == {a}
        }
        if pairs:
            out[org] = len(pairs)
    return out


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
