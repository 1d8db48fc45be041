"""The chart of accounts of an organization: the system accounts postings look up by key,
the per-guide cash accounts, the accounts cadres add, and balances. Part of services.ledger."""

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...extensions import db
from ...models import LedgerAccount, LedgerLine, Organization, Role, User
from ..auth import access
from ..common import audit
from ..common.errors import Conflict, Forbidden, InvalidInput
from .chain import lock_chain

# key, code, kind, stored name (the community's own chart, in Chinese), label shown in the UI
SYSTEM_ACCOUNTS = [
    ("office_cash", "1001", "asset", "库存现金（办公室）", _l("Cash at the office")),
    ("collection_code", "1002", "asset", "收款码账户", _l("Collection-code account")),
    ("bank", "1003", "asset", "银行存款", _l("Bank")),
    ("receivables", "1122", "asset", "应收摊位费", _l("Receivables from vendors")),
    ("governance_fund", "3101", "equity", "社区治理专项资金", _l("Governance fund")),
    ("distributable", "3102", "equity", "可分配收益", _l("Distributable profit")),
    ("fee_income", "4001", "income", "摊位费收入", _l("Stall fee income")),
    ("fee_relief", "4002", "contra_income", "摊位费减免", _l("Fee relief")),
    ("wages", "5001", "expense", "引导员劳务费", _l("Wages of guides")),
    ("cleaning", "5002", "expense", "保洁费", _l("Cleaning")),
    ("electricity", "5003", "expense", "电费", _l("Electricity")),
    ("barriers", "5004", "expense", "围挡及设施费", _l("Barriers")),
    ("over_short", "5009", "expense", "现金长短款", _l("Cash over/short")),
]
SYSTEM_LABELS = {key: label for key, _c, _k, _n, label in SYSTEM_ACCOUNTS}
RESERVED_CODES = {code for _key, code, *_rest in SYSTEM_ACCOUNTS}
GUIDE_CASH_PREFIX = "1011-"
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,15}")  # ASCII: isalnum() takes "５" or "五"
KIND_LABELS = {
    "asset": _l("Asset"),
    "liability": _l("Liability"),
    "equity": _l("Equity"),
    "income": _l("Income"),
    "contra_income": _l("Contra income"),
    "expense": _l("Expense"),
}
# Normal balance side: debit for these kinds, credit for the others.
DEBIT_KINDS = ("asset", "contra_income", "expense")


# --- the chart of accounts ---------------------------------------------------------------------


def ensure_chart(org: Organization) -> bool:
    """Create the system accounts an organization lacks. Returns True when any was added."""
    have = set(
        db.session.scalars(
            select(LedgerAccount.key).where(
                LedgerAccount.organization_id == org.id, LedgerAccount.key.is_not(None)
            )
        )
    )
    if len(have) == len(SYSTEM_ACCOUNTS):
        return False
    lock_chain(org.id)  # two first postings at once must not both create the chart
    have = set(
        db.session.scalars(
            select(LedgerAccount.key).where(
                LedgerAccount.organization_id == org.id, LedgerAccount.key.is_not(None)
            )
        )
    )
    added = False
    for key, code, kind, name, _label in SYSTEM_ACCOUNTS:
        if key not in have:
            db.session.add(
                LedgerAccount(organization_id=org.id, key=key, code=code, kind=kind, name=name)
            )
            added = True
    if added:
        db.session.flush()
    return added


def account(organization_id: int, key: str) -> LedgerAccount:
    """A system account by key, creating the chart the first time it is needed."""
    acc = db.session.scalar(
        select(LedgerAccount).where(
            LedgerAccount.organization_id == organization_id, LedgerAccount.key == key
        )
    )
    if acc is None:
        ensure_chart(db.session.get(Organization, organization_id))
        return account(organization_id, key)
    return acc


def guide_cash_account(organization_id: int, user: User) -> LedgerAccount:
    """Cash on hand with one guide (or cadre who took cash), created on first use."""
    query = select(LedgerAccount).where(
        LedgerAccount.organization_id == organization_id,
        LedgerAccount.guide_user_id == user.id,
    )
    acc = db.session.scalar(query)
    if acc is None:
        lock_chain(organization_id)
        acc = db.session.scalar(query)
    if acc is None:
        acc = LedgerAccount(
            organization_id=organization_id,
            code=f"{GUIDE_CASH_PREFIX}{user.id}",
            kind="asset",
            name=f"现金（{user.name}）"[:80],
            guide_user_id=user.id,
        )
        db.session.add(acc)
        db.session.flush()
    return acc


def account_label(acc: LedgerAccount) -> str:
    if acc.key in SYSTEM_LABELS:
        return str(SYSTEM_LABELS[acc.key])
    if acc.guide_user_id is not None:
        return _("Cash with %(name)s", name=acc.name.removeprefix("现金（").removesuffix("）"))
    return acc.name


def accounts_of(organization_id: int) -> list[LedgerAccount]:
    return list(
        db.session.scalars(
            select(LedgerAccount)
            .where(LedgerAccount.organization_id == organization_id)
            .order_by(LedgerAccount.code)
        )
    )


def add_account(org: Organization, code: str, name: str, kind: str, cadre: User, *, ip=None):
    """A cadre adds an account (a new expense category, a second bank account …)."""
    if not access.has_org_role(cadre, org.id, Role.MANAGERS):
        raise Forbidden()
    code, name = (code or "").strip(), (name or "").strip()
    if not CODE_RE.fullmatch(code):
        raise InvalidInput(
            _l(
                "Give a code of up to 16 letters, digits or hyphens, starting with a letter "
                "or digit, e.g. 5010."
            ),
            code="invalid_code",
            field="code",
        )
    if code in RESERVED_CODES or code.startswith(GUIDE_CASH_PREFIX):
        raise InvalidInput(_l("This code is reserved."), code="reserved_code", field="code")
    if not name or len(name) > 80:
        raise InvalidInput(_l("Give a name of up to 80 characters."), field="name")
    if kind not in KIND_LABELS:
        raise InvalidInput(_l("Choose the kind of account."), code="invalid_kind", field="kind")
    taken = db.session.scalar(
        select(LedgerAccount.id).where(
            LedgerAccount.organization_id == org.id, LedgerAccount.code == code
        )
    )
    if taken:
        raise Conflict(_l("An account with this code exists."), code="code_taken")
    ensure_chart(org)
    acc = LedgerAccount(organization_id=org.id, code=code, name=name, kind=kind)
    db.session.add(acc)
    db.session.flush()
    audit.record("ledger.account_added", acc, actor=cadre, organization_id=org.id, ip=ip, code=code)
    return acc


def account_used(acc: LedgerAccount) -> bool:
    return (
        db.session.scalar(select(LedgerLine.id).where(LedgerLine.account_id == acc.id).limit(1))
        is not None
    )


def set_account_active(acc: LedgerAccount, active: bool, cadre: User, *, ip=None) -> None:
    """Accounts are never deleted once used; an unused one a cadre added may be deactivated
    (and activated again). System accounts stay."""
    if not access.has_org_role(cadre, acc.organization_id, Role.MANAGERS):
        raise Forbidden()
    if acc.key is not None or acc.guide_user_id is not None:
        raise Conflict(_l("System accounts cannot be switched off."), code="system_account")
    acc.is_active = active
    audit.record(
        "ledger.account_active" if active else "ledger.account_inactive",
        acc,
        actor=cadre,
        organization_id=acc.organization_id,
        ip=ip,
    )


def balances(organization_id: int) -> dict[int, int]:
    """Each account's balance on its normal side (debit for assets and expenses, credit for
    income and equity), in fen."""
    rows = db.session.execute(
        select(
            LedgerLine.account_id,
            func.sum(LedgerLine.debit_fen),
            func.sum(LedgerLine.credit_fen),
        )
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.organization_id == organization_id)
        .group_by(LedgerLine.account_id)
    )
    kinds = dict(
        db.session.execute(
            select(LedgerAccount.id, LedgerAccount.kind).where(
                LedgerAccount.organization_id == organization_id
            )
        ).all()
    )
    out = {}
    for account_id, debit, credit in rows:
        net = (debit or 0) - (credit or 0)
        out[account_id] = net if kinds[account_id] in DEBIT_KINDS else -net
    return out


def overdrawn(organization_id: int) -> list[tuple[LedgerAccount, int]]:
    """Asset accounts below zero (cash, bank, receivables): money can't be spent twice, so a
    negative balance means an entry is missing or wrong; the ledger page flags them."""
    money = balances(organization_id)
    return [
        (acc, money[acc.id])
        for acc in accounts_of(organization_id)
        if acc.kind == "asset" and money.get(acc.id, 0) < 0
    ]
