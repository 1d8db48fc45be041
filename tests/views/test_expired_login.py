"""An expired login never loses work: the stall's confirm step comes back after logging in,
and an htmx request on the guide's board answers with one line, never a page pasted in."""

import re

from sqlalchemy import func, select

from market.extensions import db
from market.models import CheckIn, Incident
from tests.conftest import csrf_from
from tests.guide.test_board_views import GUIDE, _market_id, evening  # noqa: F401

HX = {"HX-Request": "true"}
VENDOR = "13800000003"


def _confirm_form(client, token):
    page = client.get(f"/s/{token}?lang=en")
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]{32})"', page.text)[1]
    return {"csrf_token": csrf_from(page.text), "nonce": nonce}


def _checkins(demo_app) -> int:
    with demo_app.app_context():
        return db.session.scalar(select(func.count()).select_from(CheckIn))


def test_confirming_after_the_session_is_gone_logs_in_and_comes_back(
    demo_app,
    client,
    auth,
    evening,  # noqa: F811
):
    token = evening["A-01"][0]
    auth.login(VENDOR)
    data = _confirm_form(client, token)
    client.delete_cookie("market_session")  # the login (and the CSRF secret with it) expired

    r = client.post(f"/s/{token}/checkin", data=data)
    assert r.status_code == 303
    assert r.headers["Location"] == f"/login?next=/s/{token}"
    assert _checkins(demo_app) == 0  # nothing was written
    login_page = client.get(r.headers["Location"] + "&lang=en")
    assert "Your login has expired, please log in again." in login_page.text
    assert f'name="next" value="/s/{token}"' in login_page.text

    back = auth.login(VENDOR, next=f"/s/{token}")
    assert back.headers["Location"] == f"/s/{token}"
    page = client.get(f"/s/{token}?lang=en")
    assert 'name="nonce"' in page.text  # the confirm step again, not the receipt
    confirmed = client.post(f"/s/{token}/checkin", data=_confirm_form(client, token))
    assert confirmed.status_code == 303 and confirmed.headers["Location"].startswith("/receipts/")
    assert _checkins(demo_app) == 1


def test_a_stale_form_while_logged_in_comes_back_to_the_stall(
    demo_app,
    client,
    auth,
    evening,  # noqa: F811
):
    token = evening["A-02"][0]
    auth.login(VENDOR)
    data = {**_confirm_form(client, token), "csrf_token": "stale"}
    r = client.post(f"/s/{token}/checkin", data=data)
    assert r.status_code == 303 and r.headers["Location"] == f"/s/{token}"
    assert "nothing was saved" in client.get(f"/s/{token}?lang=en").text
    assert _checkins(demo_app) == 0


def test_a_missing_login_with_a_valid_form_token_also_comes_back(
    demo_app,
    client,
    auth,
    evening,  # noqa: F811
):
    """The form's token survives but the login does not (the password changed elsewhere)."""
    token = evening["A-03"][0]
    auth.login(VENDOR)
    data = _confirm_form(client, token)
    with client.session_transaction() as session:
        session.pop("_user_id")
    r = client.post(f"/s/{token}/checkin", data=data)
    assert r.status_code == 303 and r.headers["Location"] == f"/login?next=/s/{token}"


def test_other_forms_keep_the_generic_page_with_a_way_back(client, auth, demo_app):
    auth.login(GUIDE)
    r = client.post(
        "/password?lang=en",
        data={"csrf_token": "stale"},
        headers={"Referer": "http://localhost/password"},
    )
    assert r.status_code == 400
    assert "This form has expired" in r.text
    assert 'href="/password"' in r.text and "Back to the page you were on" in r.text
    elsewhere = client.post(
        "/password?lang=en",
        data={"csrf_token": "stale"},
        headers={"Referer": "https://evil.example/password"},
    )
    assert elsewhere.status_code == 400 and "Back to the page you were on" not in elsewhere.text


def _incident_post(client, stall_id):
    panel = client.get(f"/guide/stalls/{stall_id}", headers=HX).text
    return {
        "csrf_token": csrf_from(panel),
        "incident-nonce": re.search(r'name="incident-nonce" type="hidden" value="(\w+)"', panel)[1],
        "incident-kind": "other",
        "incident-note": "Water on the ground by the stall",
    }


def test_board_htmx_errors_go_to_the_status_line_with_a_login_link(
    demo_app,
    client,
    auth,
    evening,  # noqa: F811
):
    board = f"/guide/markets/{_market_id(demo_app)}/board"
    stall_id = evening["A-04"][1]
    auth.login(GUIDE)
    data = _incident_post(client, stall_id)
    client.delete_cookie("market_session")
    here = {**HX, "HX-Current-URL": f"http://localhost{board}?view=list&lang=en"}

    for answer in (
        client.post(f"/guide/stalls/{stall_id}/incidents?lang=en", data=data, headers=here),
        client.get(f"{board}/live?lang=en", headers=here),  # the poll
        client.get(f"/guide/stalls/{stall_id}?lang=en", headers=here),  # opening a panel
    ):
        assert answer.status_code in (400, 401)
        assert answer.headers["HX-Retarget"] == "#hx-status"
        assert answer.headers["HX-Reswap"] == "innerHTML"
        assert answer.headers["HX-Trigger"] == "session-expired"
        assert "Your login has expired, please log in again." in answer.text
        assert 'href="/login?next=/guide/markets/' in answer.text and "view%3Dlist" in answer.text
        assert "<html" not in answer.text and "<main" not in answer.text
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 0


def test_board_htmx_form_errors_still_swap_into_the_panel(
    demo_app,
    client,
    auth,
    evening,  # noqa: F811
):
    stall_id = evening["A-05"][1]
    auth.login(GUIDE)
    data = {**_incident_post(client, stall_id), "incident-kind": ""}
    r = client.post(f"/guide/stalls/{stall_id}/incidents?lang=en", data=data, headers=HX)
    assert r.status_code == 400 and "HX-Retarget" not in r.headers
    assert "Choose what kind of problem it is." in r.text


def test_board_htmx_stale_form_while_logged_in_says_reload(
    demo_app,
    client,
    auth,
    evening,  # noqa: F811
):
    board = f"/guide/markets/{_market_id(demo_app)}/board"
    stall_id = evening["A-06"][1]
    auth.login(GUIDE)
    data = {**_incident_post(client, stall_id), "csrf_token": "stale"}
    here = {**HX, "HX-Current-URL": f"http://localhost{board}"}
    r = client.post(f"/guide/stalls/{stall_id}/incidents?lang=en", data=data, headers=here)
    assert r.status_code == 400 and r.headers["HX-Retarget"] == "#hx-status"
    assert "This page has expired" in r.text and f'href="{board}"' in r.text
    foreign = client.get("/guide/stalls/2147483647?lang=en", headers=here)  # a 404 too
    assert foreign.headers["HX-Retarget"] == "#hx-status" and "<main" not in foreign.text


def test_without_htmx_a_missing_login_still_redirects_as_before(client):
    r = client.get("/guide/")
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=%2Fguide%2F"
