"""A real server (gunicorn, fresh SQLite database with the demo data) and a real Chromium.

Runs when Chromium and Python Playwright are present; CI sets REQUIRE_BROWSER=1 so that a
missing browser fails instead of skipping."""

import os
from pathlib import Path

import pytest

from bench.server import running_server

ARTIFACTS = Path(__file__).parent / "artifacts"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"  # the README's screenshots
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _browser_missing()
    if reason is None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but {reason}")
    marker = pytest.mark.skip(reason=f"browser tests: {reason}")
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(marker)


@pytest.fixture(scope="session")
def server():
    """The app under gunicorn (2 workers) on a free loopback port and a fresh SQLite database
    holding the demo data; yields its base URL."""
    with running_server(workers=2) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session", autouse=True)
def _artifacts_dir():
    # `make test` empties it before the run (not here: under pytest-xdist one worker would
    # delete the other's screenshots).
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def docs_shot(page, name: str, show=None) -> None:
    """The README's phone screenshot `<name>.png`: the 390×844 screen as a phone shows it (no
    full page), one image pixel per CSS pixel so the file stays small; into
    the artifacts' `docs` folder, or `docs/img/` with UPDATE_DOCS_IMG=1. `show`, a locator, is
    scrolled into sight first (sideways within a scrolling map, say)."""
    if show is not None:
        show.evaluate("e => e.scrollIntoView({block: 'nearest', inline: 'center'})")
    # A test run leaves the checkout as it was: the README's copies change only when asked.
    folder = DOCS_IMG if os.environ.get("UPDATE_DOCS_IMG") == "1" else ARTIFACTS / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), scale="css", caret="hide")


def sees(page, *texts):
    """The page shows each text, waiting for it: reading `page.content()` right after a click
    can catch the page mid-navigation (empty), which made CI runs fail at random."""
    from playwright.sync_api import expect

    for text in texts:
        expect(page.locator("body")).to_contain_text(text)
