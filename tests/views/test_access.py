"""Roles AND objects: a guide of one market sees nothing of another; vendors see no staff pages."""

from market.extensions import db
from market.models import Market, Role
from tests import builders as b


def _other_market(app):
    with app.app_context():
        market = b.market(name="别的市场", slug="other")
        db.session.commit()
        return market.id


def _demo_market_id(app):
    with app.app_context():
        return db.session.scalar(db.select(Market.id).where(Market.slug == "jinhui"))


def test_guide_sees_own_board_not_another_markets(demo_app, client, auth):
    other = _other_market(demo_app)
    own = _demo_market_id(demo_app)
    auth.login("13800000002")
    assert client.get(f"/guide/markets/{own}/board").status_code == 200
    assert client.get(f"/guide/markets/{other}/board").status_code in (403, 404)
    assert client.get("/guide/markets/99999999999999999999/board").status_code == 404


def test_guide_of_market_b_in_same_org_is_refused_market_a(demo_app, client):
    with demo_app.app_context():
        market_a = db.session.scalar(db.select(Market).where(Market.slug == "jinhui"))
        market_b = b.market(market_a.organization, slug="market-b")
        b.user("13911112222", Role.GUIDE, market_a.organization, market_b, password="guide-pass-1")
        db.session.commit()
        a_id, b_id = market_a.id, market_b.id
    from tests.conftest import Auth

    Auth(client).login("13911112222", "guide-pass-1")
    assert client.get(f"/guide/markets/{b_id}/board").status_code == 200
    assert client.get(f"/guide/markets/{a_id}/board").status_code in (403, 404)


def test_cadre_sees_boards_of_own_organization_only(demo_app, client, auth):
    other = _other_market(demo_app)
    auth.login("13800000001")
    assert client.get(f"/guide/markets/{_demo_market_id(demo_app)}/board").status_code == 200
    assert client.get(f"/guide/markets/{other}/board").status_code in (403, 404)


def test_vendor_is_refused_staff_pages(client, auth):
    auth.login("13800000003")
    assert client.get("/admin/").status_code == 403
    assert client.get("/guide/").status_code == 403


def test_guide_is_refused_cadre_pages(client, auth):
    auth.login("13800000002")
    assert client.get("/admin/").status_code == 403


def test_cadre_dashboard_shows_the_demo_market(client, auth):
    auth.login("13800000001")
    r = client.get("/admin/")
    assert "金汇潮汐市场" in r.text
    assert "3 个片区，40 个摊位" in r.text
    assert "待审核摊主：1 位" in r.text
