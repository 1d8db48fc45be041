"""Expenses a cadre records: an expense account, an amount, paid from office cash or the bank,
with a receipt photo. Up to the organization's threshold it posts at once; above it the
receipt is required and a second cadre must approve before anything is posted (the one who
recorded it may not approve it)."""

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Expense, ExpenseState, LedgerAccount, Organization, Role, User
from . import access, audit, ledger, uploads
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .ledger import Line
from .money import yuan

MAX_AGE = timedelta(days=366)  # an older bill belongs to books long since closed
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


def _validate(org: Organization, account_id, amount_fen, spent_on, description, paid_from, at):
    acc = db.session.get(LedgerAccount, account_id) if isinstance(account_id, int) else None
    if acc is None or acc.organization_id != org.id or acc.kind != "expense" or not acc.is_active:
        raise InvalidInput(
            _l("Choose an expense account of this community."),
            code="invalid_account",
            field="account",
        )
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise InvalidInput(_l("Amounts are whole fen."), code="invalid_amount", field="amount")
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
) -> Expense:
    """`receipt`: a file-like image or None. Everything is checked before anything is
    written; above the threshold the expense waits for a second cadre."""
    if not access.has_org_role(cadre, org.id, Role.MANAGERS):
        raise Forbidden()
    acc, description = _validate(org, account_id, amount_fen, spent_on, description, paid_from, at)
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


def approve_expense(expense: Expense, cadre: User, *, at: datetime, ip=None) -> Expense:
    """The second cadre's approval posts the expense."""
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


def expense_for_cadre(user: User, expense_id: int) -> Expense:
    expense = db.session.get(Expense, expense_id)
    if expense is None or not access.has_org_role(user, expense.organization_id, Role.MANAGERS):
        raise NotFound()
    return expense


def expenses_of(organization_id: int, state: str | None = None, limit: int = 50) -> list[Expense]:
    query = select(Expense).where(Expense.organization_id == organization_id)
    if state:
        query = query.where(Expense.state == state)
    # By the day of the expense (a bill can be recorded days later), newest first.
    order = (Expense.spent_on.desc(), Expense.id.desc())
    return list(db.session.scalars(query.order_by(*order).limit(limit)))
