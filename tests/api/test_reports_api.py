"""Reports API: a day's takings per session and a month by day, for cadres only."""

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Organization
from market.services.sessions import takings
from tests import builders
from tests.api.test_api import assert_error, bearer, token_for
from tests.trade import DAY1, TOTALS, trade

API_TOTALS = {
    "charges": TOTALS["charges"],
    "expected_fen": TOTALS["expected"],
    "cash_fen": TOTALS["cash"],
    "collection_code_fen": TOTALS["code"],
    "collected_fen": TOTALS["collected"],
    "relief_fen": TOTALS["relief"],
    "waived_fen": TOTALS["waived"],
    "pending_fen": TOTALS["pending"],
    "unpaid_fen": TOTALS["unpaid"],
}


@pytest.fixture
def shop(demo_app):
    with demo_app.app_context():
        org = db.session.scalar(select(Organization))
        mkt = builders.market(organization=org, slug="second")
        made = trade(mkt)
        first = takings.session_takings(made["sessions"][0])
        db.session.commit()
        return {"market": mkt.id, "s1": made["sessions"][0].id, "s1_takings": first}


@pytest.fixture
def cadre(client):
    return bearer(token_for(client))


def test_daily_matches_session_takings(client, shop, cadre):
    r = client.get(f"/api/v1/markets/{shop['market']}/reports/daily?date={DAY1}", headers=cadre)
    assert r.status_code == 200, r.json
    body = r.json
    assert body["date"] == DAY1.isoformat() and len(body["sessions"]) == 2
    night = next(s for s in body["sessions"] if s["session_id"] == shop["s1"])
    t = shop["s1_takings"]
    assert night["expected_fen"] == t.expected_fen == 3000
    assert night["cash_fen"] == t.collected_fen["cash"]
    assert night["unpaid_fen"] == t.unpaid_fen == 400
    assert body["totals"]["waived_fen"] == 800 and body["totals"]["expected_fen"] == 3800


def test_monthly_days_and_totals(client, shop, cadre):
    r = client.get(f"/api/v1/markets/{shop['market']}/reports/monthly?month=2026-11", headers=cadre)
    assert r.status_code == 200, r.json
    assert [d["date"] for d in r.json["days"]] == ["2026-11-02", "2026-11-03"]
    assert r.json["totals"] == API_TOTALS
    empty = client.get(
        f"/api/v1/markets/{shop['market']}/reports/monthly?month=2025-11", headers=cadre
    )
    assert empty.json["days"] == [] and empty.json["totals"]["expected_fen"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "monthly?month=2026-13",
        "monthly?month=Nov",
        "monthly?month=0000-01",
        "daily?date=2026-02-30",
        "daily?date=1800-01-01",
        "daily?date=x",
    ],
)
def test_bad_dates_are_422(client, shop, cadre, query):
    assert_error(
        client.get(f"/api/v1/markets/{shop['market']}/reports/{query}", headers=cadre), 422
    )


def test_cadres_only(demo_app, client, shop):
    url = f"/api/v1/markets/{shop['market']}/reports/daily"
    assert_error(client.get(url), 401)
    assert_error(client.get(url, headers=bearer(token_for(client, "13800000002"))), 403)  # guide
    assert_error(client.get(url, headers=bearer(token_for(client, "13800000003"))), 403)  # vendor
    with demo_app.app_context():
        from market.models import Role

        stranger = builders.user(role=Role.CADRE, organization=builders.org())
        db.session.commit()
        phone = stranger.phone
    other = bearer(token_for(client, phone, "secret-pass-1"))
    assert_error(client.get(url, headers=other), 404)
    assert_error(client.get("/api/v1/markets/99999999999/reports/daily", headers=other), 404)


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/markets/{market_id}/reports/daily" in spec["paths"]
    assert "/api/v1/markets/{market_id}/reports/monthly" in spec["paths"]
