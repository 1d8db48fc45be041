"""axe-core (vendored for tests only, tests/e2e/vendor/) on the vendor's and the guide's phone
pages: no serious or critical violation of WCAG 2 A/AA rules."""

from pathlib import Path

import pytest

from bench.server import running_server
from tests.e2e.conftest import PHONE
from tests.e2e.test_foundation import login
from tests.e2e.test_vendors import stall_url

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
RUN_AXE = """async () => {
  const tags = ['wcag2a', 'wcag2aa', 'wcag21aa'];
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ': ' + v.help + ' @ '
      + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '));
}"""


@pytest.fixture(scope="module")
def evening():
    with running_server(
        workers=2, setup=[["market", "rush", "--stalls", "40", "--vendors", "1"]]
    ) as url:
        yield url


def violations(page) -> list[str]:
    # bypass_csp on the context lets the test inject axe; the app's pages carry no inline script.
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE)


def check(page, url: str, found: dict) -> None:
    page.goto(url)
    problems = violations(page)
    if problems:
        found[url] = problems


def test_vendor_and_guide_pages_have_no_serious_violations(browser, evening):
    server = evening
    found: dict[str, list[str]] = {}
    a05 = stall_url(server, "A-05")
    ctx = browser.new_context(**PHONE, bypass_csp=True)
    page = ctx.new_page()
    for path in ("/login", "/vendors/register"):
        check(page, server + path, found)
    check(page, a05, found)  # anonymous: log in or register

    login(page, server, "13800000003")
    check(page, server + "/vendors/home", found)
    check(page, a05, found)  # free: the fee and the big button
    page.get_by_role("button", name="确认入场").click()
    page.wait_for_url(f"{server}/receipts/*")
    check(page, page.url, found)
    ctx.close()

    ctx = browser.new_context(**PHONE, bypass_csp=True)
    page = ctx.new_page()
    login(page, server, "13800000004")
    check(page, a05, found)  # taken: alternatives
    ctx.close()

    ctx = browser.new_context(**PHONE, bypass_csp=True)
    page = ctx.new_page()
    login(page, server, "13800000002")
    check(page, server + "/guide/", found)
    check(page, server + "/guide/markets/1/board", found)
    check(page, server + "/guide/markets/1/board?view=list&sort=zone", found)
    page.goto(server + "/guide/markets/1/board")
    page.locator("#board-live svg a").filter(has_text="A-05").click()
    page.locator("#panel").get_by_role("button", name="登记现金").wait_for()
    problems = violations(page)  # the panel opened in place
    if problems:
        found["board with panel"] = problems
    check(page, server + "/guide/shift", found)
    ctx.close()
    assert not found, found
