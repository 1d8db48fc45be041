"""The cadre's destructive buttons ask once more: a `<details class="confirm-step">` whose
summary is the first button and whose body says what happens and holds the real submit button.
No script: the step is plain HTML, so the pages are read as HTML here."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import Market, MarketClosure, MarketSession, Organization, SessionTemplate, Stall
from market.services.common.clock import FixedClock
from market.services.ledger import entries as ledger
from market.services.ledger.entries import Line
from market.services.sessions import tide as sessions
from tests import builders
from tests.conftest import csrf_from

VOID = {"input", "br", "hr", "img", "meta", "link", "col", "area", "base", "source", "wbr"}


@dataclass
class Form:
    action: str
    fields: set[str] = field(default_factory=set)
    submits: list[str] = field(default_factory=list)
    in_step: bool = False


@dataclass
class Step:
    summary: str = ""
    text: str = ""
    is_open: bool = False
    forms: list[Form] = field(default_factory=list)


class Page(HTMLParser):
    """The confirm steps of a page and every form on it, with where each form sits."""

    def __init__(self, html: str):
        super().__init__()
        self.steps: list[Step] = []
        self.forms: list[Form] = []
        self._stack: list[tuple[str, Step | None]] = []
        self._step: Step | None = None
        self._form: Form | None = None
        self._in_summary = self._in_button = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "details" and "confirm-step" in (a.get("class") or "").split():
            self._step = Step(is_open="open" in a)
            self.steps.append(self._step)
            self._stack.append((tag, self._step))
        elif tag not in VOID:
            self._stack.append((tag, None))
        if tag == "summary" and self._step is not None:
            self._in_summary = True
        elif tag == "form":
            self._form = Form(a.get("action", ""), in_step=self._step is not None)
            self.forms.append(self._form)
            if self._step is not None:
                self._step.forms.append(self._form)
        elif tag in ("input", "select", "textarea") and self._form is not None and a.get("name"):
            self._form.fields.add(a["name"])
        elif tag == "button" and self._form is not None and a.get("type", "submit") == "submit":
            self._form.submits.append("")
            self._in_button = True

    def handle_endtag(self, tag):
        while tag in (t for t, _ in self._stack):
            open_tag, step = self._stack.pop()
            if step is not None:
                self._step = next((s for _, s in reversed(self._stack) if s is not None), None)
            if open_tag == tag:
                break
        if tag == "summary":
            self._in_summary = False
        elif tag == "button":
            self._in_button = False
        elif tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._in_button and self._form is not None:
            self._form.submits[-1] += data.strip()
        if self._step is not None:
            if self._in_summary:
                self._step.summary += data.strip()
            else:
                self._step.text += data

    def step(self, summary: str) -> Step:
        found = [s for s in self.steps if s.summary == summary]
        assert len(found) == 1, [s.summary for s in self.steps]
        return found[0]


def assert_guards(page: Page, summary: str, action: str, *words: str) -> Step:
    """The step named `summary` holds the one form posting to `action`, with its submit button
    and CSRF token inside the step's body; its text says what happens."""
    step = page.step(summary)
    assert not step.is_open
    posting = [f for f in page.forms if f.action.split("?")[0].endswith(action)]
    assert len(posting) == 1 and posting[0].in_step, posting
    assert posting[0] in step.forms
    assert posting[0].submits and all(posting[0].submits), posting[0]
    assert any(name.endswith("csrf_token") for name in posting[0].fields)  # c-csrf_token too
    text = " ".join(step.text.split())
    for word in words:
        assert word in text, text
    return step


@pytest.fixture
def cadre(client, auth):
    auth.login("13800000001")
    return client


def _stall(app, code="A-01"):
    with app.app_context():
        return db.session.scalar(select(Stall).where(Stall.code == code)).id


def test_stall_page_asks_before_a_new_qr_code_and_before_deleting(demo_app, cadre):
    stall_id = _stall(demo_app)
    html = cadre.get(f"/zoning/stalls/{stall_id}/edit?lang=en").text
    page = Page(html)
    assert_guards(
        page,
        "Replace the QR code",
        f"/zoning/stalls/{stall_id}/rotate-token",
        "Stall A-01 gets a new QR code",
        "printed poster stops working",
    )
    assert_guards(
        page,
        "Delete this stall",
        f"/zoning/stalls/{stall_id}/delete",
        "Stall A-01 is removed from the map for good",
        "disabled instead",
    )
    # The real buttons still post as before: same fields, same CSRF token.
    action = next(f.action for f in page.forms if f.action.endswith("/delete"))
    r = cadre.post(action, data={"csrf_token": csrf_from(html)})
    assert r.status_code == 302


def test_market_page_asks_before_replacing_every_qr_code(demo_app, cadre):
    with demo_app.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        n = db.session.scalar(select(func.count()).where(Stall.market_id == market.id))
        market_id = market.id
    page = Page(cadre.get(f"/zoning/markets/{market_id}?lang=en").text)
    assert_guards(
        page,
        "Replace all QR codes",
        f"/zoning/markets/{market_id}/rotate-tokens",
        f"All {n} stalls of",
        "Every printed poster stops working at once",
    )


def _session(app, day):
    with app.app_context():
        return db.session.scalar(
            select(MarketSession.id).where(
                MarketSession.business_date == day, MarketSession.kind == "night"
            )
        )


@pytest.fixture
def evening(demo_app):
    """Monday's night market open at 19:00."""
    with demo_app.app_context():
        sessions.reconcile(datetime.fromisoformat("2026-11-23T18:05+08:00"))
        db.session.commit()
    demo_app.config["CLOCK"] = FixedClock(datetime.fromisoformat("2026-11-23T19:00+08:00"))
    return _session(demo_app, date(2026, 11, 23))


def test_open_session_asks_before_closing_and_before_cancelling(demo_app, cadre, evening):
    page = Page(cadre.get(f"/sessions/{evening}?lang=en").text)
    assert_guards(
        page,
        "Close now",
        f"/sessions/{evening}/close",
        "closes now instead of at 22:30",
        "is checked out",
    )
    step = assert_guards(
        page,
        "Cancel the session",
        f"/sessions/{evening}/cancel",
        "The market ends now",
        "is checked out",
        "see the reason",
    )
    # The reason is asked inside the step: Enter in it can't skip the second tap.
    assert "c-reason" in step.forms[0].fields


def test_a_refused_cancel_comes_back_with_the_step_open(demo_app, cadre, evening):
    url = f"/sessions/{evening}?lang=en"
    html = cadre.get(url).text
    r = cadre.post(
        f"/sessions/{evening}/cancel?lang=en", data={"csrf_token": csrf_from(html), "c-reason": ""}
    )
    assert r.status_code == 400 and "Say why." in r.text
    assert Page(r.text).step("Cancel the session").is_open


def test_planned_session_asks_before_cancelling(demo_app, cadre, evening):
    tomorrow = _session(demo_app, date(2026, 11, 24))
    page = Page(cadre.get(f"/sessions/{tomorrow}?lang=en").text)
    assert_guards(
        page,
        "Cancel the session",
        f"/sessions/{tomorrow}/cancel",
        "won’t open",
        "schedule it again",
    )
    assert [s.summary for s in page.steps] == ["Cancel the session"]  # opening needs no step


@pytest.fixture
def org_id(demo_app):
    demo_app.config["CLOCK"] = FixedClock(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    with demo_app.app_context():
        org = db.session.scalars(select(Organization)).one()
        ledger.post(
            org.id,
            date(2026, 10, 15),
            "测试收入",
            "t:1",
            [
                Line(ledger.account(org.id, "office_cash"), debit_fen=10_001),
                Line(ledger.account(org.id, "fee_income"), credit_fen=10_001),
            ],
        )
        db.session.commit()
        return org.id


def test_periods_page_asks_before_closing_a_month(demo_app, cadre, org_id):
    html = cadre.get(f"/ledger/{org_id}/periods?lang=en").text
    step = assert_guards(
        Page(html),
        "Close month",
        f"/ledger/{org_id}/months",
        "2026-10 is closed for good",
        "no entry can be dated in it any more",
    )
    assert "month" in step.forms[0].fields
    r = cadre.post(
        f"/ledger/{org_id}/months", data={"csrf_token": csrf_from(html), "month": "2026-10"}
    )
    assert r.status_code == 302
    page = cadre.get(f"/ledger/{org_id}/periods?lang=en").text
    assert "No ended month is open." in page
    # The closed month's breakdown fits the phone (labels wrap) and scrolls if it must.
    article = page[page.index('<article class="month-close">') :]
    assert article.index('<div class="table-scroll">') < article.index(
        '<table class="table table-fit">'
    )


def test_a_refused_month_close_comes_back_with_the_step_open(demo_app, cadre, org_id):
    html = cadre.get(f"/ledger/{org_id}/periods?lang=en").text
    r = cadre.post(
        f"/ledger/{org_id}/months?lang=en",
        data={"csrf_token": csrf_from(html), "month": "2026-11"},
    )
    assert r.status_code == 422 and "only after it has ended" in r.text
    assert Page(r.text).step("Close month").is_open


def test_lifting_a_closure_and_removing_a_template_ask_first(demo_app, cadre, evening):
    with demo_app.app_context():
        market_id = db.session.scalar(select(Market.id).where(Market.slug == "jinhui"))
        template_id = db.session.scalar(
            select(SessionTemplate.id).where(SessionTemplate.market_id == market_id)
        )
    form = cadre.get(f"/sessions/markets/{market_id}/closures/new").text
    r = cadre.post(
        f"/sessions/markets/{market_id}/closures/new",
        data={
            "csrf_token": csrf_from(form),
            "first_date": "2026-11-30",
            "last_date": "2026-12-02",
            "reason": "道路施工",
        },
    )
    assert r.status_code == 302
    with demo_app.app_context():
        closure_id = db.session.scalar(select(MarketClosure.id))
    page = Page(cadre.get(f"/sessions/markets/{market_id}?lang=en").text)
    assert_guards(page, "Lift", f"/sessions/closures/{closure_id}/lift", "opens again on")
    page = Page(cadre.get(f"/sessions/templates/{template_id}/edit?lang=en").text)
    assert_guards(
        page, "Remove", f"/sessions/templates/{template_id}/remove", "stops planning sessions"
    )


def test_every_reconcile_button_asks_first(demo_app, cadre, org_id):
    with demo_app.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        for day in (10, 11):  # two closed evenings waiting for their money to be checked
            start = datetime(2026, 11, day, 10, 0, tzinfo=UTC)
            builders.session(
                market,
                starts_at=start,
                business_date=date(2026, 11, day),
                state="closed",
                kind="special",
                opened_at=start,
                closed_at=start + timedelta(hours=4),
            )
        db.session.commit()
    page = Page(cadre.get(f"/ledger/{org_id}/periods?lang=en").text)
    reconciling = [f for f in page.forms if f.action.endswith("/reconcile")]
    assert len(reconciling) >= 2 and all(f.in_step for f in reconciling)
    steps = [s for s in page.steps if s.summary == "Mark reconciled"]
    assert len(steps) == len(reconciling)
    assert all("the day is locked for good" in " ".join(s.text.split()) for s in steps)


def test_a_session_closed_too_early_asks_before_reopening(demo_app, cadre, evening):
    html = cadre.get(f"/sessions/{evening}?lang=en").text
    cadre.post(f"/sessions/{evening}/close", data={"csrf_token": csrf_from(html)})
    page = Page(cadre.get(f"/sessions/{evening}?lang=en").text)
    step = assert_guards(
        page,
        "Reopen the session",
        f"/sessions/{evening}/reopen",
        "checked out by the close are on their stalls again",
        "reversing entry",
        "closes again at 22:30",
    )
    assert "r-reason" in step.forms[0].fields
    # Without a reason it comes back with the step open, the session still closed.
    html = cadre.get(f"/sessions/{evening}?lang=en").text
    r = cadre.post(
        f"/sessions/{evening}/reopen?lang=en", data={"csrf_token": csrf_from(html), "r-reason": ""}
    )
    assert r.status_code == 400 and "Say why." in r.text
    assert Page(r.text).step("Reopen the session").is_open
    r = cadre.post(
        f"/sessions/{evening}/reopen?lang=en",
        data={"csrf_token": csrf_from(html), "r-reason": "关错了"},
    )
    assert r.status_code == 302
    page = cadre.get(f"/sessions/{evening}?lang=en").text
    assert "The session is reopened" in page and "Close now" in page
