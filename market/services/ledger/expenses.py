"""Expenses a cadre records: an expense account, an amount, paid from office cash or the bank,
with a receipt photo. Up to the organization's threshold it posts at once; above it the
receipt is required and a second cadre must approve before anything is posted (the one who
recorded it may not approve it)."""

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Expense, ExpenseState, LedgerAccount, Organization, Role, RoleGrant, User
from ..auth import access
from ..common import audit, uploads
from ..common.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..common.money import check_fen, yuan
from . import entries as ledger
from .entries import Line

MAX_AGE = ledger.MAX_AGE  # the window of a cadre's own entries
PAID_FROM = {"office_cash": "office_cash", "bank": "bank"}
PAID_FROM_LABELS = {"office_cash": _l("Office cash"), "bank": _l("Bank")}


def receipts_dir():
    return uploads.uploads_dir() / "receipts"


def expense_accounts(organization_id: int) -> list[LedgerAccount]:
    return [
        a
        for a in ledger.accounts_of(organization_id)
        if a.kind == "expense" and a.is_active and a.key != "over_short"
    ]


def _chargeable(acc: LedgerAccount | None, org: Organization, fund_project: bool) -> bool:
    """An active expense account of the organization; with `fund_project` (the governance
    fund's projects, services.fund.money) the project's own account under 3101 instead."""
    if acc is None or acc.organization_id != org.id or not acc.is_active:
        return False
    if fund_project:
        return (acc.key or "").startswith("fund_project_")
    return acc.kind == "expense"


def _validate(
    org: Organization,
    account_id,
    amount_fen,
    spent_on,
    description,
    paid_from,
    at,
    fund_project: bool = False,
):
    acc = db.session.get(LedgerAccount, account_id) if isinstance(account_id, int) else None
    if not _chargeable(acc, org, fund_project):
        raise InvalidInput(
            _l("Choose an expense account of this community."),
            code="invalid_account",
            field="account",
        )
    check_fen(amount_fen, "amount")
    if amount_fen <= 0:
        raise InvalidInput(
            _l("Enter an amount above zero."), code="negative_amount", field="amount"
        )
    description = (description or "").strip()[:200]
    if not description:
        raise InvalidInput(
            _l("Say what the money was spent on."), code="description_required", field="description"
        )
    if paid_from not in PAID_FROM:
        raise InvalidInput(
            _l("Choose office cash or the bank."), code="invalid_paid_from", field="paid_from"
        )
    if not isinstance(spent_on, date):
        raise InvalidInput(_l("Give the date of the expense."), code="invalid_date", field="date")
    today = ledger.org_today(org, at)
    if spent_on > today:
        raise InvalidInput(
            _l("The date of an expense cannot be in the future."), code="future_date", field="date"
        )
    if spent_on < today - MAX_AGE:
        raise InvalidInput(
            _l("The date of an expense can be at most a year back."),
            code="date_too_old",
            field="date",
        )
    ledger.check_open(org.id, spent_on)
    return acc, description


def record_expense(
    org: Organization,
    cadre: User,
    *,
    account_id,
    amount_fen,
    spent_on,
    description,
    paid_from,
    receipt=None,
    at: datetime,
    ip=None,
    fund_project: bool = False,
) -> Expense:
    """`receipt`: a file-like image or None. Everything is checked before anything is
    written; above the threshold the expense waits for a second cadre. `fund_project`: the
    account is a governance fund project's (only services.fund.money, which checks its
    budget, passes it)."""
    if not access.has_org_role(cadre, org.id, Role.MANAGERS):
        raise Forbidden()
    acc, description = _validate(
        org, account_id, amount_fen, spent_on, description, paid_from, at, fund_project
    )
    needs_approval = amount_fen > org.expense_approval_threshold_fen
    if needs_approval and receipt is None:
        raise InvalidInput(
            _l(
                "Expenses above %(limit)s need a photo of the receipt.",
                limit=yuan(org.expense_approval_threshold_fen),
            ),
            code="receipt_required",
            field="receipt",
        )
    photo = uploads.save_image(receipt, receipts_dir(), field="receipt") if receipt else None
    expense = Expense(
        organization_id=org.id,
        account_id=acc.id,
        amount_fen=amount_fen,
        spent_on=spent_on,
        description=description,
        paid_from=paid_from,
        receipt_photo=photo,
        state=ExpenseState.PENDING,
        recorded_by_id=cadre.id,
        created_at=at,
    )
    db.session.add(expense)
    db.session.flush()
    audit.record(
        "ledger.expense_recorded",
        expense,
        actor=cadre,
        organization_id=org.id,
        ip=ip,
        amount_fen=amount_fen,
        needs_approval=needs_approval,
    )
    if not needs_approval:
        _post(expense, cadre)
    return expense


def _post(expense: Expense, actor: User) -> None:
    org_id = expense.organization_id
    memo = f"#{expense.id}"
    entry = ledger.post(
        org_id,
        expense.spent_on,
        f"支出 {expense.account.name}：{expense.description}",
        f"expense:{expense.id}",
        [
            Line(expense.account, debit_fen=expense.amount_fen, memo=memo),
            Line(
                ledger.account(org_id, PAID_FROM[expense.paid_from]),
                credit_fen=expense.amount_fen,
                memo=memo,
            ),
        ],
        actor=actor,
    )
    expense.entry_id = entry.id
    expense.state = ExpenseState.POSTED


@dataclass(frozen=True)
class PayingBalance:
    """The account an expense is paid from, its balance now and after the expense is booked."""

    account: LedgerAccount
    before_fen: int
    after_fen: int

    @property
    def goes_below_zero(self) -> bool:
        return self.after_fen < 0


def paying_balance(expense: Expense, balances: dict[int, int] | None = None) -> PayingBalance:
    """What approving does to the paying account (office cash or the bank). `balances`: the
    organization's balances when the caller already has them (a page of pending expenses)."""
    acc = ledger.account(expense.organization_id, PAID_FROM[expense.paid_from])
    if balances is None:
        balances = ledger.balances(expense.organization_id)
    before = balances.get(acc.id, 0)
    return PayingBalance(acc, before, before - expense.amount_fen)


def approvers(expense: Expense) -> list[User]:
    """Who may approve it: the organization's other active cadres and admins."""
    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.organization_id == expense.organization_id,
                RoleGrant.role.in_(Role.MANAGERS),
                User.id != expense.recorded_by_id,
                User.is_active_flag.is_(True),
            )
            .distinct()
            .order_by(User.name, User.id)
        )
    )


def approve_expense(
    expense: Expense,
    cadre: User,
    *,
    at: datetime,
    ip=None,
    acknowledge_negative: bool = False,
) -> Expense:
    """The second cadre's approval posts the expense. When it would take the paying account
    below zero, the cadre must have seen that and said so (`acknowledge_negative`)."""
    if not access.has_org_role(cadre, expense.organization_id, Role.MANAGERS):
        raise Forbidden()
    if expense.recorded_by_id == cadre.id:
        raise Forbidden(
            _l("Another cadre must approve an expense you recorded."), code="self_approval"
        )
    if expense.state == ExpenseState.REJECTED:
        raise Conflict(_l("This expense was rejected."), code="expense_rejected")
    if expense.state != ExpenseState.PENDING:
        raise Conflict(_l("This expense is already approved."), code="already_approved")
    ledger.check_open(expense.organization_id, expense.spent_on)
    # The balance decided on must be the one booked against: no posting slips in between.
    ledger.lock_chain(expense.organization_id)
    paying = paying_balance(expense)
    if paying.goes_below_zero and not acknowledge_negative:
        raise InvalidInput(
            _l(
                "Approving takes %(account)s from %(before)s to %(after)s, below zero: check "
                "for a missing hand-over or deposit, then tick the box to approve anyway.",
                account=ledger.account_label(paying.account),
                before=yuan(paying.before_fen),
                after=yuan(paying.after_fen),
            ),
            code="negative_balance_unacknowledged",
            field="acknowledge_negative",
        )
    expense.approved_by_id = cadre.id
    expense.approved_at = at
    _post(expense, cadre)
    audit.record(
        "ledger.expense_approved",
        expense,
        actor=cadre,
        organization_id=expense.organization_id,
        ip=ip,
        amount_fen=expense.amount_fen,
        balance_before_fen=paying.before_fen,
        balance_after_fen=paying.after_fen,
        below_zero_acknowledged=paying.goes_below_zero,
    )
    return expense


def reject_expense(expense: Expense, cadre: User, reason: str, *, at: datetime, ip=None):
    """A cadre turns down a pending expense, saying why (or its recorder withdraws it): it is
    never posted, and stays listed with the reason."""
    if not access.has_org_role(cadre, expense.organization_id, Role.MANAGERS):
        raise Forbidden()
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 200:
        raise InvalidInput(
            _l("Say in up to 200 characters why the expense is rejected."),
            code="reason_required",
            field="reason",
        )
    if expense.state != ExpenseState.PENDING:
        raise Conflict(
            _l("Only an expense waiting for approval can be rejected."), code="not_pending"
        )
    expense.state = ExpenseState.REJECTED
    expense.rejected_by_id, expense.rejected_at, expense.rejection_reason = cadre.id, at, reason
    audit.record(
        "ledger.expense_rejected",
        expense,
        actor=cadre,
        organization_id=expense.organization_id,
        ip=ip,
        amount_fen=expense.amount_fen,
        reason=reason,
    )
    return expense


def expense_for_reader(user: User, expense_id: int) -> Expense:
    """Its cadres, and the supervisors of its area (the receipt is what they check)."""
    expense = db.session.get(Expense, expense_id)
    if expense is None or not access.can_read_org(user, expense.organization_id):
        raise NotFound()
    return expense


def expense_for_cadre(user: User, expense_id: int) -> Expense:
    expense = db.session.get(Expense, expense_id)
    if expense is None or not access.has_org_role(user, expense.organization_id, Role.MANAGERS):
        raise NotFound()
    return expense


def expenses_of(organization_id: int, state: str | None = None, limit: int = 50) -> list[Expense]:
    # The page names each expense's account, recorder and rejecter: load them in three reads,
    # not three per row.
    query = (
        select(Expense)
        .where(Expense.organization_id == organization_id)
        .options(
            selectinload(Expense.account),
            selectinload(Expense.recorded_by),
            selectinload(Expense.rejected_by),
        )
    )
    if state:
        query = query.where(Expense.state == state)
    # By the day of the expense (a bill can be recorded days later), newest first.
    order = (Expense.spent_on.desc(), Expense.id.desc())
    return list(db.session.scalars(query.order_by(*order).limit(limit)))
