"""The community office page opens with 等我处理: counts with links, or nothing waiting."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Expense, Market, Role, User, Vendor, VendorStatus
from market.services.common.clock import FixedClock
from market.services.ledger import entries as ledger
from tests import builders
from tests.trade import DAY1, evening, handover

NOW = datetime(2026, 11, 5, 4, 0, tzinfo=UTC)


@pytest.fixture
def office(demo_app, auth):
    demo_app.config["CLOCK"] = FixedClock(NOW)
    auth.login("13800000001")
    return auth.client


def _demo(app):
    market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
    admin = db.session.scalar(select(User).where(User.phone == "13800000001"))
    return market, admin


def test_waiting_items_are_counts_with_links(demo_app, office):
    with demo_app.app_context():
        market, admin = _demo(demo_app)
        org = market.organization
        ledger.ensure_chart(org)
        other = builders.user(role=Role.CADRE, organization=org, name="赵会计")
        guide = builders.user(role=Role.GUIDE, organization=org, mkt=market, name="引导员丁")
        for recorder in (other, admin):  # hers does not wait for her
            db.session.add(
                Expense(
                    organization_id=org.id,
                    account_id=ledger.account(org.id, "cleaning").id,
                    amount_fen=90_000,
                    spent_on=DAY1,
                    description="保洁",
                    paid_from="office_cash",
                    state="pending",
                    recorded_by_id=recorder.id,
                )
            )
        handover(market, guide, 1500)
        s = evening(market, DAY1)
        builders.charge(builders.checkin(s, vendor_=builders.vendor(org, status="approved")))
        food = db.session.scalar(select(Vendor).where(Vendor.sells_food.is_(True)).limit(1))
        food.status = VendorStatus.APPROVED
        food.health_cert_expires = NOW.date() + timedelta(days=3)
        db.session.commit()
        org_id, food_id = org.id, food.id
    page = office.get("/admin/?lang=en").text
    todo = page.split('id="todo-title"')[1].split("</section>")[0]
    assert "To do for me" in page
    assert f'href="/ledger/{org_id}/expenses"><span class="n">1</span>' in todo
    assert 'href="/guide/handovers"><span class="n">1</span>' in todo
    assert f'href="/ledger/{org_id}/periods"><span class="n">1</span>' in todo
    assert "fees ¥10.00, collected ¥0.00, unpaid ¥10.00" in todo
    assert 'href="/vendors/queue"><span class="n">' in todo
    assert f'href="/vendors/{food_id}"' in todo
    assert "Nothing is waiting for you." not in todo


def test_nothing_waiting_says_so(demo_app, office):
    with demo_app.app_context():
        for v in db.session.scalars(select(Vendor)):
            v.status = VendorStatus.APPROVED
            v.health_cert_expires = v.health_cert_expires and NOW.date().replace(year=2030)
        db.session.commit()
    page = office.get("/admin/?lang=en").text
    todo = page.split('id="todo-title"')[1].split("</section>")[0]
    assert "Nothing is waiting for you." in todo and 'class="todo"' not in todo


def test_guides_do_not_get_the_office_page(demo_app, auth):
    auth.login("13800000002")
    assert auth.client.get("/admin/").status_code == 403
