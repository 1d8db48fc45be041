"""`flask market demo` adds the street office: 炳草岗街道 over 金汇 and 渡口, a supervisor,
and two flags raised honestly on 渡口; running it again changes nothing."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from market.extensions import db
from market.models import Area, Market, Stall, User
from market.services.areas import dashboard
from market.services.auth import access
from market.services.common.clock import FixedClock

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def test_demo_adds_the_street_office_once(app):
    app.config["CLOCK"] = FixedClock(NOW)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["market", "demo"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["market", "demo"])
    assert "already present" in again.output
    with app.app_context():
        area = db.session.scalar(select(Area).where(Area.name == "炳草岗街道"))
        assert [o.short_name for o in area.organizations] == ["金汇社区", "渡口社区"]
        dukou = db.session.scalar(select(Market).where(Market.slug == "dukou"))
        stalls = select(func.count()).select_from(Stall).where(Stall.market_id == dukou.id)
        assert db.session.scalar(stalls) == 20
        supervisor = db.session.scalar(select(User).where(User.phone == "13800000007"))
        assert supervisor.check_password("demo1234")
        assert access.supervised_area_ids(supervisor) == {area.id}
        jinhui, dk = dashboard.rows_for(area, datetime(2026, 11, 1).date(), NOW, NOW.date())
        assert dk.flags.get("unreconciled", 0) >= 1
        assert dk.flags.get("handover_gap") == 1
        assert "books" not in dk.flags and "books" not in jinhui.flags
