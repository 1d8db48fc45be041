"""Report pages and downloads: cadres of the market's organization only, bad query strings
answered with a message, CSV streamed, XLSX with Chinese headers, totals and safe text."""

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Organization, Role, Vendor
from market.services.common import audit
from market.services.reports import summaries as reports
from tests import builders
from tests.trade import DAY1, TOTALS, handover, trade


@pytest.fixture
def shop(demo_app):
    """A second market of the demo community with three evenings of trade."""
    with demo_app.app_context():
        org = db.session.scalar(select(Organization))
        mkt = builders.market(organization=org, slug="second")
        made = trade(mkt)
        ids = {
            "market": mkt.id,
            "org": org.id,
            "vendor": made["vendors"][0].id,
            "guide": made["guide"].id,
            "cadre": made["cadre"].id,
        }
        handover(mkt, made["guide"], 2100, received=2000, cadre=made["cadre"])
        db.session.commit()
    return ids


def url(shop, page, **args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/reports/markets/{shop['market']}/{page}" + (f"?{query}" if query else "")


def test_only_cadres_of_the_organization(demo_app, client, auth, shop):
    assert client.get(url(shop, "daily")).status_code == 302  # to the login page
    auth.login("13800000003")  # a vendor
    assert client.get(url(shop, "daily")).status_code == 403
    auth.logout()
    with demo_app.app_context():
        stranger = builders.user(role=Role.CADRE, organization=builders.org())
        phone = stranger.phone
        db.session.commit()
    auth.login(phone, "secret-pass-1")
    assert client.get(url(shop, "monthly")).status_code == 404
    assert client.get(url(shop, "export/days.csv")).status_code == 404
    assert client.get(f"/reports/organizations/{shop['org']}/audit").status_code == 404


def test_pages_show_the_figures(client, auth, shop):
    auth.login()
    daily = client.get(url(shop, "daily", date=DAY1.isoformat()))
    assert daily.status_code == 200
    assert "38.00" in daily.text and "21.00" in daily.text and "4.00" in daily.text
    monthly = client.get(url(shop, "monthly", month="2026-11"))
    assert monthly.status_code == 200
    assert "<svg" in monthly.text and "60.00" in monthly.text and "30.00" in monthly.text
    assert "<script" not in monthly.text.split("</head>", 1)[1]  # charts need no JavaScript
    occupancy = client.get(url(shop, "occupancy", **{"from": "2026-11-01", "to": "2026-11-30"}))
    assert occupancy.status_code == 200 and "66.7%" in occupancy.text
    vendor = client.get(url(shop, "vendors", vendor=shop["vendor"], **{"from": "2026-11-01"}))
    assert vendor.status_code == 200 and "A-01" in vendor.text and "赵一" in vendor.text
    handovers = client.get(url(shop, "handovers", **{"from": "2026-11-01", "to": "2026-11-30"}))
    assert handovers.status_code == 200 and "-1.00" in handovers.text
    assert client.get("/reports/").status_code == 200
    picked = client.get(f"/reports/?market={shop['market']}&report=monthly")
    assert picked.status_code == 302 and picked.location.endswith(url(shop, "monthly"))
    assert 'id="market-pick"' in client.get(url(shop, "daily")).text  # two markets: a picker
    assert client.get("/reports/?market=abc").status_code == 422
    assert client.get("/reports/?market=1&report=secret").status_code == 422
    assert client.get("/reports/?market=99999").status_code == 404
    office = client.get("/admin/").text
    for link in (
        "/reports/markets/1/daily",
        "/p/jinhui",
        f"/reports/organizations/{shop['org']}/audit",
    ):
        assert f'href="{link}"' in office


@pytest.mark.parametrize(
    ("page", "args", "status", "text"),
    [
        ("daily", {"date": "2026-02-30"}, 422, "YYYY-MM-DD"),
        ("daily", {"date": "<script>"}, 422, "YYYY-MM-DD"),
        ("monthly", {"month": "2026-13"}, 422, "YYYY-MM"),
        ("monthly", {"month": "November"}, 422, "YYYY-MM"),
        ("occupancy", {"from": "2026-11-05", "to": "2026-11-01"}, 422, "“to”"),
        ("occupancy", {"from": "2016-01-01", "to": "2026-01-01"}, 422, "366"),
        ("vendors", {"vendor": "abc"}, 422, None),
        ("vendors", {"vendor": "99999999"}, 404, None),
        ("handovers", {"to": "99999-01-01"}, 422, "YYYY-MM-DD"),
        ("export/nothing.csv", {}, 404, None),
        ("export/vendor.csv", {}, 404, None),
        ("export/days.csv", {"from": "1999-01-01"}, 422, "YYYY-MM-DD"),
        ("export/days.xlsx", {"from": "2001-01-01", "to": "2026-01-01"}, 422, "3700"),
    ],
)
def test_bad_query_strings_get_a_message_not_a_500(client, auth, shop, page, args, status, text):
    auth.login()
    r = client.get(url(shop, page, **args), headers={"Accept-Language": "en"})
    assert r.status_code == status
    if text:
        assert text in r.text


def _csv(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")  # so that Excel reads the Chinese
    return list(csv.reader(io.StringIO(body[1:])))


def test_csv_download_has_headers_rows_and_totals(client, auth, shop):
    auth.login()
    r = client.get(url(shop, "export/days.csv", **{"from": "2026-11-01", "to": "2026-11-30"}))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = _csv(r)
    assert rows[0][:4] == ["日期", "开市场次", "摊位签到", "应收摊位费"]
    assert [row[0] for row in rows[1:-1]] == ["2026-11-02", "2026-11-03"]
    totals = dict(zip(rows[0], rows[-1], strict=True))
    assert totals["日期"] == "合计"
    assert totals["应收摊位费"] == "60.00" and totals["未付"] == "22.00"


def test_a_ten_year_csv_streams(client, auth, shop, monkeypatch):
    auth.login()
    ten_years = {"from": "2016-11-05", "to": "2026-11-04"}
    r = client.get(url(shop, "export/sessions.csv", **ten_years), buffered=False)
    assert r.status_code == 200 and r.is_streamed
    rows = _csv(r)
    # header, three sessions held, the cancelled one (as on the daily page), totals
    assert len(rows) == 6 and rows[-1][3] == "6"
    assert rows[4][2] == "已取消" and rows[4][3] == "0"

    def endless(market, span):  # rows without end: only a stream can answer at all
        n = 0
        while True:
            n += 1
            yield {"date": DAY1, "session_id": n, "kind": "night", "charges": 1, "expected": 100}

    monkeypatch.setattr(reports, "session_rows", endless)
    r = client.get(url(shop, "export/sessions.csv", **ten_years), buffered=False)
    chunks = iter(r.response)
    first = [next(chunks) for _ in range(2000)]
    r.close()
    assert len(first) == 2000 and "2026-11-02" in first[-1].decode()


def test_xlsx_download_opens_with_totals_and_number_formats(client, auth, shop):
    auth.login()
    r = client.get(url(shop, "export/days.xlsx", **{"from": "2026-11-01", "to": "2026-11-30"}))
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    assert header == [
        "日期",
        "开市场次",
        "摊位签到",
        "应收摊位费",
        "现金",
        "收款码",
        "实收合计",
        "规则减免",
        "干部免收",
        "摊位费减免合计",
        "已报未确认",
        "未付",
    ]
    totals = dict(zip(header, rows[-1], strict=True))
    assert totals["日期"].value == "合计"
    assert totals["应收摊位费"].value == pytest.approx(TOTALS["expected"] / 100)
    assert totals["实收合计"].value == pytest.approx(TOTALS["collected"] / 100)
    assert totals["未付"].value == pytest.approx(TOTALS["unpaid"] / 100)
    assert totals["摊位签到"].value == TOTALS["charges"]
    first_day = dict(zip(header, rows[1], strict=True))
    assert first_day["应收摊位费"].number_format == "0.00"
    assert first_day["应收摊位费"].value == pytest.approx(38.0)
    assert first_day["日期"].is_date


def test_text_that_looks_like_a_formula_is_escaped(demo_app, client, auth, shop):
    evil = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"]
    with demo_app.app_context():
        from market.models import Market

        mkt = db.session.get(Market, shop["market"])
        for i, name in enumerate(evil):
            guide = builders.user(
                role=Role.GUIDE, organization=mkt.organization, mkt=mkt, name=name
            )
            handover(mkt, guide, 100 * (i + 1), at=datetime(2026, 11, 2, 12, i, tzinfo=UTC))
        db.session.commit()
    auth.login()
    span = {"from": "2026-11-01", "to": "2026-11-30"}
    r = client.get(url(shop, "export/handovers.xlsx", **span))
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    guides = [row[1] for row in ws.iter_rows(min_row=2)]
    texts = [c.value for c in guides if c.value and c.value != "引导员甲"]
    assert texts == ["'" + e for e in evil]
    assert all(c.data_type == "s" for c in guides if c.value)
    rows = _csv(client.get(url(shop, "export/handovers.csv", **span)))
    assert sorted(row[1] for row in rows[1:-1] if row[1] != "引导员甲") == sorted(
        "'" + e for e in evil
    )


def test_audit_log_filters_pages_and_exports(demo_app, client, auth, shop):
    with demo_app.app_context():
        from market.models import Market, User

        mkt = db.session.get(Market, shop["market"])
        guide = db.session.get(User, shop["guide"])
        for n in range(55):
            event = audit.record(
                "payment.cash", mkt, actor=guide, organization_id=shop["org"], ip="10.0.0.7", n=n
            )
            event.at = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
        other = builders.org()
        audit.record("secret.thing", other, organization_id=other.id, ip="10.9.9.9")
        created = audit.record("stall.create", mkt, organization_id=shop["org"])
        created.at = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
        db.session.commit()
    auth.login()
    base = f"/reports/organizations/{shop['org']}/audit"
    span = "from=2026-11-01&to=2026-11-30"
    page = client.get(f"{base}?{span}&actor={shop['guide']}")
    assert page.status_code == 200
    assert "55" in page.text and "10.0.0.7" in page.text and "20:00:00" in page.text  # UTC+8
    assert "secret.thing" not in page.text
    second = client.get(f"{base}?{span}&actor={shop['guide']}&page=2")
    assert second.text.count('class="card"') == 5
    only = client.get(f"{base}?{span}&action=stall.create")
    assert 'title="payment.cash"' not in only.text and 'title="stall.create"' in only.text
    assert "系统" in only.text  # no actor: the system did it
    assert client.get(f"{base}?actor=abc").status_code == 422
    assert client.get(f"{base}?from=2026-11-31").status_code == 422
    rows = _csv(client.get(f"/reports/organizations/{shop['org']}/audit.csv?{span}"))
    assert rows[0] == [
        "时间",
        "操作人",
        "操作",
        "对象",
        "来源地址",
        "详情",
        "操作代码",
        "对象类型代码",
    ]
    assert len(rows) == 1 + 56  # no totals row: nothing to add up
    assert rows[1][2] == "stall.create" and rows[2][4] == "10.0.0.7"  # no label: the code
    assert rows[2][2] == "登记现金" and rows[2][6] == "payment.cash" and rows[2][7] == "markets"


def test_a_vendors_export_is_named_after_the_vendor(demo_app, client, auth, shop):
    from urllib.parse import unquote

    auth.login()
    with demo_app.app_context():
        name = db.session.get(Vendor, shop["vendor"]).user.name
    for ext in ("csv", "xlsx"):
        args = {"vendor": shop["vendor"], "from": "2026-11-01", "to": "2026-11-30"}
        r = client.get(url(shop, f"export/vendor.{ext}", **args))
        assert r.status_code == 200
        disposition = r.headers["Content-Disposition"]
        ascii_part, _, utf8_part = disposition.partition("filename*=UTF-8''")
        dates = f"{shop['vendor']}-2026-11-01-2026-11-30.{ext}"
        assert f'filename="second-vendor-{dates}"' in ascii_part
        assert unquote(utf8_part) == f"second-{name}-{dates}"
