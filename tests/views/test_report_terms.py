"""One name per meaning: relief by the fee rules, waivers by a cadre, and their sum, which is
the ledger's 摊位费减免 (Fee relief), alike on the pages, in CSV and in XLSX."""

import csv
import io

import openpyxl

from tests.trade import TOTALS
from tests.views import test_reports
from tests.views.test_reports import url

shop = test_reports.shop  # the fixture

TERMS = ("规则减免", "干部免收", "摊位费减免合计")


def test_monthly_page_and_downloads_name_relief_and_waivers_apart(client, auth, shop):
    auth.login()
    month = {"from": "2026-11-01", "to": "2026-11-30"}
    page = client.get(url(shop, "monthly", month="2026-11")).text
    for term in TERMS:
        assert term in page
    assert ">免收<" not in page and ">减免<" not in page
    total = (TOTALS["relief"] + TOTALS["waived"]) // 100
    assert f"{total}.00" in page  # the sum the ledger books as 摊位费减免

    rows = list(csv.reader(io.StringIO(client.get(url(shop, "export/days.csv", **month)).text)))
    header, totals = rows[0], dict(zip(rows[0], rows[-1], strict=True))
    assert all(term in header for term in TERMS) and "免收" not in header
    assert totals["规则减免"] == "5.00" and totals["干部免收"] == "8.00"
    assert totals["摊位费减免合计"] == "13.00"

    r = client.get(url(shop, "export/sessions.xlsx", **month))
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert all(term in [c.value for c in next(ws.iter_rows())] for term in TERMS)


def test_daily_page_uses_the_same_terms_in_english(client, auth, shop):
    auth.login()
    page = client.get(url(shop, "daily", date="2026-11-02", lang="en"), follow_redirects=True)
    for term in ("Relief by fee rules", "Waived by a cadre", "Fee relief in total"):
        assert term in page.text
