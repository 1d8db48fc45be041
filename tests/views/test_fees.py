"""The cadre's fee page: rules, relief, monthly passes, and bad input."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from market.extensions import db
from market.models import FeeRule, MonthlyPass, Stall, User, Vendor
from tests.conftest import csrf_from


def _post(client, url, data):
    page = client.get("/fees/markets/1")
    prefix = url.rsplit("/", 1)[1].rstrip("s").replace("relief", "relief").replace("rule", "rule")
    token = csrf_from(page.text)
    return client.post(url, data={**data, f"{prefix}-csrf_token": token})


def test_fee_page_rules_relief_and_passes(demo_app, client, auth):
    auth.login()
    page = client.get("/fees/markets/1")
    assert page.status_code == 200 and "¥15.00" in page.text
    assert "夜市" in page.text and ">night<" not in page.text  # session kinds in words
    r = _post(
        client,
        "/fees/markets/1/rules",
        {"rule-zone_id": "", "rule-session_kind": "night", "rule-base": "12.50", "rule-power": "3"},
    )
    assert r.status_code == 302
    r = _post(
        client,
        "/fees/markets/1/rules",
        {"rule-zone_id": "", "rule-session_kind": "", "rule-base": "12.555"},
    )
    assert r.status_code == 422 and "两位小数" in r.text
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeeRule)) == 4
    states = client.get("/fees/markets/1?lang=en").text
    assert states.count("replaced by a newer rule") == 0  # each scope has one rule so far
    r = _post(
        client,
        "/fees/markets/1/rules",
        {"rule-zone_id": "", "rule-session_kind": "night", "rule-base": "11", "rule-power": "3"},
    )
    assert r.status_code == 302
    states = client.get("/fees/markets/1?lang=en").text
    assert states.count("replaced by a newer rule") == 1  # the ¥12.50 one, by the ¥11.00
    assert states.index("¥11.00") < states.index("replaced by a newer rule")
    client.get("/fees/markets/1?lang=zh")  # back to Chinese for the checks below
    with demo_app.app_context():
        stall_id = db.session.scalar(select(Stall.id).where(Stall.code == "A-09"))
        vendor_id = db.session.scalar(
            select(Vendor.id)
            .join(User, Vendor.user_id == User.id)
            .where(User.phone == "13800000003")
        )
    month = datetime.now(UTC).strftime("%Y-%m")
    data = {
        "pass-stall_id": stall_id,
        "pass-vendor_id": vendor_id,
        "pass-month": month,
        "pass-amount": "300",
    }
    assert _post(client, "/fees/markets/1/passes", data).status_code == 302
    again = _post(client, "/fees/markets/1/passes", data)
    assert again.status_code == 409 and "已有包月" in again.text
    bad = _post(client, "/fees/markets/1/passes", {**data, "pass-month": "December"})
    assert bad.status_code == 400
    past = _post(client, "/fees/markets/1/passes?lang=en", {**data, "pass-month": "2020-01"})
    assert past.status_code == 422 and "That month is over" in past.text
    far = _post(client, "/fees/markets/1/passes?lang=en", {**data, "pass-month": "2099-01"})
    assert far.status_code == 422 and "at most a year ahead" in far.text
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MonthlyPass)) == 1
    r = _post(
        client,
        "/fees/markets/1/relief",
        {"relief-relief_kind": "veteran", "relief-percent_off": "101"},
    )
    assert r.status_code == 400


def test_guides_and_vendors_cannot_touch_fees(client, auth):
    auth.login("13800000002")
    assert client.get("/fees/markets/1").status_code == 403
    token = csrf_from(client.get("/password").text)
    assert client.post("/fees/markets/1/rules", data={"csrf_token": token}).status_code == 403
