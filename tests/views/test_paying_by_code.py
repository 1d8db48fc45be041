"""Paying by collection code as a vendor does it on a phone: the amount already filled in, typed
the way people type it, refused when more than owed, "awaiting confirmation" instead of a red
"unpaid" while the guide checks, and a report turned down read with the guide's reason."""

import re

from sqlalchemy import func, select

from market.extensions import db
from market.models import Market, Payment, User
from market.services.checkin import payments
from tests.conftest import csrf_from
from tests.views.test_checkin import confirm

VENDOR, GUIDE = "13800000004", "13800000002"


def _checked_in(client, auth, evening, code="C-03"):  # noqa: F811
    auth.login(VENDOR)
    r, _, _ = confirm(client, evening[code])
    assert r.status_code == 303
    return r.headers["Location"].removeprefix("http://localhost")


def _amount_value(html: str) -> str:
    return re.search(r'<input[^>]*name="pay-amount"[^>]*value="([^"]*)"', html)[1]


def _pay(client, receipt, amount, reference=""):
    page = client.get(receipt).text
    data = {"csrf_token": csrf_from(page), "pay-amount": amount, "pay-reference": reference}
    return client.post(receipt + "/pay?lang=en", data=data)


def _payments(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Payment))


def test_the_amount_is_prefilled_with_what_is_unpaid(demo_app, client, auth, evening):  # noqa: F811
    receipt = _checked_in(client, auth, evening)
    page = client.get(receipt + "?lang=en").text
    assert _amount_value(page) == "10.00"  # zone C's fee, nothing paid yet
    assert "printed at your stall and on the guide’s badge" in page


def test_thirteen_yuan_typed_as_people_type_it(demo_app, client, auth, evening):  # noqa: F811
    receipt = _checked_in(client, auth, evening)
    paid = _pay(client, receipt, "10元")
    assert paid.status_code == 303 and paid.headers["Location"].endswith("#top")
    with demo_app.app_context():
        assert db.session.scalars(select(Payment.amount_fen)).all() == [1000]


def test_more_than_owed_is_refused_before_anything_is_written(demo_app, client, auth, evening):  # noqa: F811
    receipt = _checked_in(client, auth, evening)
    over = _pay(client, receipt, "¥99")
    assert over.status_code == 422
    assert "That is more than is owed (¥10.00)." in over.text
    assert _amount_value(over.text) == "¥99"  # what was typed stays, to correct
    # Posted to the form's own anchor: the answer opens at the message, not at the page top.
    assert 'id="pay"' in over.text and f'action="{receipt}/pay#pay"' in over.text
    bad = _pay(client, receipt, "-5块")
    assert bad.status_code == 422 and "cannot be negative" in bad.text
    assert _amount_value(bad.text) == "-5块"
    assert _payments(demo_app) == 0


def test_a_report_waiting_reads_awaiting_not_unpaid(demo_app, client, auth, evening):  # noqa: F811
    receipt = _checked_in(client, auth, evening)
    assert _pay(client, receipt, "10", "8812").status_code == 303
    page = client.get(receipt + "?lang=en").text
    assert "Awaiting confirmation ¥10.00" in page and "Do not pay it again" in page
    assert '<tr class="owing">' not in page  # no red "Unpaid" inviting a second payment
    assert '<tr class="settled"><th scope="row">Unpaid</th><td>¥0.00</td>' in page
    assert 'name="pay-amount"' not in page  # nothing left to report
    scan = client.get(f"/s/{evening['C-03']}?lang=en").text  # scanning the stall again
    assert "Awaiting confirmation ¥10.00" in scan


def test_a_report_turned_down_shows_the_reason_and_what_to_do(demo_app, client, auth, evening):  # noqa: F811
    receipt = _checked_in(client, auth, evening)
    assert _pay(client, receipt, "10", "8812").status_code == 303
    with demo_app.app_context():
        guide = db.session.scalar(select(User).where(User.phone == GUIDE))
        report = db.session.scalars(select(Payment)).one()
        payments.reject_report(report, guide, "商户账单里没有这笔<i>")
        db.session.commit()
    page = client.get(receipt + "?lang=en").text
    assert "Your collection-code payment of ¥10.00 was not confirmed." in page
    assert "李秀英 says: 商户账单里没有这笔&lt;i&gt;" in page and "<i>" not in page  # escaped
    assert "pay the guide in cash" in page and "report it again" in page
    assert "waiting for confirmation" not in page and "(voided)" not in page
    assert "Awaiting confirmation" not in page
    assert '<tr class="owing"><th scope="row">Unpaid</th><td>¥10.00</td>' in page
    assert _amount_value(page) == "10.00"  # owed again, ready to report again
    scan = client.get(f"/s/{evening['C-03']}?lang=en").text
    assert "was not confirmed" in scan and "商户账单里没有这笔" in scan
    # Reported again: the old rejection gives way to the new wait.
    assert _pay(client, receipt, "10元").status_code == 303
    page = client.get(receipt + "?lang=en").text
    assert "Awaiting confirmation ¥10.00" in page and "was not confirmed." not in page


def test_the_collection_code_is_a_real_image(demo_app, client, auth, evening):  # noqa: F811
    with demo_app.app_context():
        market = db.session.scalars(select(Market)).first()
        market.collection_code_path = "code.png"
        db.session.commit()
        market_id = market.id
    receipt = _checked_in(client, auth, evening)
    page = client.get(receipt + "?lang=en").text
    img = re.search(r'<img class="collection-code" src="([^"]+)"', page)
    assert img and img[1] == f"/markets/{market_id}/collection-code"
    assert "press and hold" in page and "background" not in page.split("<main", 1)[1]
