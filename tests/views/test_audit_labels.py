"""The audit log reads in the page's language: actions, object types and details by name,
money in yuan; the CSV keeps the stored codes in columns of their own."""

import ast
import csv
import dataclasses
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

import market
from market.extensions import db
from market.models import AuditEvent, Organization
from market.models.org import Role
from market.models.trading import PaymentMethod
from market.services.common import audit
from market.services.reports import audit_labels
from market.services.sessions.takings import SessionTakings
from market.services.sessions.templates import TEMPLATE_FIELDS
from market.services.zoning import places as zoning


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


def _recorded(demo_app, *events):
    with demo_app.app_context():
        org = db.session.scalar(select(Organization))
        for action, detail in events:
            audit.record(action, organization_id=org.id, **detail)
        db.session.commit()
        return org.id


# The details as the services store them (demo events of these actions).
ZONE_CREATED = {"fields": ["categories", "code", "color", "goods_note", "is_active", "name"]}
TEMPLATE_UPDATED = {
    "changed": ["cutoff_minutes", "end_local", "weekdays"],
    "dropped": 1,
    "generated": 4,
    "moved": 2,
}
MONTH_CLOSED = {
    "distributable_fen": 10560,
    "governance_fund_fen": 7040,
    "month": "2026-11",
    "net_income_fen": 17600,
}
EXTENDED = {
    "business_date": "2026-12-01",
    "by": "user",
    "new_end": "2026-12-01 17:00:00+00:00",  # a datetime stored by json's default=str
    "old_end": "2026-12-01T14:30:00+00:00",  # an isoformat()
}


def _pages(demo_app, client, auth) -> tuple[str, str]:
    org_id = _recorded(
        demo_app,
        ("zone.created", ZONE_CREATED),
        ("session_template.updated", TEMPLATE_UPDATED),
        ("ledger.month_closed", MONTH_CLOSED),
        ("session.extended", EXTENDED),
        ("user.created_by_cli", {"role": "cadre"}),
    )
    auth.login()
    url = f"/reports/organizations/{org_id}/audit"
    zh = client.get(url + "?lang=zh", follow_redirects=True).text
    en = client.get(url + "?lang=en", follow_redirects=True).text
    return zh, en


def test_fields_counters_money_and_times_read_as_words(demo_app, client, auth):
    zh, en = _pages(demo_app, client, auth)
    for code in ("goods_note", "cutoff_minutes", "end_local", "is_active", "sort_order"):
        assert code not in zh and code not in en
    for code in (", dropped 1", ", generated 4", ", moved 2", "distributable_fen", "role cadre"):
        assert code not in zh and code not in en
    # The zone form's labels, in its order (code, name, colour, categories, note, active).
    assert "字段 编号、名称、地图上的颜色、本区经营类别、可经营的商品和启用" in zh
    assert "fields Code, Name, Colour on the map, Categories sold here" in en
    assert "闭市时间" in zh and "星期" in zh and "Closes at" in en
    assert "sessions removed 1, sessions added 4, sessions moved 2" in en
    assert "¥105.60" in zh and "distributable ¥105.60" in en
    # Stored in UTC, shown on the market's clock (Asia/Shanghai, UTC+8) as the "when" column.
    assert "+00:00" not in zh and "T14:30" not in zh
    assert "2026-12-02 01:00:00" in zh and "2026-12-01 22:30:00" in zh
    assert "new end 2026-12-02 01:00:00, old end 2026-12-01 22:30:00" in en
    assert "role Cadre" in en


def test_the_new_labels_read_in_chinese(demo_app, client, auth):
    """Fails until the catalog holds the new labels (see the commit adding them)."""
    zh, _ = _pages(demo_app, client, auth)
    assert "删除场次数 1, 新增场次数 4, 调整场次数 2" in zh
    assert "可分配收益 ¥105.60" in zh and "角色 干部" in zh


def test_session_times_follow_the_given_zone(demo_app):
    with demo_app.test_request_context("/?lang=en"):
        detail = json.dumps(EXTENDED)
        assert "old end 2026-12-01 22:30:00" in audit_labels.detail_text("session.extended", detail)
        urumqi = audit_labels.detail_text("session.extended", detail, ZoneInfo("Asia/Urumqi"))
        assert "new end 2026-12-01 23:00:00, old end 2026-12-01 20:30:00" in urumqi
        # An empty list says nothing; an unknown key and its value show as stored.
        assert audit_labels.detail_text("zone.updated", '{"fields": []}') == ""
        assert audit_labels.detail_text("x.y", '{"size": 3, "tags": ["a", "b"]}') == (
            "size 3, tags a and b"
        )


def _recorded_keys() -> set[str]:
    """The detail keys written by audit.record and the wrappers that pass theirs on to it
    (sessions.record, payments._record, closures._audit), as the code spells them."""
    wrappers = {"record", "_record", "_audit"}
    not_detail = {"actor", "organization_id", "ip"}
    keys = set()
    for path in Path(market.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in wrappers:
                keys |= {k.arg for k in node.keywords if k.arg and k.arg not in not_detail}
    return keys


def test_every_recorded_detail_key_has_a_label():
    spread = {  # what the calls pass with ** (session_plan.refresh_plan, add_closure's counts)
        "moved",
        "dropped",
        "generated",
        "cancelled",
        "left_open",
    }
    takings = {f.name for f in dataclasses.fields(SessionTakings)} | {"collected_total_fen"}
    methods = {PaymentMethod.CASH, PaymentMethod.COLLECTION_CODE}  # takings' collected_fen
    keys = _recorded_keys() | spread | takings | methods
    assert {"fields", "changed", "new_end", "distributable_fen", "role"} <= keys
    assert keys - set(audit_labels.DETAILS) == set()
    listed = set(zoning.MARKET_FIELDS) | set(zoning.ZONE_FIELDS) | set(TEMPLATE_FIELDS)
    assert listed - set(audit_labels.FIELDS) == set()
    assert set(Role.ALL) - set(audit_labels.ROLES) == set()
