"""The public notice board: no login, open tonight or not, hours, map, closed months and
where the money went, the ledger's chain head and check, the office; never a vendor."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import LedgerEntry, Market, Stall, User, Vendor
from market.services.common.clock import FixedClock
from market.services.ledger import entries as ledger
from market.services.ledger import periods as ledger_periods
from market.services.ledger.entries import Line
from tests import builders
from tests.ledger_helpers import tamper

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai: the night market is on
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def _post(org_id, day, key, debit, credit, fen):
    ledger.post(
        org_id,
        day,
        "测试",
        key,
        [
            Line(ledger.account(org_id, debit), debit_fen=fen),
            Line(ledger.account(org_id, credit), credit_fen=fen),
        ],
    )


@pytest.fixture
def board(demo_app):
    """Tonight's session with the demo vendors on stalls, and October closed in the ledger."""
    demo_app.config["CLOCK"] = FixedClock(NOW)
    demo_app.config["PUBLIC_VERIFY_TTL"] = 0
    with demo_app.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        org = market.organization
        cadre = db.session.scalar(select(User).where(User.phone == "13800000001"))
        session = builders.session(
            market,
            starts_at=NOW - timedelta(hours=1),
            ends_at=NOW + timedelta(hours=3, minutes=30),
            state="open",
        )
        stalls = db.session.scalars(select(Stall).where(Stall.market_id == market.id)).all()
        vendors = db.session.scalars(select(Vendor)).all()
        for stall, vendor in zip(stalls, vendors, strict=False):
            builders.charge(builders.checkin(session, stall, vendor), base_fen=1500)
        ledger.ensure_chart(org)
        _post(org.id, date(2026, 10, 15), "t:income", "office_cash", "fee_income", 100_000)
        _post(org.id, date(2026, 10, 16), "t:relief", "fee_relief", "office_cash", 5_000)
        _post(org.id, date(2026, 10, 20), "t:cleaning", "cleaning", "office_cash", 15_000)
        ledger_periods.close_month(org, date(2026, 10, 1), cadre, at=NOW)
        db.session.commit()
    return demo_app


def test_the_board_without_logging_in(board, client):
    r = client.get("/p/jinhui")
    assert r.status_code == 200
    page = r.text
    assert "金汇潮汐市场" in page
    assert "正在营业，22:30 闭市" in page
    assert "18:00–22:30" in page and "06:00–08:30" in page
    assert 'class="map-svg"' in page and "A-01" in page
    # October: 1000 income, 50 relief, 150 cleaning → 800 net; 40 % is 320 for the fund.
    assert "2026年10月" in page
    assert "800.00" in page and "320.00" in page and "480.00" in page and "40%" in page
    assert "320.00" in page.split("治理专项资金")[1][:400]
    assert "完好" in page  # the ledger verifies
    with board.app_context():
        head = ledger.chain_head(db.session.scalar(select(Market.organization_id)))
    assert head.entry_hash[:32] in page
    assert "0812-3335566" in page and "金汇社区服务中心" in page
    # Nothing to run, nothing to post: the one form looks a tracking code up (GET).
    assert "<script" not in page and 'method="post"' not in page.lower()
    assert len(r.data) < 60_000
    assert r.headers["Cache-Control"] == "public, max-age=60"


def test_english(board, client):
    page = client.get("/p/jinhui?lang=en").text
    assert "Where the money went" in page and "Governance fund (40%)" in page


def test_hours_show_what_is_in_force_and_what_starts_soon_with_dates(board, client):
    with board.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        today = date(2026, 11, 23)
        builders.template(
            market,
            name="冬季早市",
            kind="special",
            valid_from=today + timedelta(days=10),
            start_local=time(7),
            end_local=time(9),
        )
        builders.template(
            market,
            name="远期夜市",
            kind="special",
            valid_from=date(9999, 12, 30),
            start_local=time(12),
            end_local=time(13),
        )
        builders.template(
            market,
            name="年货夜市",
            kind="special",
            valid_from=date(2026, 11, 1),
            valid_until=date(2026, 12, 31),
            start_local=time(17),
            end_local=time(23),
        )
        db.session.commit()
    page = client.get("/p/jinhui?lang=en").text
    assert "冬季早市" in page and "from Dec 3, 2026" in page
    assert "年货夜市" in page and "until Dec 31, 2026" in page
    assert "远期夜市" not in page and "12:00–13:00" not in page


def test_no_vendor_names_phones_or_amounts_on_any_public_page(board, client):
    with board.app_context():
        names = db.session.scalars(select(User.name).join(Vendor, Vendor.user_id == User.id)).all()
        goods = db.session.scalars(select(Vendor.goods)).all()
    assert len(names) == 3
    for path in ("/p/jinhui", "/p/jinhui?lang=en", "/p/jinhui/print", "/p/jinhui/print?lang=en"):
        page = client.get(path).text
        assert not MOBILE.findall(page), path
        for text in (*names, *goods):
            assert text not in page, (path, text)
        assert "15.00" not in page  # a check-in's fee is nobody's business here


def test_a_tampered_ledger_shows_on_the_board(board, client):
    assert "完好" in client.get("/p/jinhui").text
    with board.app_context():
        tamper("UPDATE ledger_lines SET debit_fen = debit_fen + 1 WHERE id = 1")
    page = client.get("/p/jinhui").text
    assert "完好" not in page and "核验发现问题" in page


def test_a_loss_month_sets_nothing_aside_and_says_so(demo_app, client):
    demo_app.config["CLOCK"] = FixedClock(NOW)
    demo_app.config["PUBLIC_VERIFY_TTL"] = 0
    with demo_app.app_context():
        org = db.session.scalar(select(Market).where(Market.slug == "jinhui")).organization
        cadre = db.session.scalar(select(User).where(User.phone == "13800000001"))
        ledger.ensure_chart(org)
        _post(org.id, date(2026, 10, 15), "t:income", "office_cash", "fee_income", 29_600)
        _post(org.id, date(2026, 10, 20), "t:barriers", "barriers", "bank", 80_000)
        close = ledger_periods.close_month(org, date(2026, 10, 1), cadre, at=NOW)
        entry = db.session.get(LedgerEntry, close.entry_id)
        assert entry.description == (
            "2026-10 月结：亏损 ¥504.00，不提取治理专项资金，亏损计入可分配收益"
        )
        db.session.commit()
    month = client.get("/p/jinhui").text.split("2026年10月")[1].split("</article>")[0]
    assert "-504.00" in month and "亏损计入可分配收益" in month
    assert "× 40% =" not in month  # no arithmetic of a share that was never set aside
    english = client.get("/p/jinhui?lang=en").text
    assert "The month lost 504.00 yuan" in english


def test_the_month_close_entry_states_the_share_in_yuan():
    assert ledger_periods.close_memo(date(2026, 10, 1), 80_000, 40, 32_000) == (
        "2026-10 月结：净收益 ¥800.00，治理专项资金 40% 即 ¥320.00"
    )


def test_before_any_month_is_closed(demo_app, client):
    demo_app.config["CLOCK"] = FixedClock(NOW)
    page = client.get("/p/jinhui").text
    assert "还没有结账的月份" in page and "暂无分录" in page


def test_printable_a4_with_a_qr_code_to_the_live_page(board, client):
    r = client.get("/p/jinhui/print", base_url="https://market.example.org")
    assert r.status_code == 200
    assert "https://market.example.org/p/jinhui" in r.text
    assert '<svg class="qr"' in r.text and "css/public-print." in r.text
    assert "320.00" in r.text


@pytest.mark.parametrize("path", ["/p/nowhere", "/p/nowhere/print", "/p/" + "x" * 80, "/p/"])
def test_unknown_markets_are_404(client, path):
    assert client.get(path).status_code == 404


def test_an_inactive_market_has_no_board(demo_app, client):
    with demo_app.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        market.is_active = False
        db.session.commit()
    assert client.get("/p/jinhui").status_code == 404
