"""A year of trade for one market, for the benchmarks (`flask market year-data`).

300 stalls, two sessions a day (morning and night), about 80 % of the stalls taken each
session: about 175,000 check-ins, each with its charge, its payment(s) and its ledger entry,
plus each session's close and the guide's nightly hand-over. Rows go in with SQLAlchemy Core
in bulk (an ORM flush per row would take an hour), so the services' rules are re-stated here
in the same scheme as services.ledger.postings, and every ledger entry is hashed with the
same canonical function (services.ledger.chain), so `flask ledger verify` must pass.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, insert, select, text

from bench.data import rush
from market.demo.load import MARKET_SLUG
from market.extensions import db
from market.models import (
    CashHandover,
    Charge,
    CheckIn,
    HandoverItem,
    LedgerEntry,
    LedgerLine,
    Market,
    MarketSession,
    Payment,
    Stall,
    User,
    Vendor,
    Zone,
)
from market.services.common import clock
from market.services.ledger import entries as ledger
from market.services.ledger.chain import entry_hash
from market.services.ledger.postings import session_memo
from market.services.sessions.plan import local_to_utc, zone_of

SESSIONS = (("morning", time(6, 0), time(8, 30)), ("night", time(18, 0), time(22, 30)))
PHONE_PREFIX = "136"


@dataclass
class Ids:
    """Next free id of each table: rows are given their ids up front so that charges,
    payments and ledger lines can point at rows in the same batch."""

    next: dict = field(default_factory=dict)

    def take(self, table) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def prepare(
    market: Market, stalls: int, vendors: int, phone_prefix: str = PHONE_PREFIX
) -> tuple[list[Stall], list[Vendor]]:
    """At least `stalls` stalls and `vendors` approved vendors (one password hash for all),
    vendors logging in as `<phone_prefix>00000001`…"""
    zone = db.session.scalar(select(Zone).where(Zone.market_id == market.id).order_by(Zone.id))
    rush.add_stalls(market, zone, stalls, "Y", first_row=10)
    rush.add_vendors(market, vendors, phone_prefix, "年摊主")
    db.session.flush()
    all_stalls = list(
        db.session.scalars(select(Stall).where(Stall.market_id == market.id).order_by(Stall.id))
    )[:stalls]
    all_vendors = list(
        db.session.scalars(
            select(Vendor)
            .where(Vendor.organization_id == market.organization_id, Vendor.status == "approved")
            .order_by(Vendor.id)
        )
    )[:vendors]
    return all_stalls, all_vendors


class Year:
    """Builds the rows of one session at a time and writes them in bulk."""

    def __init__(
        self,
        market: Market,
        stalls,
        vendors,
        occupancy: float,
        seed: int = 7,
        guide: User | None = None,
        cadre: User | None = None,
    ):
        """`guide` takes the cash and `cadre` counts it (default: the demo's two)."""
        # Plain values, not ORM objects: each commit would expire those and reload them.
        self.market_id, self.market_name = market.id, market.name
        self.org_id = market.organization_id
        self.zone = zone_of(market)
        self.stalls = [(s.id, s.code, s.has_power) for s in stalls]
        self.vendors = [(v.id, v.user_id) for v in vendors]
        self.occupancy = occupancy
        self.random = random.Random(seed)  # noqa: S311  (test data, repeatable)
        guide = guide or db.session.scalar(select(User).where(User.phone == "13800000002"))
        cadre = cadre or db.session.scalar(select(User).where(User.phone == "13800000001"))
        self.guide_id, self.guide_name, self.cadre_id = guide.id, guide.name, cadre.id
        self.accounts = {
            key: ledger.account(self.org_id, key).id
            for key in ("fee_income", "fee_relief", "receivables", "collection_code", "office_cash")
        }
        self.accounts["guide_cash"] = ledger.guide_cash_account(self.org_id, guide).id
        self.vendor_users = dict(db.session.execute(select(Vendor.id, Vendor.user_id)).all())
        head = ledger.chain_head(self.org_id)
        self.seq = head.seq if head else 0
        self.prev_hash = head.entry_hash if head else None
        db.session.commit()
        self.resume()
        self.rows: dict = {t: [] for t in self.ids.next}
        self.cash_payments: list[dict] = []  # the session's rows, handed over at its end
        self.counts = dict.fromkeys(("checkins", "payments", "entries"), 0)

    def resume(self) -> None:
        """Take the next free ids afresh: rows were written since (another market's year). The
        chain goes on from where this one left it, so nothing else may post to it meanwhile."""
        self.ids = Ids(
            {
                t: (db.session.scalar(select(func.max(t.id))) or 0) + 1
                for t in (
                    MarketSession,
                    CheckIn,
                    Charge,
                    Payment,
                    CashHandover,
                    HandoverItem,
                    LedgerEntry,
                    LedgerLine,
                )
            }
        )

    # --- the ledger --------------------------------------------------------------------------

    def post(self, day: date, description: str, source_key: str, lines, at: datetime) -> None:
        self.seq += 1
        entry_id = self.ids.take(LedgerEntry)
        digest = entry_hash(
            self.org_id, self.seq, day, description, source_key, None, self.prev_hash, lines
        )
        self.rows[LedgerEntry].append(
            {
                "id": entry_id,
                "organization_id": self.org_id,
                "seq": self.seq,
                "entry_date": day,
                "description": description,
                "source_key": source_key,
                "reverses_id": None,
                "prev_hash": self.prev_hash,
                "entry_hash": digest,
                "created_by_id": None,
                "posted_at": at,
            }
        )
        for account_id, debit, credit, memo in lines:
            self.rows[LedgerLine].append(
                {
                    "id": self.ids.take(LedgerLine),
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "debit_fen": debit,
                    "credit_fen": credit,
                    "memo": memo,
                }
            )
        self.prev_hash = digest
        self.counts["entries"] += 1

    # --- one session -------------------------------------------------------------------------

    def session(self, day: date, kind: str, start: time, end: time) -> None:
        starts, ends = local_to_utc(day, start, self.zone), local_to_utc(day, end, self.zone)
        session_id = self.ids.take(MarketSession)
        self.rows[MarketSession].append(
            {
                "id": session_id,
                "market_id": self.market_id,
                "template_id": None,
                "kind": kind,
                "business_date": day,
                "starts_at": starts,
                "ends_at": ends,
                "cutoff_at": None,
                "state": "closed",
                "opened_at": starts,
                "closed_at": ends,
                "is_manual": True,
                "created_at": starts,
            }
        )
        taken = self.random.sample(range(len(self.stalls)), int(len(self.stalls) * self.occupancy))
        unpaid = relief = cash = 0
        for i in sorted(taken):
            u, r, c = self.trade(session_id, day, starts, ends, self.stalls[i], self.vendors[i])
            unpaid, relief, cash = unpaid + u, relief + r, cash + c
        memo = session_memo(day, kind)
        if unpaid + relief:
            lines = [(self.accounts["fee_income"], 0, unpaid + relief, memo)]
            if unpaid:
                lines.append((self.accounts["receivables"], unpaid, 0, memo))
            if relief:
                lines.append((self.accounts["fee_relief"], relief, 0, memo))
            self.post(
                day,
                f"场次结束 {self.market_name} {memo}",
                f"session-close:{session_id}",
                lines,
                ends,
            )
        if cash:
            self.hand_over(day, cash, memo, ends + timedelta(minutes=30))

    def hand_over(self, day: date, cash: int, memo: str, at: datetime) -> None:
        """The guide hands the session's cash over and the cadre counts it exactly, as
        services.guide.handovers and ledger_postings.post_handover do."""
        handover_id = self.ids.take(CashHandover)
        self.rows[CashHandover].append(
            {
                "id": handover_id,
                "organization_id": self.org_id,
                "market_id": self.market_id,
                "guide_id": self.guide_id,
                "expected_fen": cash,
                "declared_fen": cash,
                "received_fen": cash,
                "state": "confirmed",
                "confirmed_by_id": self.cadre_id,
                "confirmed_at": at,
                "created_at": at,
            }
        )
        self.rows[HandoverItem].extend(
            {"id": self.ids.take(HandoverItem), "handover_id": handover_id, "payment_id": pid}
            for pid in (row["id"] for row in self.cash_payments)
        )
        for row in self.cash_payments:  # still to be written: the day is flushed at its end
            row["handover_id"] = handover_id
        self.cash_payments.clear()
        self.post(
            day,
            f"现金交接 {self.guide_name} #{handover_id}",
            f"handover:{handover_id}",
            [
                (self.accounts["office_cash"], cash, 0, memo),
                (self.accounts["guide_cash"], 0, cash, memo),
            ],
            at,
        )

    def trade(self, session_id, day, starts, ends, stall, vendor) -> tuple[int, int, int]:
        """One check-in with its charge and payment; returns (unpaid, relief, cash) in fen."""
        stall_id, stall_code, has_power = stall
        vendor_id, vendor_user_id = vendor
        rnd = self.random.random()
        arrived = starts + timedelta(minutes=int(rnd * 40))
        checkin_id, charge_id = self.ids.take(CheckIn), self.ids.take(Charge)
        base = 1500 if has_power else 1000
        relief = base // 2 if vendor_id % 20 == 0 else 0
        amount = base - relief
        self.rows[CheckIn].append(
            {
                "id": checkin_id,
                "market_id": self.market_id,
                "session_id": session_id,
                "stall_id": stall_id,
                "vendor_id": vendor_id,
                "state": "checked_out",
                "arrived_at": arrived,
                "left_at": ends,
                "outside_geofence": False,
                "created_at": arrived,
            }
        )
        unpaid = amount if rnd > 0.98 else 0
        self.rows[Charge].append(
            {
                "id": charge_id,
                "checkin_id": checkin_id,
                "base_fen": base,
                "extras_fen": 0,
                "relief_fen": relief,
                "amount_fen": amount,
                "breakdown": "",
                "receivable_at": ends if unpaid else None,
                "created_at": arrived,
            }
        )
        self.counts["checkins"] += 1
        if unpaid:
            return unpaid, relief, 0
        method = "cash" if rnd < 0.70 else "waiver" if rnd > 0.96 else "collection_code"
        at = arrived + timedelta(minutes=15)
        self.pay(charge_id, stall_code, vendor_user_id, method, amount, day, at)
        return 0, relief, amount if method == "cash" else 0

    def pay(self, charge_id, stall_code, vendor_user_id, method, amount, day, at) -> None:
        payment_id = self.ids.take(Payment)
        by = {"cash": self.guide_id, "waiver": self.cadre_id, "collection_code": vendor_user_id}[
            method
        ]
        row = {
            "id": payment_id,
            "charge_id": charge_id,
            "method": method,
            "amount_fen": amount,
            "status": "confirmed",
            "reference": None,
            "note": "困难减免" if method == "waiver" else None,
            "recorded_by_id": by,
            "recorded_at": at,
            "confirmed_by_id": self.cadre_id if method == "waiver" else self.guide_id,
            "confirmed_at": at,
            "reverses_id": None,
            "handover_id": None,
        }
        self.rows[Payment].append(row)
        self.counts["payments"] += 1
        if method == "cash":
            self.cash_payments.append(row)
        memo = f"{stall_code} #{charge_id}"
        debit = {
            "cash": self.accounts["guide_cash"],
            "collection_code": self.accounts["collection_code"],
            "waiver": self.accounts["fee_relief"],
        }[method]
        words = {
            "cash": "现金收摊位费",
            "collection_code": "收款码收摊位费",
            "waiver": "减免摊位费",
        }
        self.post(
            day,
            f"{words[method]} {memo}",
            f"payment:{payment_id}",
            [(debit, amount, 0, memo), (self.accounts["fee_income"], 0, amount, memo)],
            at,
        )

    def flush(self) -> None:
        for table, rows in self.rows.items():
            if rows:
                db.session.execute(insert(table.__table__), rows)
                rows.clear()
        db.session.commit()

    def finish(self) -> None:
        """PostgreSQL: move each id sequence past the ids given here."""
        if db.session.get_bind().dialect.name == "postgresql":
            for table in self.ids.next:
                name = table.__tablename__
                sql = f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"  # noqa: S608,E501  (our own table names)
                db.session.execute(text(sql))
            db.session.commit()


def year_days(market: Market, days: int, until: date | None = None) -> list[date]:
    """`days` days ending the day before the market's first session (or `until`)."""
    if until is None:
        first = db.session.scalar(
            select(func.min(MarketSession.business_date)).where(
                MarketSession.market_id == market.id
            )
        )
        today = clock.now().astimezone(zone_of(market)).date()  # the market's day, not the host's
        until = (first or today) - timedelta(days=1)
    return [until - timedelta(days=n) for n in range(days - 1, -1, -1)]


def demo_market() -> Market:
    return db.session.scalar(select(Market).where(Market.slug == MARKET_SLUG))


@dataclass
class Community:
    market: Market
    guide: User
    cadre: User
    vendor_prefix: str


def community_phone_prefix(n: int) -> str:
    """Vendors of the n-th bench community (0…19) log in as 150…159, 180…189 + 8 digits."""
    return f"15{n}" if n < 10 else f"18{n - 10}"


def new_community(n: int, name: str) -> Community:
    """An organization with its chart of accounts, a market (slug `bench-<n>`) with one zone, a
    cadre (139 0<n> 00001) and a guide (139 0<n> 00002), for a year of trade of its own. The
    demo password; idempotent."""
    from market.demo.load import DEMO_PASSWORD
    from market.models import Organization, Role
    from market.services.auth import accounts

    org = db.session.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        org = Organization(name=name, short_name=name.removesuffix("股份经济合作社"))
        db.session.add(org)
        db.session.flush()
    ledger.ensure_chart(org)
    slug = f"bench-{n}"
    market = db.session.scalar(select(Market).where(Market.slug == slug))
    if market is None:
        market = Market(
            organization_id=org.id,
            slug=slug,
            name=f"{org.short_name}集市",
            address=f"{org.short_name}广场",
            timezone="Asia/Shanghai",
        )
        db.session.add(market)
        db.session.flush()
        db.session.add(
            Zone(market_id=market.id, code="A", name="集市", color="#2b7a4b", categories="goods")
        )
    staff = []
    for k, role in ((1, Role.CADRE), (2, Role.GUIDE)):
        phone = f"139{n:03d}{k:05d}"
        user = accounts.user_by_phone(phone) or accounts.create_user(
            phone,
            f"{org.short_name}{'干部' if k == 1 else '引导员'}",
            DEMO_PASSWORD,
            check_strength=False,
        )
        db.session.flush()
        accounts.grant_role(user, org, role, market=market if role == Role.GUIDE else None)
        staff.append(user)
    db.session.flush()
    return Community(market, staff[1], staff[0], community_phone_prefix(n))
