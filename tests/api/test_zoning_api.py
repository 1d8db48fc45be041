"""The stall-zoning API: markets, zones, stalls, QR tokens, roles and the error format."""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import Market, Role, Stall, Zone
from tests import builders as b
from tests.api.test_api import assert_error, bearer, token_for

CADRE, GUIDE, VENDOR = "13800000001", "13800000002", "13800000003"
FREE_CELL = {"grid_row": 5, "grid_col": 0}  # the demo uses rows 0 and 2 only


@pytest.fixture
def demo(demo_app):
    """Ids of the demo layout: the jinhui market, its zones by code and stall A-01."""
    with demo_app.app_context():
        market_id = db.session.scalar(select(Market.id).where(Market.slug == "jinhui"))
        zones = dict(
            db.session.execute(select(Zone.code, Zone.id).where(Zone.market_id == market_id)).all()
        )
        stall_id = db.session.scalar(
            select(Stall.id).where(Stall.market_id == market_id, Stall.code == "A-01")
        )
    return {"market": market_id, "zones": zones, "stall": stall_id}


@pytest.fixture
def cadre(client):
    return bearer(token_for(client, CADRE))


@pytest.fixture
def guide(client):
    return bearer(token_for(client, GUIDE))


def stall_count(app, market_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Stall).where(Stall.market_id == market_id)
        )


def new_market(**extra):
    body = {"organization_id": 1, "name": "金汇早市", "slug": "jinhui-morning"}
    body.update(extra)
    return body


def new_stall(zone, **extra):
    body = {"code": "D-01", "zone_id": zone, **FREE_CELL}
    body.update(extra)
    return body


# --- markets ---------------------------------------------------------------------------------


def test_cadre_lists_the_markets_of_their_organization(client, cadre):
    r = client.get("/api/v1/markets", headers=cadre)
    assert r.status_code == 200
    assert [m["slug"] for m in r.json["items"]] == ["jinhui"]
    assert r.json["total"] == 1 and r.json["page"] == 1 and r.json["per_page"] == 50


def test_guide_lists_the_markets_they_guide(demo_app, client, guide):
    with demo_app.app_context():
        b.market(slug="not-guided")  # same app, another organization: not listed
        db.session.commit()
    r = client.get("/api/v1/markets", headers=guide)
    assert r.status_code == 200
    assert [m["slug"] for m in r.json["items"]] == ["jinhui"]


def test_vendor_may_not_list_markets(client):
    r = client.get("/api/v1/markets", headers=bearer(token_for(client, VENDOR)))
    assert_error(r, 403, "forbidden")


def test_markets_need_a_token(client, demo):
    assert_error(client.get("/api/v1/markets"), 401, "missing_token")
    assert_error(client.get(f"/api/v1/markets/{demo['market']}/stalls"), 401, "missing_token")


def test_create_market(client, cadre):
    r = client.post(
        "/api/v1/markets",
        headers=cadre,
        json=new_market(
            address="金汇路 8 号", latitude=26.5, longitude=101.7, geofence_radius_m=200
        ),
    )
    assert r.status_code == 201, r.json
    assert r.json["slug"] == "jinhui-morning"
    assert r.json["organization_id"] == 1
    assert r.json["timezone"] == "Asia/Shanghai"
    assert r.json["is_active"] is True
    got = client.get(f"/api/v1/markets/{r.json['id']}", headers=cadre)
    assert got.status_code == 200 and got.json["geofence_radius_m"] == 200
    listed = client.get("/api/v1/markets", headers=cadre).json
    assert listed["total"] == 2


def test_create_market_duplicate_slug_409(client, cadre):
    r = client.post("/api/v1/markets", headers=cadre, json=new_market(slug="jinhui"))
    error = assert_error(r, 409, "slug_taken")
    assert "slug" in error["details"]


def test_create_market_slug_with_spaces(client, cadre):
    r = client.post("/api/v1/markets", headers=cadre, json=new_market(slug="jin hui"))
    assert 400 <= r.status_code < 500
    error = assert_error(r, r.status_code, "invalid_slug")
    assert "slug" in error["details"]


def test_create_market_bad_timezone(client, cadre):
    r = client.post("/api/v1/markets", headers=cadre, json=new_market(timezone="Mars/Olympus"))
    error = assert_error(r, 422, "invalid_timezone")
    assert "timezone" in error["details"]


@pytest.mark.parametrize(
    "extra",
    [
        {"latitude": 91},
        {"longitude": -181},
        {"geofence_radius_m": 5},
        {"name": "名" * 121},
        {"slug": None},
        {"unknown_field": 1},
        {"organization_id": 99999999999999999999},
    ],
)
def test_create_market_schema_errors_422(client, cadre, extra):
    r = client.post("/api/v1/markets", headers=cadre, json=new_market(**extra))
    error = assert_error(r, 422, "validation_error")
    assert set(extra) <= set(error["details"]["json"])


def test_create_market_incomplete_geofence(client, cadre):
    r = client.post("/api/v1/markets", headers=cadre, json=new_market(latitude=26.5))
    assert_error(r, 422, "incomplete_geofence")


def test_create_market_in_an_organization_you_do_not_manage_404(demo_app, client, cadre):
    with demo_app.app_context():
        other = b.org()
        db.session.commit()
        other_id = other.id
    r = client.post("/api/v1/markets", headers=cadre, json=new_market(organization_id=other_id))
    assert_error(r, 404, "not_found")


def test_patch_market(client, cadre, demo):
    url = f"/api/v1/markets/{demo['market']}"
    r = client.patch(url, headers=cadre, json={"public_notice": "今晚暂停营业", "is_active": False})
    assert r.status_code == 200, r.json
    assert r.json["public_notice"] == "今晚暂停营业"
    assert r.json["is_active"] is False
    assert r.json["slug"] == "jinhui"  # untouched
    again = client.get(url, headers=cadre).json
    assert again["public_notice"] == "今晚暂停营业" and again["name"] == "金汇潮汐市场"


def test_patch_market_slug_clash(client, cadre, demo):
    client.post("/api/v1/markets", headers=cadre, json=new_market())
    r = client.patch(
        f"/api/v1/markets/{demo['market']}", headers=cadre, json={"slug": "jinhui-morning"}
    )
    assert_error(r, 409, "slug_taken")


# --- zones -----------------------------------------------------------------------------------


def test_zones_list_for_cadre_and_guide(client, cadre, guide, demo):
    for headers in (cadre, guide):
        r = client.get(f"/api/v1/markets/{demo['market']}/zones", headers=headers)
        assert r.status_code == 200
        assert [z["code"] for z in r.json["items"]] == ["A", "B", "C"]
        assert r.json["total"] == 3
        assert r.json["items"][0]["color"] == "#C2410C"


def test_create_zone(client, cadre, demo):
    url = f"/api/v1/markets/{demo['market']}/zones"
    r = client.post(
        url,
        headers=cadre,
        json={"code": "d", "name": "文创", "color": "#7C3AED", "categories": "crafts, toys"},
    )
    assert r.status_code == 201, r.json
    assert r.json["code"] == "D"
    assert r.json["categories"] == "crafts,toys"
    assert r.json["market_id"] == demo["market"]
    assert client.get(url, headers=cadre).json["total"] == 4


def test_create_zone_duplicate_code_409(client, cadre, demo):
    r = client.post(
        f"/api/v1/markets/{demo['market']}/zones",
        headers=cadre,
        json={"code": "A", "name": "另一个熟食区", "color": "#000000"},
    )
    error = assert_error(r, 409)
    assert "code" in error["details"]


@pytest.mark.parametrize("color", ["red", "#12345", "#GGGGGG"])
def test_create_zone_invalid_colour(client, cadre, demo, color):
    r = client.post(
        f"/api/v1/markets/{demo['market']}/zones",
        headers=cadre,
        json={"code": "E", "name": "新区", "color": color},
    )
    assert 400 <= r.status_code < 500
    assert_error(r, r.status_code)


def test_patch_zone(client, cadre, guide, demo):
    url = f"/api/v1/zones/{demo['zones']['B']}"
    r = client.patch(url, headers=cadre, json={"name": "生鲜果蔬", "sort_order": 5})
    assert r.status_code == 200, r.json
    assert r.json["name"] == "生鲜果蔬" and r.json["sort_order"] == 5 and r.json["code"] == "B"
    assert client.get(url, headers=guide).json["name"] == "生鲜果蔬"
    assert_error(client.patch(url, headers=cadre, json={"name": "熟食"}), 409)


# --- stalls ----------------------------------------------------------------------------------


def test_stalls_list_paginated(client, cadre, guide, demo):
    url = f"/api/v1/markets/{demo['market']}/stalls"
    r = client.get(url, headers=cadre)
    assert r.status_code == 200
    assert r.json["total"] == 40 and len(r.json["items"]) == 40
    assert r.json["items"][0]["code"] == "A-01"
    page = client.get(f"{url}?page=3&per_page=15", headers=guide).json
    assert (page["page"], page["per_page"], page["total"]) == (3, 15, 40)
    assert len(page["items"]) == 10
    assert client.get(f"{url}?page=9", headers=cadre).json["items"] == []


def test_stalls_list_filters(client, cadre, demo):
    url = f"/api/v1/markets/{demo['market']}/stalls"
    zone_c = client.get(f"{url}?zone_id={demo['zones']['C']}", headers=cadre).json
    assert zone_c["total"] == 12
    assert {s["zone_id"] for s in zone_c["items"]} == {demo["zones"]["C"]}
    r = client.patch(
        f"/api/v1/stalls/{demo['stall']}",
        headers=cadre,
        json={"status": "disabled", "disabled_reason": "施工"},
    )
    assert r.status_code == 200
    disabled = client.get(f"{url}?status=disabled", headers=cadre).json
    assert [s["code"] for s in disabled["items"]] == ["A-01"]
    assert client.get(f"{url}?status=active&per_page=1", headers=cadre).json["total"] == 39
    both = f"{url}?status=active&zone_id={demo['zones']['A']}"
    assert client.get(both, headers=cadre).json["total"] == 13


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "per_page=1000",
        "per_page=0",
        "page=0",
        "page=99999999999999999999",
        "status=gone",
        "zone_id=x",
    ],
)
def test_stalls_list_bad_query_422(client, cadre, demo, query):
    r = client.get(f"/api/v1/markets/{demo['market']}/stalls?{query}", headers=cadre)
    error = assert_error(r, 422, "validation_error")
    assert query.split("=")[0] in error["details"]["query"]


def test_stalls_list_zone_of_another_market(demo_app, client, cadre, demo):
    with demo_app.app_context():
        other_zone_id = b.zone().id
        db.session.commit()
    r = client.get(
        f"/api/v1/markets/{demo['market']}/stalls?zone_id={other_zone_id}", headers=cadre
    )
    assert_error(r, 422, "invalid_zone")


def test_create_stall(demo_app, client, cadre, demo):
    before = stall_count(demo_app, demo["market"])
    r = client.post(
        f"/api/v1/markets/{demo['market']}/stalls",
        headers=cadre,
        json=new_stall(demo["zones"]["B"], width_cm=300, has_power=True, grid_w=2),
    )
    assert r.status_code == 201, r.json
    stall = r.json
    assert stall["code"] == "D-01" and stall["zone_id"] == demo["zones"]["B"]
    assert (stall["width_cm"], stall["depth_cm"], stall["grid_w"], stall["grid_h"]) == (
        300,
        200,
        2,
        1,
    )
    assert stall["status"] == "active" and stall["disabled_reason"] is None
    assert "/s/" in stall["qr_url"]
    assert stall_count(demo_app, demo["market"]) == before + 1
    got = client.get(f"/api/v1/stalls/{stall['id']}", headers=cadre)
    assert got.json == stall


def test_create_stall_duplicate_code_409(client, cadre, demo):
    r = client.post(
        f"/api/v1/markets/{demo['market']}/stalls",
        headers=cadre,
        json=new_stall(demo["zones"]["A"], code="a-01"),
    )
    error = assert_error(r, 409, "duplicate_stall_code")
    assert "code" in error["details"]


def test_create_stall_overlapping_cells_409(client, cadre, demo):
    r = client.post(
        f"/api/v1/markets/{demo['market']}/stalls",
        headers=cadre,
        json=new_stall(demo["zones"]["A"], grid_row=0, grid_col=0),
    )
    error = assert_error(r, 409, "cells_overlap")
    assert "A-01" in error["message"]
    # A two-cell stall reaching into A-01 from the left overlaps too.
    r = client.post(
        f"/api/v1/markets/{demo['market']}/stalls",
        headers=cadre,
        json=new_stall(demo["zones"]["A"], grid_row=1, grid_col=0, grid_h=2),
    )
    assert_error(r, 409, "cells_overlap")


def test_create_stall_zone_of_another_market(demo_app, client, cadre, demo):
    with demo_app.app_context():
        other_zone_id = b.zone().id
        db.session.commit()
    r = client.post(
        f"/api/v1/markets/{demo['market']}/stalls", headers=cadre, json=new_stall(other_zone_id)
    )
    assert 400 <= r.status_code < 500
    error = assert_error(r, r.status_code, "invalid_zone")
    assert "zone_id" in error["details"]


@pytest.mark.parametrize(
    "extra",
    [
        {"grid_row": 200},
        {"grid_col": -1},
        {"grid_w": 0},
        {"grid_h": 11},
        {"width_cm": 49},
        {"depth_cm": 2001},
        {"code": "X" * 17},
        {"zone_id": 99999999999999999999},
        {"grid_col": 2.5},
        {"grid_row": "1"},
        {"status": "disabled"},
    ],
)
def test_create_stall_schema_errors_422(demo_app, client, cadre, demo, extra):
    before = stall_count(demo_app, demo["market"])
    r = client.post(
        f"/api/v1/markets/{demo['market']}/stalls",
        headers=cadre,
        json=new_stall(demo["zones"]["A"], **extra),
    )
    error = assert_error(r, 422, "validation_error")
    assert set(extra) <= set(error["details"]["json"])
    assert stall_count(demo_app, demo["market"]) == before


def test_create_stall_missing_fields_422(client, cadre, demo):
    r = client.post(f"/api/v1/markets/{demo['market']}/stalls", headers=cadre, json={})
    error = assert_error(r, 422, "validation_error")
    assert {"code", "zone_id", "grid_row", "grid_col"} <= set(error["details"]["json"])
    r = client.post(f"/api/v1/markets/{demo['market']}/stalls", headers=cadre, json=[1, 2])
    assert_error(r, 422, "validation_error")
    r = client.post(
        f"/api/v1/markets/{demo['market']}/stalls",
        headers={**cadre, "Content-Type": "application/json"},
        data="{not json",
    )
    assert_error(r, 400)


def test_unknown_query_args_are_ignored(client, cadre, demo):
    r = client.get(
        f"/api/v1/markets/{demo['market']}/stalls?lang=en&per_page=39&page=2", headers=cadre
    )
    assert r.status_code == 200
    assert [s["code"] for s in r.json["items"]] == ["C-12"]


def test_failed_creates_write_nothing(demo_app, client, cadre, demo):
    before = stall_count(demo_app, demo["market"])
    url = f"/api/v1/markets/{demo['market']}/stalls"
    for body in (
        new_stall(demo["zones"]["A"], code="A-02"),  # duplicate code
        new_stall(demo["zones"]["A"], grid_row=2, grid_col=0),  # overlaps
        new_stall(999999),  # no such zone
        new_stall(demo["zones"]["A"], code="bad code!"),  # the service refuses the code
    ):
        r = client.post(url, headers=cadre, json=body)
        assert 400 <= r.status_code < 500
    assert stall_count(demo_app, demo["market"]) == before
    assert client.get(url, headers=cadre).json["total"] == before


def test_failed_patch_writes_nothing(demo_app, client, cadre, demo):
    """A PATCH that moves the stall and then fails on the disable rule keeps the old place."""
    url = f"/api/v1/stalls/{demo['stall']}"
    r = client.patch(url, headers=cadre, json={**FREE_CELL, "status": "disabled"})
    assert_error(r, 422)
    stall = client.get(url, headers=cadre).json
    assert (stall["grid_row"], stall["grid_col"], stall["status"]) == (0, 0, "active")


def test_stall_detail_and_qr(demo_app, client, guide, demo):
    r = client.get(f"/api/v1/stalls/{demo['stall']}", headers=guide)
    assert r.status_code == 200
    stall = r.json
    assert stall["code"] == "A-01" and stall["market_id"] == demo["market"]
    assert set(stall) >= {
        "id",
        "market_id",
        "zone_id",
        "code",
        "width_cm",
        "depth_cm",
        "has_power",
        "grid_row",
        "grid_col",
        "grid_w",
        "grid_h",
        "status",
        "disabled_reason",
        "qr_url",
        "qr_png_url",
    }
    url = urlsplit(stall["qr_url"])
    assert url.scheme in ("http", "https") and url.netloc
    prefix, _, token = url.path.rpartition("/")
    assert prefix == "/s" and len(token) >= 22
    with demo_app.app_context():
        assert token == db.session.get(Stall, demo["stall"]).qr_token  # the token, not the id
    png = urlsplit(stall["qr_png_url"])
    assert png.scheme in ("http", "https") and png.path.endswith(".png")
    assert client.get(url.path).status_code == 200


def test_qr_url_uses_public_base_url(demo_app, client, cadre, demo):
    demo_app.config["PUBLIC_BASE_URL"] = "https://market.example.org/"
    stall = client.get(f"/api/v1/stalls/{demo['stall']}", headers=cadre).json
    assert stall["qr_url"].startswith("https://market.example.org/s/")


def test_rotate_token(client, cadre, demo):
    old = client.get(f"/api/v1/stalls/{demo['stall']}", headers=cadre).json["qr_url"]
    r = client.post(f"/api/v1/stalls/{demo['stall']}/rotate-token", headers=cadre)
    assert r.status_code == 200, r.json
    new = r.json["qr_url"]
    assert new != old and urlsplit(new).path.startswith("/s/")
    assert client.get(urlsplit(old).path).status_code == 410
    assert client.get(urlsplit(new).path).status_code == 200
    assert client.get(f"/api/v1/stalls/{demo['stall']}", headers=cadre).json["qr_url"] == new


def test_disable_and_enable_stall(client, cadre, demo):
    url = f"/api/v1/stalls/{demo['stall']}"
    r = client.patch(url, headers=cadre, json={"status": "disabled"})
    error = assert_error(r, 422)
    assert "disabled_reason" in error["details"]
    r = client.patch(url, headers=cadre, json={"status": "disabled", "disabled_reason": "  "})
    assert_error(r, 422)
    r = client.patch(url, headers=cadre, json={"status": "disabled", "disabled_reason": "施工"})
    assert r.status_code == 200
    assert (r.json["status"], r.json["disabled_reason"]) == ("disabled", "施工")
    r = client.patch(url, headers=cadre, json={"status": "active"})
    assert r.status_code == 200
    assert (r.json["status"], r.json["disabled_reason"]) == ("active", None)


def test_reason_only_with_disabled_422(client, cadre, demo):
    r = client.patch(
        f"/api/v1/stalls/{demo['stall']}",
        headers=cadre,
        json={"status": "active", "disabled_reason": "施工"},
    )
    error = assert_error(r, 422, "validation_error")
    assert "disabled_reason" in error["details"]["json"]


def test_patch_stall_move_and_resize(client, cadre, demo):
    url = f"/api/v1/stalls/{demo['stall']}"
    r = client.patch(url, headers=cadre, json={**FREE_CELL, "grid_w": 3, "depth_cm": 250})
    assert r.status_code == 200, r.json
    assert (r.json["grid_row"], r.json["grid_col"], r.json["grid_w"]) == (5, 0, 3)
    assert r.json["depth_cm"] == 250 and r.json["code"] == "A-01"
    # Onto A-02's cell: refused.
    assert_error(client.patch(url, headers=cadre, json={"grid_row": 0, "grid_col": 1}), 409)


def test_patch_stall_zone_of_another_market(demo_app, client, cadre, demo):
    with demo_app.app_context():
        other_zone_id = b.zone().id
        db.session.commit()
    r = client.patch(
        f"/api/v1/stalls/{demo['stall']}", headers=cadre, json={"zone_id": other_zone_id}
    )
    assert_error(r, 422, "invalid_zone")


# --- who may do what -------------------------------------------------------------------------


def test_guide_gets_403_on_every_write(client, guide, demo):
    market, stall, zone = demo["market"], demo["stall"], demo["zones"]["A"]
    writes = [
        ("post", "/api/v1/markets", new_market()),
        ("patch", f"/api/v1/markets/{market}", {"name": "改名"}),
        ("post", f"/api/v1/markets/{market}/zones", {"code": "E", "name": "新区"}),
        ("patch", f"/api/v1/zones/{zone}", {"name": "改名"}),
        ("post", f"/api/v1/markets/{market}/stalls", new_stall(zone)),
        ("patch", f"/api/v1/stalls/{stall}", {"has_power": False}),
        ("post", f"/api/v1/stalls/{stall}/rotate-token", None),
    ]
    for method, url, body in writes:
        r = getattr(client, method)(url, headers=guide, json=body)
        assert_error(r, 403, "forbidden")
    # The role is checked before the body: a guide's bad body is still a 403.
    r = client.post(f"/api/v1/markets/{market}/stalls", headers=guide, json={"nonsense": 1})
    assert_error(r, 403, "forbidden")


def test_token_is_checked_before_the_body(client, demo):
    r = client.post(f"/api/v1/markets/{demo['market']}/stalls", json={"nonsense": 1})
    assert_error(r, 401, "missing_token")


def test_vendor_gets_403_on_reads_and_writes(client, demo):
    vendor = bearer(token_for(client, VENDOR))
    market, stall = demo["market"], demo["stall"]
    for url in (
        f"/api/v1/markets/{market}",
        f"/api/v1/markets/{market}/zones",
        f"/api/v1/markets/{market}/stalls",
        f"/api/v1/stalls/{stall}",
        f"/api/v1/zones/{demo['zones']['A']}",
    ):
        assert_error(client.get(url, headers=vendor), 403, "forbidden")
    r = client.post(f"/api/v1/stalls/{stall}/rotate-token", headers=vendor)
    assert_error(r, 403, "forbidden")


def test_guide_of_another_market_gets_404(demo_app, client, demo):
    with demo_app.app_context():
        other = b.market(slug="other-zoning")
        b.user("13900000077", role=Role.GUIDE, organization=other.organization, mkt=other)
        db.session.commit()
    token = bearer(token_for(client, "13900000077", "secret-pass-1"))
    market = demo["market"]
    for url in (
        f"/api/v1/markets/{market}/zones",
        f"/api/v1/markets/{market}/stalls",
        f"/api/v1/stalls/{demo['stall']}",
    ):
        assert_error(client.get(url, headers=token), 404, "not_found")
    assert client.get("/api/v1/markets", headers=token).json["total"] == 1


def test_cadre_of_another_organization_gets_404(demo_app, client, demo):
    with demo_app.app_context():
        org = b.org()
        b.user("13900000088", role=Role.CADRE, organization=org)
        db.session.commit()
    other = bearer(token_for(client, "13900000088", "secret-pass-1"))
    market, stall, zone = demo["market"], demo["stall"], demo["zones"]["A"]
    assert client.get("/api/v1/markets", headers=other).json["total"] == 0
    requests = [
        ("get", f"/api/v1/markets/{market}", None),
        ("patch", f"/api/v1/markets/{market}", {"name": "改名"}),
        ("get", f"/api/v1/markets/{market}/zones", None),
        ("post", f"/api/v1/markets/{market}/zones", {"code": "E", "name": "新区"}),
        ("patch", f"/api/v1/zones/{zone}", {"name": "改名"}),
        ("get", f"/api/v1/markets/{market}/stalls", None),
        ("post", f"/api/v1/markets/{market}/stalls", new_stall(zone)),
        ("get", f"/api/v1/stalls/{stall}", None),
        ("patch", f"/api/v1/stalls/{stall}", {"has_power": False}),
        ("post", f"/api/v1/stalls/{stall}/rotate-token", None),
        ("post", "/api/v1/markets", new_market()),
    ]
    for method, url, body in requests:
        r = getattr(client, method)(url, headers=other, json=body)
        assert_error(r, 404, "not_found")
    assert stall_count(demo_app, market) == 40


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/markets/{huge}",
        "/api/v1/markets/{huge}/zones",
        "/api/v1/markets/{huge}/stalls",
        "/api/v1/zones/{huge}",
        "/api/v1/stalls/{huge}",
        "/api/v1/markets/424242/stalls",
        "/api/v1/stalls/424242",
    ],
)
def test_huge_or_unknown_ids_are_404_json(client, cadre, path):
    r = client.get(path.format(huge=99999999999999999999), headers=cadre)
    assert_error(r, 404, "not_found")


def test_huge_id_on_writes_is_404_json(client, cadre):
    huge = 99999999999999999999
    assert_error(client.patch(f"/api/v1/stalls/{huge}", headers=cadre, json={}), 404)
    assert_error(client.post(f"/api/v1/stalls/{huge}/rotate-token", headers=cadre), 404)


def test_openapi_lists_the_zoning_paths(client):
    spec = client.get("/api/v1/openapi.json").json
    expected = {
        "/api/v1/markets": {"get", "post"},
        "/api/v1/markets/{market_id}": {"get", "patch"},
        "/api/v1/markets/{market_id}/zones": {"get", "post"},
        "/api/v1/zones/{zone_id}": {"get", "patch"},
        "/api/v1/markets/{market_id}/stalls": {"get", "post"},
        "/api/v1/stalls/{stall_id}": {"get", "patch"},
        "/api/v1/stalls/{stall_id}/rotate-token": {"post"},
    }
    for path, methods in expected.items():
        assert path in spec["paths"], path
        operations = spec["paths"][path]
        assert methods <= set(operations), path
        for method in methods:
            operation = operations[method]
            assert operation["security"] == [{"bearerAuth": []}], (path, method)
            assert {"401", "403", "404"} <= set(operation["responses"]), (path, method)
    stall = spec["components"]["schemas"]["Stall"]["properties"]
    assert {"qr_url", "qr_png_url", "status", "disabled_reason"} <= set(stall)
    params = spec["paths"]["/api/v1/markets/{market_id}/stalls"]["get"]["parameters"]
    assert {"page", "per_page", "zone_id", "status"} <= {p["name"] for p in params}
