"""Query strings and addresses a person can type, reload or bookmark: a bounded answer or a
redirect to the page the form is on, never a 500 or a 405."""

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import CheckIn, Market
from tests.guide.test_board_views import GUIDE, _vendor_checks_in, evening  # noqa: F401

HUGE = "9" * 20  # past SQLite's 64-bit INTEGER


def _market_id(demo_app):
    with demo_app.app_context():
        return db.session.scalar(select(Market.id))


@pytest.mark.parametrize("page", [HUGE, "99999", "0", "-3", "abc", "١", ""])
def test_vendor_list_page_is_bounded(client, auth, page):
    auth.login()
    r = client.get(f"/vendors/list?page={page}")
    assert r.status_code == 200


def test_other_page_and_id_arguments_are_bounded(demo_app, client, auth):
    auth.login()
    mid = _market_id(demo_app)
    assert client.get(f"/reports/organizations/1/audit?page={HUGE}").status_code == 200
    assert client.get(f"/zoning/markets/{mid}?zone={HUGE}").status_code == 200
    posters = client.get(f"/zoning/markets/{mid}/posters?zone={HUGE}")
    assert posters.status_code == 422 and "请选择本市场的片区" in posters.text


def test_vendor_search_service_clamps_the_page(demo_ctx):
    from market.services.vendors import registry as vendors

    items, total = vendors.search([1], page=10**20)
    assert items == [] and total > 0


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "1999-12", "2101-01", "abc", "2026-13"])
def test_complaint_stats_month_out_of_range_is_a_400_with_a_message(demo_app, client, auth, month):
    auth.login()
    r = client.get(f"/complaints/markets/{_market_id(demo_app)}/stats?month={month}")
    assert r.status_code == 400 and "请按 YYYY-MM 填写月份" in r.text
    ok = client.get(f"/complaints/markets/{_market_id(demo_app)}/stats?month=2026-11")
    assert ok.status_code == 200


@pytest.mark.parametrize("kind", ["sessions", "days", "stalls", "zones", "handovers"])
def test_csv_downloads_name_one_charset(demo_app, client, auth, kind):
    auth.login()
    r = client.get(f"/reports/markets/{_market_id(demo_app)}/export/{kind}.csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_audit_csv_names_one_charset(client, auth):
    auth.login()
    r = client.get("/reports/organizations/1/audit.csv")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_get_on_a_post_only_form_address_goes_back_to_its_page(
    demo_app,
    client,
    auth,
    evening,  # noqa: F811
):
    token, sid = evening["A-01"]
    for path in ("checkin", "move"):
        r = client.get(f"/s/{token}/{path}")
        assert r.status_code == 303 and r.headers["Location"].endswith(f"/s/{token}")
    _vendor_checks_in(client, auth, evening)
    with demo_app.app_context():
        ci_id = db.session.scalar(select(CheckIn.id).where(CheckIn.stall_id == sid))
    auth.login("13800000003")
    for action in ("pay", "cash", "waive", "checkout"):
        r = client.get(f"/receipts/{ci_id}/{action}")
        assert r.status_code == 303 and r.headers["Location"].endswith(f"/receipts/{ci_id}")
    auth.logout()
    auth.login(GUIDE)
    r = client.get(f"/guide/markets/{_market_id(demo_app)}/handover")
    assert r.status_code == 303 and r.headers["Location"].endswith("/guide/shift")
