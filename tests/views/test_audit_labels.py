"""The audit log reads in the page's language: actions, object types and details by name,
money in yuan; the CSV keeps the stored codes in columns of their own."""

import csv
import io
import json

from sqlalchemy import select

from market.extensions import db
from market.models import AuditEvent, Organization
from market.services import audit


def _events(demo_app):
    with demo_app.app_context():
        org = db.session.scalar(select(Organization))
        audit.record(
            "incident.opened", organization_id=org.id, kind="short_weight", amount_fen=1500
        )
        audit.record("session.opened", organization_id=org.id, note="opened early")
        audit.record("something.new", organization_id=org.id, size=3)
        db.session.commit()
        return org.id


def test_audit_page_and_csv_in_words(demo_app, client, auth):
    org_id = _events(demo_app)
    auth.login()
    page = client.get(f"/reports/organizations/{org_id}/audit?lang=zh", follow_redirects=True)
    text = page.text
    assert "amount_fen=" not in text and "kind=short_weight" not in text
    assert "¥15.00" in text and "短斤少两" in text and "提前开市" in text
    assert "opened early" not in text and ">incident.opened<" not in text
    assert 'value="incident.opened"' in text  # the filter still sends the code
    assert "something.new" in text  # an action without a label shows its code
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"/reports/organizations/{org_id}/audit.csv").text.lstrip("\ufeff")
            )
        )
    )
    by_code = {r["操作代码"]: r for r in rows}
    assert "¥15.00" in by_code["incident.opened"]["详情"]
    assert by_code["incident.opened"]["操作"] != "incident.opened"
    en = client.get(f"/reports/organizations/{org_id}/audit?lang=en", follow_redirects=True)
    assert "Incident logged" in en.text and "Short weight" in en.text
    with demo_app.app_context():  # the events themselves are unchanged
        stored = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "incident.opened"))
        assert json.loads(stored.detail)["amount_fen"] == 1500
