"""The sessions API: listing by business date, cadre actions, templates, closures, roles,
the error format and the OpenAPI document."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import Market, MarketSession, SessionTemplate
from market.services.common.clock import FixedClock
from market.services.sessions import tide as sessions
from tests import builders as b
from tests.api.test_api import assert_error, bearer, token_for

CADRE, GUIDE, VENDOR = "13800000001", "13800000002", "13800000003"
MONDAY_10 = datetime.fromisoformat("2026-11-23T10:00+08:00")


@pytest.fixture
def clock(demo_app):
    demo_app.config["CLOCK"] = clock = FixedClock(MONDAY_10)
    with demo_app.app_context():
        sessions.reconcile(clock())
        db.session.commit()
    return clock


@pytest.fixture
def ids(demo_app, clock):
    with demo_app.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        tonight = db.session.scalar(
            select(MarketSession)
            .where(MarketSession.market_id == market.id, MarketSession.kind == "night")
            .order_by(MarketSession.starts_at)
        )
        night = db.session.scalar(select(SessionTemplate).where(SessionTemplate.kind == "night"))
        return {"market": market.id, "tonight": tonight.id, "night": night.id}


@pytest.fixture
def cadre(client):
    return bearer(token_for(client, CADRE))


@pytest.fixture
def guide(client):
    return bearer(token_for(client, GUIDE))


@pytest.fixture
def vendor(client):
    return bearer(token_for(client, VENDOR))


@pytest.fixture
def other_market(demo_app):
    with demo_app.app_context():
        market = b.market()
        b.template(market)
        sessions.reconcile(MONDAY_10)
        db.session.commit()
        return market.id


# --- listing and reading ---------------------------------------------------------------------


def test_list_the_next_two_weeks(client, cadre, ids):
    r = client.get(f"/api/v1/markets/{ids['market']}/sessions", headers=cadre)
    assert r.status_code == 200, r.json
    assert r.json["total"] == 18  # 14 nights from today, 4 weekend mornings
    first = r.json["items"][0]
    assert first["business_date"] == "2026-11-23" and first["state"] == "scheduled"
    assert first["starts_local"] == "2026-11-23T18:00:00+08:00"
    assert first["starts_at"].startswith("2026-11-23T10:00:00")
    assert first["name"] == "夜市" and first["timezone"] == "Asia/Shanghai"


def test_list_by_dates_and_pages(client, cadre, ids):
    url = f"/api/v1/markets/{ids['market']}/sessions?from=2026-11-28&to=2026-11-29"
    r = client.get(url, headers=cadre)
    kinds = [(s["business_date"], s["kind"]) for s in r.json["items"]]
    assert kinds == [
        ("2026-11-28", "morning"),
        ("2026-11-28", "night"),
        ("2026-11-29", "morning"),
        ("2026-11-29", "night"),
    ]
    r = client.get(url + "&per_page=3&page=2", headers=cadre)
    assert r.json["total"] == 4 and len(r.json["items"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-11-30&to=2026-11-29",
        "from=2026-01-01&to=2026-12-31",
        "from=2026-13-01",
        "to=yesterday",
        "to=2026-11-01",  # before today, where `from` defaults to
        "per_page=1000",
        "from=9999-12-31",  # far enough to overflow date arithmetic
    ],
)
def test_bad_dates_422(client, cadre, ids, query):
    r = client.get(f"/api/v1/markets/{ids['market']}/sessions?{query}", headers=cadre)
    assert_error(r, 422)


def test_roles_on_reading(client, guide, vendor, ids, other_market):
    url = f"/api/v1/markets/{ids['market']}/sessions"
    assert client.get(url, headers=guide).status_code == 200
    assert (
        client.get(f"/api/v1/sessions/{ids['tonight']}", headers=guide).json["id"]
        == (ids["tonight"])
    )
    assert_error(client.get(url, headers=vendor), 403, "forbidden")
    assert_error(client.get(f"/api/v1/sessions/{ids['tonight']}", headers=vendor), 403)
    assert_error(client.get(url), 401, "missing_token")
    assert_error(client.get(f"/api/v1/markets/{other_market}/sessions", headers=guide), 404)
    with client.application.app_context():
        foreign = db.session.scalar(
            select(MarketSession.id).where(MarketSession.market_id == other_market)
        )
    assert_error(client.get(f"/api/v1/sessions/{foreign}", headers=guide), 404)
    assert_error(client.get("/api/v1/sessions/99999999999999999999", headers=guide), 404)


# --- actions ---------------------------------------------------------------------------------


def test_cancel_an_open_session(client, cadre, guide, clock, ids):
    url = f"/api/v1/sessions/{ids['tonight']}"
    clock.set(datetime.fromisoformat("2026-11-23T18:10+08:00"))
    assert client.post(f"{url}/open", headers=cadre).json["state"] == "open"
    assert_error(client.post(f"{url}/cancel", headers=guide, json={"reason": "暴雨"}), 403)
    assert_error(client.post(f"{url}/cancel", headers=cadre, json={}), 422)
    assert_error(client.post(f"{url}/cancel", headers=cadre, json={"reason": "  "}), 422)
    r = client.post(f"{url}/cancel", headers=cadre, json={"reason": "暴雨"})
    assert r.status_code == 200
    assert (r.json["state"], r.json["cancel_reason"], r.json["is_manual"]) == (
        "cancelled",
        "暴雨",
        True,
    )
    assert r.json["closed_at"].startswith("2026-11-23T10:10:00")
    assert_error(client.post(f"{url}/cancel", headers=cadre, json={"reason": "x"}), 409)
    assert_error(client.post(f"{url}/close", headers=cadre), 409, "not_open")


def test_open_extend_close(client, cadre, clock, ids):
    url = f"/api/v1/sessions/{ids['tonight']}"
    assert_error(client.post(f"{url}/open", headers=cadre), 409, "too_early")
    clock.set(datetime.fromisoformat("2026-11-23T17:30+08:00"))
    r = client.post(f"{url}/open", headers=cadre)
    assert r.json["state"] == "open" and r.json["opened_at"].startswith("2026-11-23T09:30")
    r = client.post(f"{url}/extend", headers=cadre, json={"ends_at": "2026-11-23T23:30+08:00"})
    assert r.status_code == 200 and r.json["ends_local"] == "2026-11-23T23:30:00+08:00"
    for body in (
        {"ends_at": "2026-11-23T23:30"},  # no offset: which 23:30?
        {"ends_at": "2026-11-23T21:00+08:00"},  # earlier than the current end
        {"ends_at": "soon"},
        {"ends_at": "9999-12-31T23:59:59-14:00"},
    ):
        assert_error(client.post(f"{url}/extend", headers=cadre, json=body), 422)
    error = assert_error(
        client.post(f"{url}/extend", headers=cadre, json={"ends_at": "2026-11-24T19:00+08:00"}),
        409,
        "overlaps_next",
    )
    assert "ends_at" in error["details"]
    clock.set(datetime.fromisoformat("2026-11-23T22:00+08:00"))
    r = client.post(f"{url}/close", headers=cadre)
    assert r.json["state"] == "closed" and r.json["closed_at"].startswith("2026-11-23T14:00")


def test_reinstate(client, cadre, ids):
    url = f"/api/v1/sessions/{ids['tonight']}"
    client.post(f"{url}/cancel", headers=cadre, json={"reason": "道路施工"})
    r = client.post(f"{url}/reinstate", headers=cadre)
    assert r.status_code == 200 and r.json["state"] == "scheduled"
    assert_error(client.post(f"{url}/reinstate", headers=cadre), 409, "not_reinstatable")


def test_reopen_a_session_closed_too_early(demo_app, client, cadre, guide, ids, clock):
    url = f"/api/v1/sessions/{ids['tonight']}"
    clock.set(datetime.fromisoformat("2026-11-23T19:00+08:00"))
    client.post(f"{url}/open", headers=cadre)
    assert client.post(f"{url}/close", headers=cadre).json["state"] == "closed"
    assert_error(client.post(f"{url}/reopen", headers=cadre, json={}), 422)
    assert client.post(f"{url}/reopen", headers=guide, json={"reason": "误关"}).status_code == 403
    r = client.post(f"{url}/reopen", headers=cadre, json={"reason": "误关"})
    assert r.status_code == 200 and r.json["state"] == "open" and r.json["closed_at"] is None
    assert_error(
        client.post(f"{url}/reopen", headers=cadre, json={"reason": "再"}), 409, "not_closed"
    )
    client.post(f"{url}/close", headers=cadre)
    clock.set(datetime.fromisoformat("2026-11-23T22:31+08:00"))  # its hours are over
    r = client.post(f"{url}/reopen", headers=cadre, json={"reason": "误关"})
    assert_error(r, 409, "session_over")


# --- templates -------------------------------------------------------------------------------

FRIDAY_LATE = {
    "name": "周五深夜场",
    "kind": "special",
    "weekdays": [5],
    "start_local": "23:00",
    "end_local": "02:00",
    "cutoff_minutes": 30,
    "valid_from": "2026-11-23",
}


def test_templates_list_and_create(demo_app, client, cadre, guide, ids):
    url = f"/api/v1/markets/{ids['market']}/session-templates"
    listed = client.get(url, headers=guide).json
    assert listed["total"] == 2 and {t["name"] for t in listed["items"]} == {"夜市", "周末早市"}
    night = next(t for t in listed["items"] if t["kind"] == "night")
    assert night["weekdays"] == [1, 2, 3, 4, 5, 6, 7] and night["end_local"] == "22:30"
    assert_error(client.post(url, headers=guide, json=FRIDAY_LATE), 403)
    r = client.post(url, headers=cadre, json=FRIDAY_LATE)
    assert r.status_code == 201, r.json
    with demo_app.app_context():
        friday = db.session.scalar(
            select(MarketSession).where(MarketSession.template_id == r.json["id"])
        )
        assert friday.business_date.isoformat() == "2026-11-27"
        assert friday.ends_at == datetime.fromisoformat("2026-11-28T02:00+08:00")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"end_local": "23:00"}, "end_equals_start"),
        ({"weekdays": [5, 8]}, None),
        ({"weekdays": []}, None),
        ({"cutoff_minutes": 200}, "cutoff_after_end"),
        ({"start_local": "24:00"}, None),
        ({"kind": "evening"}, None),
        ({"valid_from": "2026-02-30"}, None),
    ],
)
def test_bad_template_422(client, cadre, ids, change, code):
    url = f"/api/v1/markets/{ids['market']}/session-templates"
    error = assert_error(client.post(url, headers=cadre, json=FRIDAY_LATE | change), 422, code)
    assert error.get("details")


def test_template_in_a_market_with_an_unknown_zone(demo_app, client, cadre, ids):
    with demo_app.app_context():
        db.session.get(Market, ids["market"]).timezone = "Asia/Shangai"
        db.session.commit()
    url = f"/api/v1/markets/{ids['market']}/session-templates"
    error = assert_error(client.post(url, headers=cadre, json=FRIDAY_LATE), 422, "invalid_timezone")
    assert "Asia/Shangai" in error["message"]


def test_overlapping_template_409(client, cadre, ids):
    url = f"/api/v1/markets/{ids['market']}/session-templates"
    body = FRIDAY_LATE | {"kind": "night", "start_local": "20:00", "end_local": "23:00"}
    assert_error(client.post(url, headers=cadre, json=body), 409, "template_overlap")


def test_patch_moves_future_sessions_and_delete_deactivates(demo_app, client, cadre, ids):
    url = f"/api/v1/session-templates/{ids['night']}"
    r = client.patch(url, headers=cadre, json={"start_local": "18:30"})
    assert r.status_code == 200 and r.json["start_local"] == "18:30"
    s = client.get(f"/api/v1/sessions/{ids['tonight']}", headers=cadre).json
    assert s["starts_local"] == "2026-11-23T18:30:00+08:00"
    assert_error(client.patch(url, headers=cadre, json={"weekdays": [0]}), 422)
    with demo_app.app_context():  # give the template a past session: it can't be deleted now
        sessions.reconcile(datetime.fromisoformat("2026-11-23T23:00+08:00"))
        db.session.commit()
    r = client.delete(url, headers=cadre)
    assert r.status_code == 200 and r.json == {"outcome": "deactivated"}
    assert client.get(url, headers=cadre).json["is_active"] is False
    with demo_app.app_context():
        ahead = db.session.scalar(
            select(func.count())
            .select_from(MarketSession)
            .where(MarketSession.template_id == ids["night"], MarketSession.state == "scheduled")
        )
    assert ahead == 0


def test_delete_an_unused_template(client, cadre, ids):
    url = f"/api/v1/markets/{ids['market']}/session-templates"
    body = FRIDAY_LATE | {"valid_from": "2027-06-01"}
    created = client.post(url, headers=cadre, json=body).json
    r = client.delete(f"/api/v1/session-templates/{created['id']}", headers=cadre)
    assert r.json == {"outcome": "deleted"}
    assert_error(client.get(f"/api/v1/session-templates/{created['id']}", headers=cadre), 404)


def test_templates_of_another_organization_404(client, cadre, other_market):
    url = f"/api/v1/markets/{other_market}/session-templates"
    assert_error(client.get(url, headers=cadre), 404)
    assert_error(client.post(url, headers=cadre, json=FRIDAY_LATE), 404)


# --- closures --------------------------------------------------------------------------------


def test_closures(client, cadre, guide, ids):
    url = f"/api/v1/markets/{ids['market']}/closures"
    body = {"first_date": "2026-11-25", "last_date": "2026-11-26", "reason": "道路施工"}
    assert_error(client.post(url, headers=guide, json=body), 403)
    assert_error(client.post(url, headers=cadre, json=body | {"last_date": "2026-11-24"}), 422)
    r = client.post(url, headers=cadre, json=body)
    assert r.status_code == 201
    closure_id = r.json["id"]
    listed = client.get(url, headers=guide).json["items"]
    assert [c["reason"] for c in listed] == ["道路施工"]
    days = client.get(
        f"/api/v1/markets/{ids['market']}/sessions?from=2026-11-25&to=2026-11-26", headers=cadre
    ).json["items"]
    assert {s["state"] for s in days} == {"cancelled"}
    r = client.post(f"/api/v1/closures/{closure_id}/lift", headers=cadre)
    assert r.status_code == 200 and r.json["lifted_at"]
    assert_error(client.post(f"/api/v1/closures/{closure_id}/lift", headers=cadre), 409)


# --- the document ----------------------------------------------------------------------------


def test_openapi_documents_every_answer(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    listing = paths["/api/v1/markets/{market_id}/sessions"]["get"]
    assert {"200", "401", "403", "404", "422"} <= set(listing["responses"])
    assert {p["name"] for p in listing["parameters"]} >= {"from", "to", "page", "per_page"}
    for action in ("open", "close", "cancel", "extend", "reinstate", "reopen"):
        op = paths[f"/api/v1/sessions/{{session_id}}/{action}"]["post"]
        assert {"200", "401", "403", "404", "409", "422"} <= set(op["responses"])
        assert op["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/Error"
        )
    templates = paths["/api/v1/session-templates/{template_id}"]
    assert {"get", "patch", "delete"} <= set(templates)
