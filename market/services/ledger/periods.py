"""Periods: a reconciled day takes no more entries, a closed month neither, and closing a month
distributes its net income by the organization's rule.

- A cadre marks a closed (or cancelled) session reconciled once its money is checked. When
  every session of that market-local day, in all the organization's markets, is reconciled or
  cancelled, the day is locked (LockedDay): no entry may be dated on it any more. Money that
  comes later is dated on the day it arrives (services.ledger.open_day).
- A cadre closes a month once it has ended (in the organization's timezone). Closing computes,
  from the month's entries: fee income (credits − debits on income accounts), relief (debits −
  credits on contra-income accounts) and expenses per expense account; net income = fee
  income − relief − expenses. Then one closing entry, dated the month's last day, empties those
  accounts for the month and credits the distribution:
      governance fund  = floor(net × pct / 100)   (integer fen, rounded down)
      distributable    = net − governance fund    (so the two always add up to net exactly)
  A month with a net loss distributes nothing: the loss is charged to distributable profit
  (a debit), the governance fund is untouched. After closing, no entry is dated in the month.
"""

import json
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select

from ...extensions import db
from ...models import (
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    LockedDay,
    Market,
    MarketSession,
    MonthClose,
    Organization,
    Role,
    SessionReconciliation,
    SessionState,
    User,
)
from ..auth import access
from ..common import audit
from ..common.errors import Conflict, Forbidden, InvalidInput
from ..common.money import yuan
from . import entries as ledger
from .entries import Line

MONTH_CLOSE_PREFIX = "month-close:"


def _require_cadre(user: User, organization_id: int) -> None:
    if not access.has_org_role(user, organization_id, Role.MANAGERS):
        raise Forbidden()


# --- reconciled days -----------------------------------------------------------------------


def is_reconciled(session: MarketSession) -> bool:
    return (
        db.session.scalar(
            select(SessionReconciliation.id).where(SessionReconciliation.session_id == session.id)
        )
        is not None
    )


def unreconciled_sessions(organization_id: int, limit: int = 20) -> list[MarketSession]:
    done = select(SessionReconciliation.session_id)
    return list(
        db.session.scalars(
            select(MarketSession)
            .join(Market, Market.id == MarketSession.market_id)
            .where(
                Market.organization_id == organization_id,
                MarketSession.state == SessionState.CLOSED,
                MarketSession.id.not_in(done),
            )
            .order_by(MarketSession.business_date.desc(), MarketSession.starts_at.desc())
            .limit(limit)
        )
    )


def _day_complete(organization_id: int, day: date) -> bool:
    """Every session of the day ended, and every closed one reconciled."""
    rows = db.session.execute(
        select(MarketSession.state, SessionReconciliation.id)
        .join(Market, Market.id == MarketSession.market_id)
        .outerjoin(SessionReconciliation, SessionReconciliation.session_id == MarketSession.id)
        .where(Market.organization_id == organization_id, MarketSession.business_date == day)
    ).all()
    return all(
        state == SessionState.CANCELLED or (state == SessionState.CLOSED and rec is not None)
        for state, rec in rows
    )


def reconcile_session(session: MarketSession, cadre: User, *, at: datetime, ip=None):
    """A cadre has checked a closed session's money: mark it, and lock the day when it was
    the day's last session."""
    org_id = session.market.organization_id
    _require_cadre(cadre, org_id)
    if session.state not in (SessionState.CLOSED, SessionState.CANCELLED):
        raise Conflict(_l("Only a closed session can be reconciled."), code="session_not_closed")
    if is_reconciled(session):
        raise Conflict(_l("This session is already reconciled."), code="already_reconciled")
    rec = SessionReconciliation(
        organization_id=org_id,
        session_id=session.id,
        business_date=session.business_date,
        reconciled_by_id=cadre.id,
        reconciled_at=at,
    )
    db.session.add(rec)
    db.session.flush()
    locked = False
    if _day_complete(org_id, session.business_date) and not ledger.is_day_locked(
        org_id, session.business_date
    ):
        db.session.add(LockedDay(organization_id=org_id, day=session.business_date, locked_at=at))
        locked = True
    audit.record(
        "ledger.session_reconciled",
        session,
        actor=cadre,
        organization_id=org_id,
        ip=ip,
        business_date=session.business_date.isoformat(),
        day_locked=locked,
    )
    return rec


# --- month close ---------------------------------------------------------------------------


def parse_month(text: str) -> date:
    """'2026-11' → date(2026, 11, 1); 422 otherwise."""
    try:
        year, month = (int(part) for part in (text or "").strip().split("-"))
        return date(year, month, 1)
    except ValueError:
        raise InvalidInput(
            _l("Give the month as YYYY-MM, e.g. 2026-11."), code="invalid_month", field="month"
        ) from None


def last_day(month: date) -> date:
    return month.replace(day=monthrange(month.year, month.month)[1])


def month_figures(organization_id: int, month: date) -> dict:
    """The month's totals per account (month-close entries left out), by kind."""
    return months_figures([organization_id], [month]).get((organization_id, month), no_figures())


def months_figures(organization_ids: list[int], months: list[date]) -> dict[tuple, dict]:
    """month_figures of several organizations and months in one statement (the street
    office's page): {(organization id, month): figures}; none read for a pair without any."""
    months = sorted(set(months))
    # Each entry's month, by index: the latest month it is not before.
    which = case(
        *[(LedgerEntry.entry_date >= m, i) for i, m in reversed(list(enumerate(months)))],
        else_=-1,
    ).label("which")
    rows = db.session.execute(
        select(
            LedgerEntry.organization_id,
            which,
            LedgerAccount.id,
            LedgerAccount.kind,
            LedgerAccount.name,
            func.sum(LedgerLine.debit_fen),
            func.sum(LedgerLine.credit_fen),
        )
        .join(LedgerLine, LedgerLine.account_id == LedgerAccount.id)
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .where(
            LedgerEntry.organization_id.in_(organization_ids),
            or_(*[LedgerEntry.entry_date.between(m, last_day(m)) for m in months]),
            LedgerEntry.source_key.not_like(f"{MONTH_CLOSE_PREFIX}%"),
            LedgerAccount.kind.in_(("income", "contra_income", "expense")),
        )
        .group_by(
            LedgerEntry.organization_id,
            which,
            LedgerAccount.id,
            LedgerAccount.kind,
            LedgerAccount.name,
        )
        .order_by(LedgerEntry.organization_id, LedgerAccount.id)
    ).all()
    out: dict[tuple, dict] = {}
    for org_id, i, account_id, kind, name, debit, credit in rows:
        figures = out.setdefault((org_id, months[i]), no_figures())
        net_debit = (debit or 0) - (credit or 0)
        if kind == "income":
            figures["income"][account_id] = (name, -net_debit)
        elif kind == "contra_income":
            figures["relief"][account_id] = (name, net_debit)
        else:
            figures["expenses"][account_id] = (name, net_debit)
    return out


def no_figures() -> dict:
    return {"income": {}, "relief": {}, "expenses": {}}


def split(net_fen: int, pct: int) -> tuple[int, int]:
    """(governance fund, distributable): floor(net × pct / 100) and the rest; nothing when
    the month lost money."""
    if net_fen <= 0:
        return 0, 0
    fund = net_fen * pct // 100
    return fund, net_fen - fund


def _closing_lines(org_id: int, figures: dict, fund: int, rest: int, net: int) -> list[Line]:
    accounts = {a.id: a for a in ledger.accounts_of(org_id)}
    lines = []

    def add(account_id_or_acc, debit: int, memo: str) -> None:
        acc = accounts.get(account_id_or_acc, account_id_or_acc)
        if debit > 0:
            lines.append(Line(acc, debit_fen=debit, memo=memo))
        elif debit < 0:
            lines.append(Line(acc, credit_fen=-debit, memo=memo))

    for account_id, (_name, amount) in figures["income"].items():
        add(account_id, amount, "结转收入")
    for group in ("relief", "expenses"):
        for account_id, (_name, amount) in figures[group].items():
            add(account_id, -amount, "结转支出")
    add(ledger.account(org_id, "governance_fund"), -fund, "治理专项资金")
    add(ledger.account(org_id, "distributable"), -rest if net > 0 else -net, "可分配收益")
    return lines


@dataclass(frozen=True)
class CloseFigures:
    """What closing a month books: the page's confirm step shows these, the close posts them."""

    month: date
    fee_income_fen: int
    relief_fen: int
    by_category: dict[str, int]  # expense account name → fen
    expenses_fen: int
    net_fen: int
    pct: int
    fund_fen: int
    distributable_fen: int
    per_account: dict  # month_figures(): what the closing entry empties, account by account

    @property
    def is_loss(self) -> bool:
        return self.net_fen < 0

    @property
    def key(self) -> str:
        """The booked figures in one string: the confirm step sends back what it showed."""
        figures = (self.fee_income_fen, self.relief_fen, self.expenses_fen, self.fund_fen)
        return ":".join(str(n) for n in (*figures, self.distributable_fen))


def close_figures(org: Organization, month: date, figures: dict | None = None) -> CloseFigures:
    """The figures of a month's close, as `close_month` books them (it calls this): a preview
    that cannot drift from what is booked. `figures`: the month's month_figures when already
    read (for several organizations at once)."""
    month = ledger.month_start(month)
    figures = month_figures(org.id, month) if figures is None else figures
    fee_income = sum(v for _n, v in figures["income"].values())
    relief = sum(v for _n, v in figures["relief"].values())
    by_category: dict[str, int] = {}
    for name, amount in figures["expenses"].values():
        by_category[name] = by_category.get(name, 0) + amount
    expenses = sum(by_category.values())
    net = fee_income - relief - expenses
    pct = org.governance_fund_pct
    fund, rest = split(net, pct)
    return CloseFigures(
        month=month,
        fee_income_fen=fee_income,
        relief_fen=relief,
        by_category=by_category,
        expenses_fen=expenses,
        net_fen=net,
        pct=pct,
        fund_fen=fund,
        distributable_fen=rest,
        per_account=figures,
    )


def close_memo(month: date, net: int, pct: int, fund: int) -> str:
    """The closing entry's description, in the ledger's own language (like its other memos)."""
    label = f"{month.strftime('%Y-%m')} 月结"
    if net < 0:
        return f"{label}：亏损 {yuan(-net)}，不提取治理专项资金，亏损计入可分配收益"
    return f"{label}：净收益 {yuan(net)}，治理专项资金 {pct}% 即 {yuan(fund)}"


def close_month(
    org: Organization,
    month: date,
    cadre: User,
    *,
    at: datetime,
    ip=None,
    shown: str | None = None,
):
    """Close a finished month: its figures, the closing entry with the distribution, and the
    record the reports and the public notice board show. `shown`: the `CloseFigures.key` the
    cadre saw; when the figures have changed since (an expense dated back into the month),
    nothing is closed and the cadre sees the new figures first."""
    _require_cadre(cadre, org.id)
    month = ledger.month_start(month)
    if last_day(month) >= ledger.org_today(org, at):
        raise InvalidInput(
            _l("A month can be closed only after it has ended."),
            code="month_not_over",
            field="month",
        )
    ledger.lock_chain(org.id)
    last = ledger.closed_through(org.id)
    if last is not None and month <= last:
        raise Conflict(
            _l("%(month)s is already closed.", month=month.strftime("%Y-%m"))
            if month == last
            else _l(
                "The books are closed through %(last)s: %(month)s can't be closed any more.",
                last=last.strftime("%Y-%m"),
                month=month.strftime("%Y-%m"),
            ),
            code="month_closed",
        )
    earlier = first_open_month(org.id)
    if earlier is not None and earlier < month:
        raise Conflict(
            _l(
                "Close %(earlier)s first: months are closed in order, oldest first.",
                earlier=earlier.strftime("%Y-%m"),
            ),
            code="earlier_month_open",
            field="month",
        )
    figures = close_figures(org, month)
    if shown is not None and shown != figures.key:
        raise Conflict(
            _l(
                "The figures of %(month)s changed since the page was shown: check them again.",
                month=month.strftime("%Y-%m"),
            ),
            code="figures_changed",
            field="month",
        )
    net, pct, fund, rest = figures.net_fen, figures.pct, figures.fund_fen, figures.distributable_fen
    lines = _closing_lines(org.id, figures.per_account, fund, rest, net)
    entry = None
    if lines:
        entry = ledger.post(
            org.id,
            last_day(month),
            close_memo(month, net, pct, fund),
            f"{MONTH_CLOSE_PREFIX}{month.strftime('%Y-%m')}",
            lines,
            actor=cadre,
            allow_locked_day=True,
        )
    close = MonthClose(
        organization_id=org.id,
        month=month,
        fee_income_fen=figures.fee_income_fen,
        relief_fen=figures.relief_fen,
        expenses_fen=figures.expenses_fen,
        expenses_detail=json.dumps(figures.by_category, ensure_ascii=False, sort_keys=True),
        net_income_fen=net,
        governance_pct=pct,
        governance_fund_fen=fund,
        distributable_fen=rest,
        entry_id=entry.id if entry else None,
        closed_by_id=cadre.id,
        closed_at=at,
    )
    db.session.add(close)
    db.session.flush()
    audit.record(
        "ledger.month_closed",
        close,
        actor=cadre,
        organization_id=org.id,
        ip=ip,
        month=month.strftime("%Y-%m"),
        net_income_fen=net,
        governance_fund_fen=fund,
        distributable_fen=rest,
    )
    return close


def first_open_month(organization_id: int) -> date | None:
    """The oldest month after the closed ones that holds entries: the next to close."""
    last = ledger.closed_through(organization_id)
    query = select(func.min(LedgerEntry.entry_date)).where(
        LedgerEntry.organization_id == organization_id
    )
    if last is not None:
        query = query.where(LedgerEntry.entry_date > last_day(last))
    day = db.session.scalar(query)
    return ledger.month_start(day) if day is not None else None


def closable_months(org: Organization, at: datetime) -> list[date]:
    """The month that can be closed now, for the cadre's form: the oldest ended month after
    the closed ones that holds entries, or, when none does, last month (closed empty)."""
    this_month = ledger.month_start(ledger.org_today(org, at))
    month = first_open_month(org.id)
    if month is None:
        month = ledger.month_start(this_month - timedelta(days=1))
        if ledger.is_month_closed(org.id, month):
            return []
    return [month] if month < this_month else []
