"""A street office's supervisor reads the area's communities and writes nothing: every write
route of the app (pages and API, enumerated from app.url_map), asked by a supervisor with
objects of a community of the area, answers 403 and writes no row; the read pages of an area's
community answer 200 with vendors' phones masked, those of a community outside it 404."""

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Area, Organization, User
from market.services.areas import membership
from market.services.auth import accounts
from tests.conftest import Auth

from .objects import one_of_everything
from .routes import (
    API_BODIES,
    API_FORMS,
    OBJECT_ROUTES,
    PUBLIC_FILLS,
    WRITE_METHODS,
    requests_for,
)
from .test_object_access import row_counts

SUPERVISOR = "13700000077"
OWN_ACCOUNT = {"auth.login", "auth.logout", "auth.logout_everywhere", "auth.change_password"}
OWN_ACCOUNT |= {"auth.reset_password", "api_v1.TokenView", "api_v1.reset_password"}
# Their questions (质询) write only questions: tests/views/test_area_questions.py.
OWN_ACCOUNT |= {"areas.ask", "areas.follow_up", "areas.accept", "api_v1.AreaQuestions"}
OWN_ACCOUNT |= {"api_v1.accept_question", "api_v1.follow_up_question"}


@pytest.fixture
def area(demo_app):
    """The demo community and a second one in an area, a third outside; a supervisor of it."""
    with demo_app.app_context():
        inside = one_of_everything(_org("丙社区股份经济合作社"))  # in an area of its own
        area = db.session.get(Area, inside["area"])
        demo = db.session.scalar(select(Organization).order_by(Organization.id))
        membership.attach(area, demo)
        user = accounts.create_user(SUPERVISOR, "王监督", "demo1234", check_strength=False)
        membership.grant_supervisor(user, area)
        outside_org = _org("丁社区股份经济合作社")
        db.session.commit()
        outside = {"org": outside_org.id}
        outside["market"] = _market(outside_org)
        db.session.commit()
        return {"inside": inside, "outside": outside, "area": area.id}


def _org(name):
    org = Organization(name=name, short_name=name[:2])
    db.session.add(org)
    db.session.flush()
    return org


def _market(org):
    from tests import builders as b

    return b.market(org, slug="outside").id


def _clients(app):
    page, api = app.test_client(), app.test_client()
    assert Auth(page).login(SUPERVISOR).status_code == 302
    r = api.post("/api/v1/auth/token", json={"phone": SUPERVISOR, "password": "demo1234"})
    assert r.status_code == 200, r.text
    return page, api, {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def _write_requests(app, objects):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OWN_ACCOUNT or not (rule.methods & WRITE_METHODS):
            continue
        if not rule.arguments:
            for method in sorted(rule.methods & WRITE_METHODS):
                yield rule, method, rule.rule
            continue
        if rule.endpoint not in OBJECT_ROUTES and rule.endpoint not in PUBLIC_FILLS:
            continue  # unclassified: test_object_access names it
        for method, url in requests_for(rule, objects):
            if method in WRITE_METHODS:
                yield rule, method, url


def test_every_write_route_answers_403_to_a_supervisor(demo_app, area):
    page, api, bearer = _clients(demo_app)
    demo_app.config["WTF_CSRF_ENABLED"] = False  # reach the guard, not the CSRF check
    before = row_counts(demo_app)
    wrong, tried = [], 0
    for rule, method, url in _write_requests(demo_app, area["inside"]):
        tried += 1
        if url.startswith("/api/"):
            if (rule.endpoint, method) in API_FORMS:
                form = API_FORMS[(rule.endpoint, method)]
                r = api.open(url, method=method, headers=bearer, data=form)
            else:
                body = API_BODIES.get((rule.endpoint, method), {})
                r = api.open(url, method=method, headers=bearer, json=body)
        else:
            r = page.open(url, method=method, data={})
        if r.status_code != 403:
            wrong.append(f"{method} {url} ({rule.endpoint}) → {r.status_code}")
    assert tried > 80
    assert not wrong, "a supervisor wrote:\n" + "\n".join(wrong)
    assert row_counts(demo_app) == before
    assert r.status_code == 403


READ_PAGES = [
    "/reports/markets/{market}/daily",
    "/reports/markets/{market}/monthly",
    "/reports/markets/{market}/occupancy",
    "/reports/markets/{market}/vendors",
    "/reports/markets/{market}/handovers",
    "/reports/markets/{market}/export/handovers.xlsx",
    "/ledger/{org}/",
    "/ledger/{org}/accounts",
    "/ledger/{org}/expenses",
    "/ledger/{org}/periods",
    "/sessions/markets/{market}",
    "/complaints/markets/{market}",
    "/complaints/markets/{market}/stats",
]


def test_a_supervisor_reads_the_areas_communities_and_no_other(demo_app, area):
    page, _api, _bearer = _clients(demo_app)
    inside, outside = area["inside"], area["outside"]
    for path in READ_PAGES:
        r = page.get(path.format(**inside))
        assert r.status_code == 200, (path, r.status_code)
        r = page.get(path.format(**outside))
        assert r.status_code in (403, 404), (path, r.status_code)
    r = page.get(f"/sessions/{inside['session']}")
    assert r.status_code == 200
    assert page.get("/ledger/").status_code == 200


def test_a_supervisor_sees_vendors_names_with_phones_masked(demo_app, area):
    page, _api, _bearer = _clients(demo_app)
    with demo_app.app_context():
        phone = db.session.scalar(select(User.phone).where(User.phone == "13800000003"))
    r = page.get("/vendors/list")
    assert r.status_code == 200
    assert "138****0003" in r.text and phone not in r.text
    # Digits would unmask a phone (does 0003 match?): a supervisor's search ignores them.
    probe = page.get("/vendors/list?q=99999999")
    assert probe.text.count("****") == r.text.count("****") > 1
