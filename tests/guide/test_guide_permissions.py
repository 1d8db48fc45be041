"""A guide sees only their markets: every board, panel, action and API route of another market
answers 404 (or 403 for a role that is never allowed), through pages and API."""

import pytest

from market.extensions import db
from market.models import Role
from market.services.checkin import payments
from market.services.common.clock import now
from market.services.guide import handovers, incidents
from tests import builders as b
from tests.api.test_api import bearer, token_for
from tests.conftest import csrf_from


@pytest.fixture
def elsewhere(demo_app):
    """Another community's market with an occupied stall, a cash hand-over and an incident."""
    with demo_app.app_context():
        org = b.org()
        mkt = b.market(org)
        stall = b.stall(b.zone(mkt))
        other_guide = b.user(role=Role.GUIDE, organization=org, mkt=mkt)
        session = b.session(mkt, state="open")
        ci = b.checkin(session, stall, b.vendor(org))
        charge = b.charge(ci, base_fen=1500)
        pay = payments.report_collection_code(charge, 1500, "88", ci.vendor.user)
        cash_charge = b.charge(b.checkin(session, b.stall(stall.zone), b.vendor(org)))
        payments.record_cash(cash_charge, 1000, other_guide)
        handover = handovers.hand_over(other_guide, mkt, 1000, now())
        incident = incidents.open_incident(mkt, "noise", "吵", now(), stall=stall)
        db.session.commit()
        return {
            "market": mkt.id,
            "stall": stall.id,
            "session": session.id,
            "payment": pay.id,
            "handover": handover.id,
            "incident": incident.id,
            "checkin": ci.id,
        }


PAGES = [
    ("get", "/guide/markets/{market}/board"),
    ("get", "/guide/markets/{market}/board/live"),
    ("get", "/guide/stalls/{stall}"),
    ("post", "/guide/stalls/{stall}/cash"),
    ("post", "/guide/stalls/{stall}/payments/{payment}/confirm"),
    ("post", "/guide/stalls/{stall}/checkout"),
    ("post", "/guide/stalls/{stall}/move"),
    ("post", "/guide/stalls/{stall}/checkin"),
    ("post", "/guide/stalls/{stall}/incidents"),
    ("post", "/guide/incidents/{incident}/resolve"),
    ("post", "/guide/markets/{market}/handover"),
]


@pytest.mark.parametrize("phone", ["13800000002", "13800000001"])
def test_pages_of_another_market_are_404(client, auth, elsewhere, phone):
    auth.login(phone)
    token = csrf_from(client.get("/password").text)
    for method, pattern in PAGES:
        url = pattern.format(**elsewhere)
        r = client.get(url) if method == "get" else client.post(url, data={"csrf_token": token})
        assert r.status_code == 404, (url, r.status_code)


def test_cadre_of_another_org_cannot_count_the_hand_over(client, auth, elsewhere):
    auth.login("13800000001")
    token = csrf_from(client.get("/password").text)
    r = client.post(
        f"/guide/handovers/{elsewhere['handover']}/confirm",
        data={"csrf_token": token, "count-nonce": "c" * 32, "count-amount": "10"},
    )
    assert r.status_code == 404
    assert "10.00" not in client.get("/guide/handovers").text


def test_vendors_get_403_on_guide_pages(client, auth, elsewhere):
    auth.login("13800000003")
    for url in ("/guide/", "/guide/shift", "/guide/markets/1/board", "/guide/stalls/1"):
        assert client.get(url).status_code == 403, url


def test_api_of_another_market_is_404(client, elsewhere):
    guide = bearer(token_for(client, "13800000002"))
    cadre = bearer(token_for(client, "13800000001"))
    for headers in (guide, cadre):
        assert (
            client.get(
                f"/api/v1/markets/{elsewhere['market']}/occupancy", headers=headers
            ).status_code
            == 404
        )
        assert (
            client.post(
                f"/api/v1/stalls/{elsewhere['stall']}/incidents",
                headers=headers,
                json={"kind": "noise"},
            ).status_code
            == 404
        )
        assert (
            client.get(f"/api/v1/sessions/{elsewhere['session']}/cash", headers=headers).status_code
            == 404
        )
        assert (
            client.post(
                "/api/v1/handovers",
                headers=headers,
                json={"market_id": elsewhere["market"], "declared_fen": 0},
            ).status_code
            == 404
        )
    assert (
        client.post(
            f"/api/v1/handovers/{elsewhere['handover']}/confirm",
            headers=cadre,
            json={"received_fen": 1000},
        ).status_code
        == 404
    )
    vendor = bearer(token_for(client, "13800000003"))
    assert (
        client.get(f"/api/v1/markets/{elsewhere['market']}/occupancy", headers=vendor).status_code
        == 403
    )
