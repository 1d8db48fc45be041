"""Money follows the decision: an approved project's expenses go through the ledger's expense
flow (receipt photo, a second cadre above the threshold) charged to the project's account, never
beyond what is left of its approved budget. The fund's balance comes from the ledger: the
governance fund account (3101, the month closes' shares) plus the projects' accounts (3101-<id>,
their spending)."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ...extensions import db
from ...models import (
    Expense,
    ExpenseState,
    FundProject,
    LedgerAccount,
    LedgerLine,
    MonthClose,
    Organization,
    ProjectState,
    User,
)
from ..common.errors import Conflict, InvalidInput
from ..common.money import check_fen, yuan
from ..ledger import expenses as ledger_expenses
from . import decisions, projects


def committed_fen(project: FundProject) -> int:
    """Booked and waiting-for-approval expenses (a rejected one frees its amount)."""
    if project.account_id is None:
        return 0
    return db.session.scalar(
        select(func.coalesce(func.sum(Expense.amount_fen), 0)).where(
            Expense.account_id == project.account_id, Expense.state != ExpenseState.REJECTED
        )
    )


def project_expenses(project: FundProject) -> list[Expense]:
    if project.account_id is None:
        return []
    return list(
        db.session.scalars(
            select(Expense)
            .where(Expense.account_id == project.account_id)
            .order_by(Expense.spent_on, Expense.id)
        )
    )


def record_project_expense(
    project: FundProject,
    cadre: User,
    *,
    amount_fen,
    spent_on,
    description,
    paid_from,
    at,
    receipt=None,
    ip=None,
) -> Expense:
    """An expense charged to an approved project (Dr its account / Cr office cash or bank),
    refused above what is left of the budget: more needs a new deliberation."""
    projects.lock(project)  # two cadres spending at once: the second sees the first
    if project.state not in ProjectState.SPENDING:
        raise Conflict(
            _l("Only an approved project in progress can be spent on."), code="not_spendable"
        )
    check_fen(amount_fen, "amount")
    left = project.budget_fen - committed_fen(project)
    if isinstance(amount_fen, int) and amount_fen > left:
        raise InvalidInput(
            _l(
                "Only %(left)s of the approved budget is left: %(amount)s is refused. Spending "
                "more needs a new deliberation for the extra amount.",
                left=yuan(left),
                amount=yuan(amount_fen),
            ),
            code="over_budget",
            field="amount",
        )
    org = db.session.get(Organization, project.organization_id)
    account = decisions.open_account(project)
    expense = ledger_expenses.record_expense(
        org,
        cadre,
        account_id=account.id,
        amount_fen=amount_fen,
        spent_on=spent_on,
        description=description,
        paid_from=paid_from,
        receipt=receipt,
        at=at,
        ip=ip,
        fund_project=True,
    )
    if project.state == ProjectState.APPROVED:
        project.state = ProjectState.IN_PROGRESS
        project.updated_at = at
    return expense


@dataclass(frozen=True)
class FundBalance:
    shares_fen: int  # the month closes' shares booked into 3101
    spent_fen: int  # booked project spending
    reserved_fen: int  # approved budgets not yet spent (or waiting for approval)

    @property
    def balance_fen(self) -> int:
        return self.shares_fen - self.spent_fen

    @property
    def free_fen(self) -> int:
        return self.balance_fen - self.reserved_fen


def balance(organization_id: int) -> FundBalance:
    rows = db.session.execute(
        select(
            LedgerAccount.key,
            func.coalesce(func.sum(LedgerLine.credit_fen - LedgerLine.debit_fen), 0),
        )
        .join(LedgerLine, LedgerLine.account_id == LedgerAccount.id)
        .where(
            LedgerAccount.organization_id == organization_id,
            or_(
                LedgerAccount.key == "governance_fund",
                LedgerAccount.key.like("fund\\_project\\_%", escape="\\"),
            ),
        )
        .group_by(LedgerAccount.key)
    ).all()
    shares = sum(v for k, v in rows if k == "governance_fund")
    spent = -sum(v for k, v in rows if k != "governance_fund")
    reserved = 0
    for p in projects.projects_of(organization_id, ProjectState.SPENDING):
        reserved += max(p.budget_fen - committed_fen(p), 0)
    return FundBalance(shares, spent, reserved)


def month_shares(organization_id: int) -> list[MonthClose]:
    return list(
        db.session.scalars(
            select(MonthClose)
            .where(MonthClose.organization_id == organization_id)
            .order_by(MonthClose.month.desc())
        )
    )


def spent_by_project(organization_id: int) -> dict[int, int]:
    """Booked spending per project id (one query)."""
    rows = db.session.execute(
        select(FundProject.id, func.coalesce(func.sum(Expense.amount_fen), 0))
        .join(Expense, Expense.account_id == FundProject.account_id)
        .where(
            FundProject.organization_id == organization_id,
            Expense.state == ExpenseState.POSTED,
        )
        .group_by(FundProject.id)
    ).all()
    return dict(rows)
