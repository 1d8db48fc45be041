"""The guide's check-in from a scanned vendor pass asks for the stall: none is preselected, and
sent without one the guide is asked again, nothing checked in."""

import re

from sqlalchemy import func, select

from market.extensions import db
from market.models import CheckIn, User, Vendor
from market.services.vendors import passes as vendor_pass
from tests.conftest import csrf_from
from tests.guide.test_board_views import GUIDE, evening  # noqa: F401  (the fixture)


def test_no_stall_is_preselected_and_none_chosen_asks_again(demo_app, client, auth, evening):  # noqa: F811
    with demo_app.app_context():
        vendor = db.session.scalar(
            select(Vendor).join(User, Vendor.user_id == User.id).where(User.phone == "13800000004")
        )
        token = vendor_pass.pass_token(vendor)
    auth.login(GUIDE)
    page = client.get(f"/guide/pass/{token}?lang=en").text
    select_ = re.search(r'<select[^>]*name="stall"[^>]*>(.*?)</select>', page, re.S)
    assert select_ and "required" in select_[0]
    options = re.findall(r"<option[^>]*>", select_[1])
    assert options[0] == '<option value="" selected disabled>'  # "choose", not a stall
    assert all("selected" not in o for o in options[1:])
    data = {
        "csrf_token": csrf_from(page),
        "ci-nonce": re.search(r'name="ci-nonce" value="([0-9a-f]{32})"', page)[1],
        "ci-vendor_id": re.search(r'name="ci-vendor_id" value="(\d+)"', page)[1],
        "pass": re.search(r'name="pass" value="([^"]+)"', page)[1],
    }
    r = client.post("/guide/pass/checkin?lang=en", data=data)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/guide/pass/{token}")
    assert "Choose the stall first." in client.get(r.headers["Location"]).text
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 0
