from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..auth.decorators import roles_required
from ..extensions import db
from ..formtools import attach_error, submit
from ..models import (
    ExpenseState,
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    MarketSession,
    Organization,
    Role,
)
from ..queryargs import page_arg
from ..services.auth import access
from ..services.common import uploads
from ..services.common.clock import now
from ..services.common.errors import DomainError, NotFound
from ..services.common.money import parse_yuan, yuan
from ..services.ledger import entries as ledger
from ..services.ledger import expenses as ledger_expenses
from ..services.ledger import operations as ledger_operations
from ..services.ledger import periods as ledger_periods
from ..services.sessions import tide as sessions
from ..services.sessions.takings import session_takings
from . import bp
from .forms import (
    AccountForm,
    ActionForm,
    ApproveForm,
    ExpenseForm,
    MonthCloseForm,
    RejectForm,
)

ID = "int(max=2147483647)"
JOURNAL_SIZE = 50
SOURCE_LABELS = {
    "payment": _l("Payment"),
    "session-close": _l("Session close"),
    "session-reopen": _l("Session reopened"),
    "handover": _l("Cash hand-over"),
    "expense": _l("Expense"),
    "month-close": _l("Month close"),
    "manual": _l("Entry by a cadre"),
}
OPS = ledger_operations
MISMATCH_LABELS = {
    OPS.OVERPAID: _l("paid more than its amount"),
    OPS.NEGATIVE: _l("more reversed than was paid"),
    OPS.UNSETTLED: _l("session ended, neither settled nor a receivable"),
    OPS.POSTING_MISSING: _l("no ledger posting"),
    OPS.POSTING_AMOUNT: _l("ledger posting with another amount"),
    OPS.POSTING_DUPLICATE: _l("more than one ledger posting"),
    OPS.POSTING_UNEXPECTED: _l("ledger posting for an unconfirmed operation"),
    OPS.POSTING_ORPHAN: _l("ledger posting without its operation"),
    OPS.CLOSE_MISSING: _l("no close posting"),
    OPS.CLOSE_RELIEF: _l("close posting with other relief"),
    OPS.RECEIVABLES: _l("receivables differ from what its charges owe"),
    OPS.GUIDE_CASH: _l("cash account differs from cash taken minus handed over"),
    OPS.GOVERNANCE_FUND: _l("governance fund differs from the month closes"),
}
SUBJECT_LABELS = {
    "charge": _l("Charge"),
    "payment": _l("Payment"),
    "waiver": _l("Waiver"),
    "void": _l("Void"),
    "handover": _l("Cash hand-over"),
    "session": _l("Session"),
    "guide": _l("Cash account of user"),
    "organization": _l("Organization"),
    "entry": _l("Ledger entry"),
}


def mismatch_value(mismatch, value) -> str:
    """A side of a mismatch as the page shows it: yuan, a number of postings, or none."""
    if value is None:
        return _("none")
    return str(value) if mismatch.unit == "count" else yuan(value)


def _me():
    return current_user._get_current_object()


def _org(org_id: int) -> Organization:
    """Reads: the cadres and the area's supervisors; writes: the cadres only."""
    if request.method in ("GET", "HEAD"):
        return access.organization_for_reader(current_user, org_id)
    return ledger.organization_for_cadre(current_user, org_id)


def source_label(entry: LedgerEntry) -> str:
    kind, _sep, ref = entry.source_key.partition(":")
    label = SOURCE_LABELS.get(kind)
    if not label:
        return entry.source_key
    return f"{label} #{ref}" if ref.isdigit() else f"{label} {ref}"  # "支出 #2", "月结 2026-11"


@bp.route("/")
@roles_required(*Role.READERS)
def index():
    org_ids = sorted(access.readable_organization_ids(current_user))
    if len(org_ids) == 1:
        return redirect(url_for(".overview", org_id=org_ids[0]))
    orgs = db.session.scalars(select(Organization).where(Organization.id.in_(org_ids))).all()
    return render_template("ledger/index.html", organizations=orgs)


@bp.route(f"/<{ID}:org_id>/")
@roles_required(*Role.READERS)
def overview(org_id):
    org = _org(org_id)
    ledger.ensure_chart(org)
    accounts = ledger.accounts_of(org.id)
    head = ledger.chain_head(org.id)
    pages = max(1, -(-(head.seq if head else 0) // JOURNAL_SIZE))  # seq counts the entries
    page = min(page_arg(), pages)
    journal = db.session.scalars(
        ledger.entries_query(org.id)
        .options(selectinload(LedgerEntry.lines).selectinload(LedgerLine.account))
        .offset((page - 1) * JOURNAL_SIZE)
        .limit(JOURNAL_SIZE)
    ).all()
    return render_template(
        "ledger/overview.html",
        org=org,
        result=ledger.verify(org.id),
        head=head,
        page=page,
        pages=pages,
        accounts=accounts,
        balances=ledger.balances(org.id),
        overdrawn=ledger.overdrawn(org.id),
        journal=journal,
        label=ledger.account_label,
        kind_labels=ledger.KIND_LABELS,
        source_label=source_label,
        # On demand (a link): it reads every charge and payment of the organization.
        operations=(
            ledger_operations.verify_operations(org.id) if request.args.get("operations") else None
        ),
        mismatch_labels=MISMATCH_LABELS,
        subject_labels=SUBJECT_LABELS,
        mismatch_value=mismatch_value,
    )


# --- accounts --------------------------------------------------------------------------------


def _accounts_context(org):
    accounts = ledger.accounts_of(org.id)
    return {
        "org": org,
        "accounts": accounts,
        "used": {a.id for a in accounts if ledger.account_used(a)},
        "label": ledger.account_label,
        "kind_labels": ledger.KIND_LABELS,
        "action_form": ActionForm(),
    }


@bp.route(f"/<{ID}:org_id>/accounts", methods=["GET", "POST"])
@roles_required(*Role.READERS)
def accounts(org_id):
    org = _org(org_id)
    form = AccountForm()

    def run():
        ledger.add_account(
            org, form.code.data, form.name.data, form.kind.data, _me(), ip=request.remote_addr
        )
        flash(_("Account added."), "success")
        return url_for(".accounts", org_id=org.id)

    return submit(form, run, "ledger/accounts.html", **_accounts_context(org))


@bp.route(f"/accounts/<{ID}:account_id>/active", methods=["POST"])
@roles_required(*Role.MANAGERS)
def account_active(account_id):
    acc = db.session.get(LedgerAccount, account_id)
    org = _org(acc.organization_id if acc else 0)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            ledger.set_account_active(acc, not acc.is_active, _me(), ip=request.remote_addr)
        except DomainError as e:
            db.session.rollback()
            flash(str(e.message), "error")
        else:
            db.session.commit()
    return redirect(url_for(".accounts", org_id=org.id))


# --- expenses --------------------------------------------------------------------------------


def _expense_form(org, form=None):
    form = form or ExpenseForm()
    form.account_id.choices = [
        SelectChoice(a.id, ledger.account_label(a))
        for a in ledger_expenses.expense_accounts(org.id)
    ]
    return form


def _warn_if_overdrawn(org_id: int) -> None:
    for acc, fen in ledger.overdrawn(org_id):
        flash(
            _(
                "%(account)s is now below zero (%(amount)s): check for a missing hand-over "
                "or deposit.",
                account=ledger.account_label(acc),
                amount=yuan(fen),
            ),
            "error",
        )


def _expenses_context(org, approve_form=None, approve_id=None):
    pending = ledger_expenses.expenses_of(org.id, ExpenseState.PENDING)
    balances = ledger.balances(org.id)
    me = current_user.id
    return {
        "org": org,
        "pending": pending,
        # Before approving: the paying account's balance now and after; who else may approve.
        "paying": {e.id: ledger_expenses.paying_balance(e, balances) for e in pending},
        "approvers": {
            e.id: ledger_expenses.approvers(e) for e in pending if e.recorded_by_id == me
        },
        "me_id": me,
        "approve_form": lambda expense_id: (
            approve_form
            if approve_form is not None and approve_id == expense_id
            else ApproveForm(prefix=f"a{expense_id}", formdata=None)
        ),
        "posted": ledger_expenses.expenses_of(org.id, ExpenseState.POSTED, limit=20),
        "rejected": ledger_expenses.expenses_of(org.id, ExpenseState.REJECTED, limit=10),
        "label": ledger.account_label,
        "paid_from_labels": ledger_expenses.PAID_FROM_LABELS,
        "action_form": ActionForm(),
        "reject_forms": {},
        "reject_form": lambda expense_id: RejectForm(prefix=f"x{expense_id}"),
        "threshold_fen": org.expense_approval_threshold_fen,
    }


@bp.route(f"/<{ID}:org_id>/expenses", methods=["GET", "POST"])
@roles_required(*Role.READERS)
def expenses(org_id):
    org = _org(org_id)
    form = _expense_form(org)

    def run():
        upload = form.receipt.data
        receipt = upload.stream if upload and getattr(upload, "filename", "") else None
        expense = ledger_expenses.record_expense(
            org,
            _me(),
            account_id=form.account_id.data,
            amount_fen=parse_yuan(form.amount.data),
            spent_on=form.spent_on.data,
            description=form.description.data,
            paid_from=form.paid_from.data,
            receipt=receipt,
            at=now(),
            ip=request.remote_addr,
        )
        if expense.state == ExpenseState.PENDING:
            flash(_("Recorded. Another cadre must approve it before it is booked."), "success")
        else:
            flash(_("Expense booked in the ledger."), "success")
            _warn_if_overdrawn(org.id)
        return url_for(".expenses", org_id=org.id)

    return submit(
        form,
        run,
        "ledger/expenses.html",
        field_map={"date": "spent_on", "account": "account_id"},
        **_expenses_context(org),
    )


@bp.route(f"/expenses/<{ID}:expense_id>/approve", methods=["POST"])
@roles_required(*Role.MANAGERS)
def approve_expense(expense_id):
    expense = ledger_expenses.expense_for_cadre(current_user, expense_id)
    org_id = expense.organization_id
    form = ApproveForm(prefix=f"a{expense_id}")
    try:
        ledger_expenses.approve_expense(
            expense,
            _me(),
            at=now(),
            ip=request.remote_addr,
            acknowledge_negative=bool(form.acknowledge_negative.data),
        )
    except DomainError as e:
        db.session.rollback()
        org = _org(org_id)
        return render_template(
            "ledger/expenses.html",
            form=_expense_form(org),
            approve_errors={expense_id: str(e.message)},
            **_expenses_context(org, form, expense_id),
        ), e.status
    db.session.commit()
    flash(_("Expense approved and booked."), "success")
    _warn_if_overdrawn(org_id)
    return redirect(url_for(".expenses", org_id=org_id))


@bp.route(f"/expenses/<{ID}:expense_id>/reject", methods=["POST"])
@roles_required(*Role.MANAGERS)
def reject_expense(expense_id):
    expense = ledger_expenses.expense_for_cadre(current_user, expense_id)
    org = _org(expense.organization_id)
    form = RejectForm(prefix=f"x{expense.id}")
    if not form.validate_on_submit():
        return redirect(url_for(".expenses", org_id=org.id))
    try:
        ledger_expenses.reject_expense(
            expense, _me(), form.reason.data, at=now(), ip=request.remote_addr
        )
    except DomainError as e:
        db.session.rollback()
        attach_error(form, e)
        context = _expenses_context(org)
        context["reject_forms"] = {expense_id: form}
        return render_template("ledger/expenses.html", form=_expense_form(org), **context), e.status
    db.session.commit()
    flash(_("Expense rejected: it will not be booked."), "success")
    return redirect(url_for(".expenses", org_id=org.id))


@bp.route(f"/expenses/<{ID}:expense_id>/receipt")
@roles_required(*Role.READERS)
def receipt(expense_id):
    expense = ledger_expenses.expense_for_reader(current_user, expense_id)
    path = uploads.stored_path(ledger_expenses.receipts_dir(), expense.receipt_photo)
    if path is None:
        raise NotFound()
    return send_file(path, max_age=0)


# --- periods ---------------------------------------------------------------------------------


def _periods_context(org, month_form=None):
    month_form = month_form or MonthCloseForm()
    closable = ledger_periods.closable_months(org, now())
    month_form.month.choices = [
        SelectChoice(m.strftime("%Y-%m"), m.strftime("%Y-%m")) for m in closable
    ]
    # What the close will book, computed as the close computes it, shown inside the step.
    previews = [ledger_periods.close_figures(org, m) for m in closable]
    if previews:
        month_form.figures.data = previews[0].key
    unreconciled = ledger_periods.unreconciled_sessions(org.id)
    # A closed month keeps its expense categories by the accounts' stored names; shown in the
    # page's language where the account is a system one.
    names = {a.name: ledger.account_label(a) for a in ledger.accounts_of(org.id)}
    return {
        "org": org,
        "category_label": lambda name: names.get(name, name),
        "month_form": month_form,
        "action_form": ActionForm(),
        "unreconciled": unreconciled,
        "takings": {s.id: session_takings(s) for s in unreconciled},
        "previews": previews,
        "closed": ledger.closed_months(org.id),
        "session_label": session_label,
    }


@bp.route(f"/<{ID}:org_id>/periods")
@roles_required(*Role.READERS)
def periods(org_id):
    org = _org(org_id)
    return render_template("ledger/periods.html", form=None, **_periods_context(org))


@bp.route(f"/<{ID}:org_id>/months", methods=["POST"])
@roles_required(*Role.MANAGERS)
def close_month(org_id):
    org = _org(org_id)
    form = MonthCloseForm()
    shown = form.figures.data or None  # what the step showed; the page shows today's figures
    context = _periods_context(org, form)
    context.pop("month_form")

    def run():
        month = ledger_periods.parse_month(form.month.data)
        close = ledger_periods.close_month(
            org, month, _me(), at=now(), ip=request.remote_addr, shown=shown
        )
        flash(_("%(month)s closed.", month=close.month.strftime("%Y-%m")), "success")
        return url_for(".periods", org_id=org.id)

    return submit(form, run, "ledger/periods.html", month_form=form, **context)


@bp.route(f"/sessions/<{ID}:session_id>/reconcile", methods=["POST"])
@roles_required(*Role.MANAGERS)
def reconcile(session_id):
    session = sessions.session_for_manager(current_user, session_id)
    org_id = session.market.organization_id
    form = ActionForm()
    if form.validate_on_submit():
        try:
            ledger_periods.reconcile_session(session, _me(), at=now(), ip=request.remote_addr)
        except DomainError as e:
            db.session.rollback()
            org = _org(org_id)
            context = _periods_context(org)
            attach_error(context["action_form"], e)
            return render_template(
                "ledger/periods.html", form=context["action_form"], **context
            ), e.status
        db.session.commit()
        flash(_("Session reconciled."), "success")
    return redirect(url_for(".periods", org_id=org_id))


def session_label(session: MarketSession) -> str:
    return f"{session.business_date.isoformat()} {session.market.name}"
