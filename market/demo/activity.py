"""A few evenings of trade for the demo (`flask market demo`), made through the services as
real use would make them: check-ins, cash, collection-code payments, a waiver, the closes, a
guide's hand-over, expenses and reconciled sessions. So `flask ledger verify` passes on the
demo data and a cadre can close last month on the demo and see the distribution.

Not part of the test fixtures' demo data (tests build the trade they need)."""

import io
from datetime import date, datetime, timedelta

from flask import current_app
from PIL import Image
from sqlalchemy import select

from ..extensions import db
from ..models import (
    LedgerEntry,
    Market,
    MarketSession,
    Role,
    SessionTemplate,
    Stall,
    User,
    Vendor,
    VendorStatus,
)
from ..services.auth import accounts
from ..services.checkin import checkins as checkin
from ..services.checkin import payments
from ..services.common import clock
from ..services.guide import handovers
from ..services.ledger import entries as ledger
from ..services.ledger import expenses as ledger_expenses
from ..services.ledger import periods as ledger_periods
from ..services.sessions import tide as sessions
from ..services.sessions.plan import local_to_utc, zone_of

# phone, name: more approved vendors so an evening has some trade
EXTRA_VENDORS = [
    ("13800000011", "赵春梅"),
    ("13800000012", "孙国强"),
    ("13800000013", "周玉兰"),
    ("13800000014", "吴建平"),
]
SECOND_CADRE = ("13800000006", "赵会计")


def _days(today: date) -> list[date]:
    """The last three days of last month and the two days before today (this month)."""
    first = today.replace(day=1)
    days = [first - timedelta(days=n) for n in (3, 2, 1)]
    days += [today - timedelta(days=n) for n in (2, 1) if today - timedelta(days=n) >= first]
    return days


def _at(at: datetime):
    current_app.config["CLOCK"] = clock.FixedClock(at)


def _vendors(org, demo_password: str) -> list[Vendor]:
    for phone, name in EXTRA_VENDORS:
        user = accounts.user_by_phone(phone) or accounts.create_user(
            phone, name, demo_password, check_strength=False
        )
        db.session.flush()
        accounts.grant_role(user, org, Role.VENDOR)
        if db.session.scalar(select(Vendor).where(Vendor.user_id == user.id)) is None:
            db.session.add(
                Vendor(
                    organization_id=org.id,
                    user_id=user.id,
                    status=VendorStatus.APPROVED,
                    category="goods",
                    goods="日用小百货",
                    sells_food=False,
                    rules_accepted_at=clock.now(),
                    decided_at=clock.now(),
                )
            )
    db.session.flush()
    return list(
        db.session.scalars(
            select(Vendor)
            .where(Vendor.organization_id == org.id, Vendor.status == VendorStatus.APPROVED)
            .order_by(Vendor.id)
        )
    )


def _evening(market, template, day, stalls, vendors, guide, cadre) -> MarketSession:
    zone = zone_of(market)
    starts = local_to_utc(day, template.start_local, zone)
    session = MarketSession(
        market_id=market.id,
        template_id=template.id,
        kind=template.kind,
        business_date=day,
        starts_at=starts,
        ends_at=local_to_utc(day, template.end_local, zone),
        cutoff_at=starts + timedelta(minutes=template.cutoff_minutes),
    )
    db.session.add(session)
    db.session.flush()
    sessions.open_session(session, starts)
    for i, (stall, vendor) in enumerate(zip(stalls, vendors, strict=False)):
        at = starts + timedelta(minutes=5 + 7 * i)
        _at(at)
        ci = checkin.check_in(stall, vendor, at, actor=vendor.user, uses_power=stall.has_power)
        charge = ci.charge
        _at(at + timedelta(minutes=20))
        if i % 5 == 0:
            payments.record_cash(charge, charge.amount_fen, guide)
        elif i % 5 == 1:
            p = payments.report_collection_code(charge, charge.amount_fen, None, vendor.user)
            payments.confirm(p, guide)
        elif i % 5 == 2:
            payments.waive(charge, charge.amount_fen // 2, "新摊主首月减半", cadre)
            payments.record_cash(charge, charge.amount_fen - charge.amount_fen // 2, guide)
        elif i % 5 == 3:
            payments.record_cash(charge, charge.amount_fen // 2, guide)  # the rest owed
        # i % 5 == 4: nothing paid tonight, a receivable at close
    _at(session.ends_at)
    sessions.end_session(sessions.locked(session.id), session.ends_at)
    return session


def _handover(market, guide, cadre, at, short_fen=0) -> None:
    """Through the same services as the shift page: the guide hands over, a cadre counts."""
    held = handovers.unhanded_fen(guide.id, market.id)
    if held <= 0:
        return
    _at(at)
    handover = handovers.hand_over(
        guide, market, held, at, note="当晚交接" if not short_fen else "点钞少一元"
    )
    count_note = "复点仍少，已与引导员核对" if short_fen else None
    handovers.confirm(handover, cadre, held - short_fen, at, note=count_note)


def _receipt() -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (300, 400), "white").save(buf, format="JPEG")
    buf.seek(0)
    return buf


def load_activity(org, market: Market, demo_password: str) -> bool:
    """Add the evenings once (nothing when the organization already has ledger entries)."""
    if db.session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.organization_id == org.id).limit(1)
    ):
        return False
    real_clock = current_app.config.get("CLOCK")
    real_now = clock.now()
    try:
        _activity(org, market, demo_password, real_now)
    finally:
        current_app.config["CLOCK"] = real_clock
    return True


def _activity(org, market, demo_password, real_now):
    today = ledger.org_today(org, real_now)
    guide = db.session.scalar(select(User).where(User.phone == "13800000002"))
    cadre = db.session.scalar(select(User).where(User.phone == "13800000001"))
    second = accounts.user_by_phone(SECOND_CADRE[0]) or accounts.create_user(
        *SECOND_CADRE, demo_password, check_strength=False
    )
    db.session.flush()
    accounts.grant_role(second, org, Role.CADRE)
    vendors = _vendors(org, demo_password)
    template = db.session.scalar(
        select(SessionTemplate).where(
            SessionTemplate.market_id == market.id, SessionTemplate.kind == "night"
        )
    )
    stalls = list(
        db.session.scalars(select(Stall).where(Stall.market_id == market.id).order_by(Stall.id))
    )[: len(vendors)]
    days = _days(today)
    evenings = []
    for n, day in enumerate(days):
        session = _evening(market, template, day, stalls, vendors, guide, cadre)
        _handover(market, guide, cadre, session.ends_at + timedelta(minutes=30), 100 * (n == 1))
        evenings.append(session)
    _expenses(org, cadre, second, days, today, real_now)
    for session in evenings:
        if session.business_date < today.replace(day=1):  # last month's days are checked
            at = session.ends_at + timedelta(hours=1)
            ledger_periods.reconcile_session(session, cadre, at=at)
    db.session.flush()


def _expenses(org, cadre, second, days, today, now):
    """Last month keeps a profit (so closing it shows the governance-fund share); the big
    approved expense and the one waiting for approval fall in this month."""
    last_month = days[0]
    # The bank holds the community's earlier savings, so paying the barriers from it leaves a
    # balance above zero (a negative bank balance is flagged on the ledger page).
    ledger.post(
        org.id,
        last_month,
        "期初余额：以往结余存于银行",
        "demo:opening-bank",
        [
            ledger.Line(ledger.account(org.id, "bank"), debit_fen=200_000),
            ledger.Line(ledger.account(org.id, "distributable"), credit_fen=200_000),
        ],
        actor=cadre,
    )
    ledger_expenses.record_expense(
        org,
        cadre,
        account_id=ledger.account(org.id, "cleaning").id,
        amount_fen=12_000,
        spent_on=last_month,
        description="市场保洁（三晚）",
        paid_from="office_cash",
        at=now,
    )
    big = ledger_expenses.record_expense(
        org,
        cadre,
        account_id=ledger.account(org.id, "barriers").id,
        amount_fen=68_000,
        spent_on=today,
        description="更换隔离围挡 8 块",
        paid_from="bank",
        receipt=_receipt(),
        at=now,
    )
    ledger_expenses.approve_expense(big, second, at=now)
    ledger_expenses.record_expense(
        org,
        cadre,
        account_id=ledger.account(org.id, "electricity").id,
        amount_fen=56_000,
        spent_on=today,
        description="摊位照明电费",
        paid_from="bank",
        receipt=_receipt(),
        at=now,
    )  # waits for the second cadre (赵会计) in the demo
