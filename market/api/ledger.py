"""API operations of the community income ledger, for cadres of the organization: accounts
with balances, the journal, the verify status, manual entries, expenses and month close."""

import marshmallow as ma
from flask import g, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Expense, LedgerAccount, LedgerEntry, LedgerLine, MonthClose
from ..services.common.clock import now
from ..services.common.money import MAX_FEN
from ..services.ledger import entries as ledger
from ..services.ledger import expenses as ledger_expenses
from ..services.ledger import periods as ledger_periods
from . import bp
from .common import errors, managers_only, page_of
from .routes import BEARER, MAX_ID
from .schemas import ID_RANGE, PageArgsSchema, PageSchema, ReasonSchema, fen_range

ORG = f"/organizations/<{MAX_ID}:org_id>/ledger"


# --- shapes ----------------------------------------------------------------------------------


class AccountSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    key = ma.fields.String(allow_none=True, metadata={"description": "system account key"})
    guide_user_id = ma.fields.Integer(allow_none=True)
    is_active = ma.fields.Boolean(required=True)
    balance_fen = ma.fields.Integer(
        required=True, metadata={"description": "on the normal side of its kind"}
    )


class AccountPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(AccountSchema), required=True)


class LineSchema(ma.Schema):
    account_id = ma.fields.Integer(required=True, strict=True, validate=ID_RANGE)
    debit_fen = ma.fields.Integer(load_default=0, strict=True, validate=fen_range())
    credit_fen = ma.fields.Integer(load_default=0, strict=True, validate=fen_range())
    memo = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))


class LineOutSchema(LineSchema):
    account_code = ma.fields.String(required=True)


class EntrySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    seq = ma.fields.Integer(required=True)
    entry_date = ma.fields.Date(required=True)
    description = ma.fields.String(required=True)
    source_key = ma.fields.String(required=True)
    reverses_id = ma.fields.Integer(allow_none=True)
    prev_hash = ma.fields.String(allow_none=True)
    entry_hash = ma.fields.String(required=True)
    posted_at = ma.fields.DateTime(required=True)
    lines = ma.fields.List(ma.fields.Nested(LineOutSchema), required=True)


class EntryPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(EntrySchema), required=True)


class ManualEntrySchema(ma.Schema):
    entry_date = ma.fields.Date(required=True)
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    lines = ma.fields.List(
        ma.fields.Nested(LineSchema), required=True, validate=ma.validate.Length(min=1, max=50)
    )


class HeadSchema(ma.Schema):
    seq = ma.fields.Integer(required=True)
    entry_hash = ma.fields.String(required=True)
    posted_at = ma.fields.DateTime(required=True)


class BadEntrySchema(ma.Schema):
    organization_id = ma.fields.Integer(required=True)
    seq = ma.fields.Integer(required=True)
    entry_id = ma.fields.Integer(required=True)
    reason = ma.fields.String(required=True)


class VerifySchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
    entries_checked = ma.fields.Integer(required=True)
    first_bad = ma.fields.Nested(BadEntrySchema, allow_none=True)
    message = ma.fields.String(required=True)
    head = ma.fields.Nested(HeadSchema, allow_none=True)


class ExpenseFormSchema(ma.Schema):
    account_id = ma.fields.Integer(required=True, validate=ID_RANGE)
    amount_fen = ma.fields.Integer(required=True, strict=False, validate=fen_range())
    spent_on = ma.fields.Date(required=True)
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    paid_from = ma.fields.String(required=True, validate=ma.validate.OneOf(("office_cash", "bank")))


class ExpenseFilesSchema(ma.Schema):
    receipt = ma.fields.Raw(metadata={"type": "string", "format": "binary"})


class ExpenseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    account_id = ma.fields.Integer(required=True)
    amount_fen = ma.fields.Integer(required=True)
    spent_on = ma.fields.Date(required=True)
    description = ma.fields.String(required=True)
    paid_from = ma.fields.String(required=True)
    has_receipt = ma.fields.Boolean(required=True)
    state = ma.fields.String(required=True, metadata={"description": "pending, posted or rejected"})
    recorded_by_id = ma.fields.Integer(required=True)
    approved_by_id = ma.fields.Integer(allow_none=True)
    entry_id = ma.fields.Integer(allow_none=True)
    rejected_by_id = ma.fields.Integer(allow_none=True)
    rejection_reason = ma.fields.String(allow_none=True)


class ApproveSchema(ma.Schema):
    acknowledge_negative_balance = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "required (true) when approving takes the paying account below zero"
        },
    )


class MonthCloseRequestSchema(ma.Schema):
    month = ma.fields.String(required=True, metadata={"example": "2026-10"})


class MonthCloseSchema(ma.Schema):
    month = ma.fields.Date(required=True, metadata={"description": "first day of the month"})
    fee_income_fen = ma.fields.Integer(required=True)
    relief_fen = ma.fields.Integer(required=True)
    expenses_fen = ma.fields.Integer(required=True)
    expenses_by_category = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), required=True
    )
    net_income_fen = ma.fields.Integer(required=True)
    governance_pct = ma.fields.Integer(required=True)
    governance_fund_fen = ma.fields.Integer(required=True)
    distributable_fen = ma.fields.Integer(required=True)
    entry_id = ma.fields.Integer(allow_none=True)
    closed_at = ma.fields.DateTime(required=True)
    closed_by_id = ma.fields.Integer(required=True)


# --- helpers ---------------------------------------------------------------------------------


def _org(org_id: int):
    return ledger.organization_for_cadre(g.api_user, org_id)


def entry_out(e: LedgerEntry) -> dict:
    return {
        "id": e.id,
        "seq": e.seq,
        "entry_date": e.entry_date,
        "description": e.description,
        "source_key": e.source_key,
        "reverses_id": e.reverses_id,
        "prev_hash": e.prev_hash,
        "entry_hash": e.entry_hash,
        "posted_at": e.posted_at,
        "lines": [
            {
                "account_id": ln.account_id,
                "account_code": ln.account.code,
                "debit_fen": ln.debit_fen,
                "credit_fen": ln.credit_fen,
                "memo": ln.memo,
            }
            for ln in e.lines
        ],
    }


def expense_out(e: Expense) -> dict:
    return {
        "id": e.id,
        "account_id": e.account_id,
        "amount_fen": e.amount_fen,
        "spent_on": e.spent_on,
        "description": e.description,
        "paid_from": e.paid_from,
        "has_receipt": e.receipt_photo is not None,
        "state": e.state,
        "recorded_by_id": e.recorded_by_id,
        "approved_by_id": e.approved_by_id,
        "entry_id": e.entry_id,
        "rejected_by_id": e.rejected_by_id,
        "rejection_reason": e.rejection_reason,
    }


# --- operations ------------------------------------------------------------------------------


@bp.route(f"{ORG}/accounts")
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, AccountPageSchema)
@errors(401, 403, 404, 422)
def ledger_accounts(args, org_id):
    """The chart of accounts with each balance."""
    org = _org(org_id)
    ledger.ensure_chart(org)
    page = page_of(
        select(LedgerAccount)
        .where(LedgerAccount.organization_id == org.id)
        .order_by(LedgerAccount.code),
        args,
    )
    balances = ledger.balances(org.id)
    items = [
        {
            **{k: getattr(a, k) for k in AccountSchema._declared_fields if k != "balance_fen"},
            "balance_fen": balances.get(a.id, 0),
        }
        for a in page["items"]
    ]
    db.session.commit()  # the chart, if it was created just now
    return {**page, "items": items}


@bp.route(f"{ORG}/entries")
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, EntryPageSchema)
@errors(401, 403, 404, 422)
def ledger_entries(args, org_id):
    """The journal, newest first, with the lines and hashes of each entry."""
    org = _org(org_id)
    page = page_of(
        ledger.entries_query(org.id).options(
            selectinload(LedgerEntry.lines).selectinload(LedgerLine.account)
        ),
        args,
    )
    return {**page, "items": [entry_out(e) for e in page["items"]]}


@bp.route(f"{ORG}/entries", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(ManualEntrySchema)
@bp.response(201, EntrySchema)
@errors(400, 401, 403, 404, 422)
def ledger_post_entry(data, org_id):
    """A cadre's own balanced entry (office cash to the bank, a correction)."""
    org = _org(org_id)
    entry = ledger.post_manual(
        org,
        g.api_user,
        data["entry_date"],
        data["description"],
        data["lines"],
        at=now(),
        ip=request.remote_addr,
    )
    db.session.commit()
    return entry_out(entry)


@bp.route(f"{ORG}/verify")
@managers_only
@bp.doc(security=BEARER)
@bp.response(200, VerifySchema)
@errors(401, 403, 404)
def ledger_verify(org_id):
    """Recompute the organization's hash chain and balances now."""
    org = _org(org_id)
    result = ledger.verify(org.id)
    head = ledger.chain_head(org.id)
    return {
        "ok": result.ok,
        "entries_checked": result.entries_checked,
        "first_bad": result.first_bad,
        "message": result.message,
        "head": head,
    }


# flask-smorest documents only the last multipart part; the whole form is written out here.
EXPENSE_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "required": ["account_id", "amount_fen", "spent_on", "description", "paid_from"],
                "properties": {
                    "account_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                    "amount_fen": {"type": "integer", "maximum": MAX_FEN},
                    "spent_on": {"type": "string", "format": "date"},
                    "description": {"type": "string", "minLength": 1, "maxLength": 200},
                    "paid_from": {"type": "string", "enum": ["office_cash", "bank"]},
                    "receipt": {"type": "string", "format": "binary"},
                },
            }
        }
    },
}


@bp.route(f"{ORG}/expenses", methods=["POST"])
@managers_only
@bp.doc(security=BEARER, requestBody=EXPENSE_BODY)
@bp.arguments(ExpenseFormSchema, location="form")
@bp.arguments(ExpenseFilesSchema, location="files")
@bp.response(201, ExpenseSchema)
@errors(400, 401, 403, 404, 422)
def ledger_record_expense(data, files, org_id):
    """Record an expense (multipart form; `receipt` an image). Above the organization's
    threshold the receipt is required and the expense waits for a second cadre."""
    org = _org(org_id)
    upload = files.get("receipt")
    expense = ledger_expenses.record_expense(
        org,
        g.api_user,
        account_id=data["account_id"],
        amount_fen=data["amount_fen"],
        spent_on=data["spent_on"],
        description=data["description"],
        paid_from=data["paid_from"],
        receipt=upload.stream if upload is not None and upload.filename else None,
        at=now(),
        ip=request.remote_addr,
    )
    db.session.commit()
    return expense_out(expense)


@bp.route(f"/ledger/expenses/<{MAX_ID}:expense_id>/approve", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(ApproveSchema, required=False)
@bp.response(200, ExpenseSchema)
@errors(401, 403, 404, 409, 422)
def ledger_approve_expense(data, expense_id):
    """A second cadre approves an expense above the threshold; it is then booked. When that
    takes the paying account below zero, `acknowledge_negative_balance` must be true (422
    `negative_balance_unacknowledged` otherwise)."""
    expense = ledger_expenses.expense_for_cadre(g.api_user, expense_id)
    ledger_expenses.approve_expense(
        expense,
        g.api_user,
        at=now(),
        ip=request.remote_addr,
        acknowledge_negative=data.get("acknowledge_negative_balance", False),
    )
    db.session.commit()
    return expense_out(expense)


@bp.route(f"/ledger/expenses/<{MAX_ID}:expense_id>/reject", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(ReasonSchema)
@bp.response(200, ExpenseSchema)
@errors(401, 403, 404, 409, 422)
def ledger_reject_expense(data, expense_id):
    """A cadre rejects an expense waiting for approval, saying why; it is never booked."""
    expense = ledger_expenses.expense_for_cadre(g.api_user, expense_id)
    ledger_expenses.reject_expense(
        expense, g.api_user, data["reason"], at=now(), ip=request.remote_addr
    )
    db.session.commit()
    return expense_out(expense)


@bp.route(f"{ORG}/month-closes", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(MonthCloseRequestSchema)
@bp.response(201, MonthCloseSchema)
@errors(400, 401, 403, 404, 409, 422)
def ledger_close_month(data, org_id):
    """Close an ended month: its net income and the distribution by the organization's rule."""
    org = _org(org_id)
    month = ledger_periods.parse_month(data["month"])
    close = ledger_periods.close_month(org, month, g.api_user, at=now(), ip=request.remote_addr)
    db.session.commit()
    return close


@bp.route(f"{ORG}/month-closes")
@managers_only
@bp.doc(security=BEARER)
@bp.response(200, MonthCloseSchema(many=True))
@errors(401, 403, 404)
def ledger_closed_months(org_id):
    """Closed months, newest first."""
    org = _org(org_id)
    return db.session.scalars(
        select(MonthClose)
        .where(MonthClose.organization_id == org.id)
        .order_by(MonthClose.month.desc())
    ).all()
