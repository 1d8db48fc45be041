"""Questions (质询): the supervisor asks about a flag, a month close, an expense, a hand-over or
a day; the community's cadre sees it in 等我处理 and answers; the supervisor accepts or asks
again. Audited on both sides; a question changes nothing of what it is about."""

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from market.extensions import db
from market.models import AuditEvent, CashHandover, Question, QuestionMessage
from tests.views import test_areas
from tests.views.test_areas import _login, _token

area = test_areas.area  # the fixture: two communities of an area, one busy

CADRE = "13700000089"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _sent(html: str, action: str = "") -> dict:
    """The hidden fields (csrf_token, nonce …) a browser sends with the page's form posting
    to an address ending in `action` (without one: the form that has no action)."""
    for attrs, inner in re.findall(r"<form([^>]*)>(.*?)</form>", html, re.S):
        target = re.search(r'action="([^"]*)"', attrs)
        if (target.group(1).endswith(action) and action) if target else not action:
            return dict(re.findall(r'name="([^"]+)" type="hidden" value="([^"]*)"', inner))
    raise AssertionError(f"no form for {action!r}")


def _ask_data(client, area, **form) -> dict:
    page = client.get(f"/areas/{area['id']}/questions/new", query_string=form)
    assert page.status_code == 200
    return {**_sent(page.text), "org": form.get("org", area["org"]), **form}


def _ask(client, area, **form):
    return client.post(f"/areas/{area['id']}/questions/new", data=_ask_data(client, area, **form))


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_ask_answer_accept_with_the_cadres_todo_and_both_audit_logs(app, area):
    supervisor = _login(app)
    board = supervisor.get(f"/areas/{area['id']}/?month=2026-11").text
    assert "kind=flag&amp;subject=unreconciled" in board  # each flag offers a question
    r = _ask(supervisor, area, kind="flag", subject="unreconciled", body="11月2日为何未核对？")
    assert r.status_code == 302
    thread = r.headers["Location"]
    page = supervisor.get(thread).text
    assert "11月2日为何未核对？" in page and "等待社区答复" in page
    assert "接受答复" not in page  # nothing to accept before an answer

    cadre = _login(app, CADRE)
    office = cadre.get("/admin/").text
    assert "街道提出的质询待答复" in office
    assert "/areas/community-questions?state=open" in office
    listed = cadre.get("/areas/community-questions?state=open").text
    assert "11月2日为何未核对？" in listed
    page = cadre.get(thread)
    assert page.status_code == 200 and "发送答复" in page.text
    answered = cadre.post(
        f"{thread}/answer", data={**_sent(page.text, "/answer"), "body": "收款员请假，已补核。"}
    )
    assert answered.status_code == 302
    assert "街道提出的质询待答复" not in cadre.get("/admin/").text

    page = supervisor.get(thread).text
    assert "收款员请假，已补核。" in page and "接受答复" in page
    accepted = supervisor.post(f"{thread}/accept", data=_sent(page, "/accept"))
    assert accepted.status_code == 302
    assert "已接受" in supervisor.get(thread).text

    with app.app_context():
        q = db.session.scalar(select(Question))
        assert q.state == "accepted" and q.organization_id == area["org"]
        assert [m.kind for m in q.messages] == ["ask", "answer", "accept"]
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.organization_id == area["org"], AuditEvent.object_type == "questions")
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["question.asked", "question.answer", "question.accept"]
    # The community's audit log and the street office's both list the turns.
    org_log = cadre.get(f"/reports/organizations/{area['org']}/audit").text
    assert "街道提出质询" in org_log
    area_log = supervisor.get(f"/areas/{area['id']}/audit").text
    assert "街道接受了答复" in area_log and "问题已答复" in area_log


def test_follow_up_reopens_and_the_dashboard_counts_open_questions(app, area):
    supervisor = _login(app)
    _ask(supervisor, area, kind="flag", subject="handover_gap", body="差额22元怎么回事？")
    with app.app_context():
        qid = db.session.scalar(select(Question.id))
    board = supervisor.get(f"/areas/{area['id']}/?month=2026-11&sort=open_questions").text
    assert f"/areas/{area['id']}/questions?state=open" in board
    cadre = _login(app, CADRE)
    page = cadre.get(f"/areas/questions/{qid}").text
    cadre.post(f"/areas/questions/{qid}/answer", data={**_sent(page, "/answer"), "body": "点错"})
    page = supervisor.get(f"/areas/questions/{qid}").text
    again = supervisor.post(
        f"/areas/questions/{qid}/follow-up",
        data={**_sent(page, "/follow-up"), "body": "请附交接单照片"},
    )
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(Question, qid).state == "open"
    assert "街道提出的质询待答复" in cadre.get("/admin/").text


def test_bad_questions_are_refused_and_nothing_is_written(app, area):
    supervisor = _login(app)
    empty = _ask(supervisor, area, kind="flag", subject="unreconciled", body="  ")
    assert empty.status_code == 422 and "请写明想了解的情况" in empty.text
    no_flag = _ask(supervisor, area, kind="flag", subject="nonsense", body="?")
    assert no_flag.status_code == 422
    elsewhere = _ask(supervisor, area, kind="expense", subject="999999", body="?")
    assert elsewhere.status_code == 422 and "不属于该社区" in elsewhere.text
    assert _count(app, Question) == 0 and _count(app, QuestionMessage) == 0
    # A hand-over of the community is a fine subject; it links to the hand-over report.
    with app.app_context():
        handover_id = db.session.scalar(select(CashHandover.id))
    ok = _ask(supervisor, area, kind="handover", subject=str(handover_id), body="差额说明？")
    assert ok.status_code == 302
    thread = supervisor.get(ok.headers["Location"]).text
    assert f"/reports/markets/{area['market']}/handovers" in thread


def test_only_the_two_sides_read_or_act(app, area):
    supervisor = _login(app)
    r = _ask(supervisor, area, kind="flag", subject="unreconciled", body="为何？")
    thread = r.headers["Location"]
    page = supervisor.get(f"/areas/{area['id']}/questions/new").text  # a form's token
    # A supervisor may not answer for the community; a cadre may not accept.
    answer = supervisor.post(f"{thread}/answer", data={"csrf_token": _csrf(page), "body": "x"})
    assert answer.status_code == 403
    cadre = _login(app, CADRE)
    accept = cadre.post(f"{thread}/accept", data={"csrf_token": _csrf(cadre.get(thread).text)})
    assert "接受答复" not in cadre.get(thread).text
    assert accept.status_code == 403
    with app.app_context():
        from market.services.auth import accounts

        accounts.create_user("13700000077", "路人", "demo1234", check_strength=False)
        db.session.commit()
    stranger = _login(app, "13700000077")
    assert stranger.get(thread).status_code == 404


def test_a_form_sent_twice_asks_answers_and_follows_up_once(app, area):
    supervisor = _login(app)
    url = f"/areas/{area['id']}/questions/new"
    data = _ask_data(supervisor, area, kind="flag", subject="unreconciled", body="为何未核对？")
    assert re.fullmatch(r"[0-9a-f]{32}", data.get("nonce", ""))
    first, again = supervisor.post(url, data=data), supervisor.post(url, data=data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert _count(app, Question) == 1
    thread = first.headers["Location"]

    cadre = _login(app, CADRE)
    reply = {**_sent(cadre.get(thread).text, "/answer"), "body": "已补核"}
    assert [cadre.post(f"{thread}/answer", data=reply).status_code for _ in "12"] == [302, 302]
    page = supervisor.get(thread).text
    follow = {**_sent(page, "/follow-up"), "body": "请附照片"}
    assert _sent(page, "/accept")["nonce"] != follow["nonce"]  # one nonce per form
    assert [supervisor.post(f"{thread}/follow-up", data=follow).status_code for _ in "12"] == [
        302,
        302,
    ]
    with app.app_context():
        q = db.session.scalar(select(Question))
        assert [m.kind for m in q.messages] == ["ask", "answer", "follow_up"]

    # The sent form reached again (the back button) and changed: refused, not lost, and shown
    # again with a new nonce, so sending it once more asks the new question.
    changed = supervisor.post(f"{url}?lang=en", data={**data, "body": "另一个问题"})
    assert changed.status_code == 422 and "This form was already sent once" in changed.text
    assert _count(app, Question) == 1
    resent = _sent(changed.text)
    assert resent["nonce"] != data["nonce"]
    assert supervisor.post(url, data={**data, **resent, "body": "另一个问题"}).status_code == 302
    assert _count(app, Question) == 2


def test_the_api_asks_answers_and_accepts(app, area):
    client = app.test_client()
    sup, cadre = _token(client), _token(client, CADRE)
    areas = client.get("/api/v1/areas", headers=sup)
    assert areas.status_code == 200
    assert areas.json[0]["id"] == area["id"] and len(areas.json[0]["organizations"]) == 2
    assert client.get("/api/v1/areas", headers=cadre).status_code == 403

    url = f"/api/v1/areas/{area['id']}/questions"
    bad = client.post(url, headers=sup, json={"organization_id": area["org"], "subject_kind": "x"})
    assert bad.status_code == 422
    made = client.post(
        url,
        headers=sup,
        json={
            "organization_id": area["org"],
            "subject_kind": "flag",
            "subject": "unreconciled",
            "body": "为何未核对？",
        },
    )
    assert made.status_code == 201 and made.json["state"] == "open"
    qid = made.json["id"]
    assert client.post(url, headers=cadre, json={}).status_code == 403
    assert [q["id"] for q in client.get(f"{url}?state=open", headers=sup).json] == [qid]

    early = client.post(f"/api/v1/questions/{qid}/accept", headers=sup)
    assert early.status_code == 409
    blocked = client.post(f"/api/v1/questions/{qid}/answer", headers=sup, json={"body": "x"})
    assert blocked.status_code == 403
    answered = client.post(f"/api/v1/questions/{qid}/answer", headers=cadre, json={"body": "已补"})
    assert answered.status_code == 200 and answered.json["state"] == "answered"
    accepted = client.post(f"/api/v1/questions/{qid}/accept", headers=sup)
    assert accepted.status_code == 200 and accepted.json["state"] == "accepted"
    assert [m["kind"] for m in accepted.json["messages"]] == ["ask", "answer", "accept"]
    assert client.get(f"/api/v1/questions/{qid}", headers=cadre).status_code == 200
    assert client.get(f"{url}", headers=cadre).status_code == 403


def test_the_supervisor_reads_vendors_and_receipts_but_not_their_phones(app, area):
    from market.models import Expense, Vendor
    from market.services.ledger import entries as ledger
    from market.services.ledger import expenses as ledger_expenses
    from tests.services.ledger.test_expenses import photo

    with app.app_context():
        vendor = db.session.scalar(select(Vendor).where(Vendor.organization_id == area["org"]))
        phone, vendor_id = vendor.user.phone, vendor.id
        org = vendor.organization
        ledger.ensure_chart(org)
        from market.services.auth import accounts

        expense = ledger_expenses.record_expense(
            org,
            accounts.user_by_phone(CADRE),
            account_id=ledger.account(org.id, "cleaning").id,
            amount_fen=80_000,
            spent_on=datetime(2026, 12, 1).date(),
            description="保洁",
            paid_from="bank",
            receipt=photo(),
            at=datetime(2026, 12, 6, 1, 0, tzinfo=UTC),
        )
        db.session.commit()
        expense_id = expense.id
        assert db.session.get(Expense, expense_id).receipt_photo
    supervisor = _login(app)
    page = supervisor.get(f"/vendors/{vendor_id}")
    assert page.status_code == 200
    assert phone not in page.text and phone[-4:] in page.text  # masked, not hidden
    assert "/approve" not in page.text and "重置码" not in page.text
    receipt = supervisor.get(f"/ledger/expenses/{expense_id}/receipt")
    assert receipt.status_code == 200 and receipt.mimetype.startswith("image/")
    receipt.close()
    cadre_page = _login(app, CADRE).get(f"/vendors/{vendor_id}")
    assert phone in cadre_page.text


def test_an_api_write_resent_with_its_idempotency_key_acts_once(app, area):
    client = app.test_client()
    sup, cadre = _token(client), _token(client, CADRE)
    url = f"/api/v1/areas/{area['id']}/questions"
    body = {
        "organization_id": area["org"],
        "subject_kind": "flag",
        "subject": "unreconciled",
        "body": "为何未核对？",
    }
    keyed = {**sup, "Idempotency-Key": "ask-1"}
    first, again = (
        client.post(url, headers=keyed, json=body),
        client.post(url, headers=keyed, json=body),
    )
    assert first.status_code == again.status_code == 201 and first.json == again.json
    assert _count(app, Question) == 1
    other = client.post(url, headers=keyed, json={**body, "body": "另一个问题"})
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    assert _count(app, Question) == 1
    bad = client.post(url, headers={**sup, "Idempotency-Key": " "}, json=body)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_idempotency_key"
    qid = first.json["id"]

    # Each turn: a retry gets the first answer back (not a 409), another body a 422.
    turns = [
        ("answer", cadre, {"body": "已补核"}, {"body": "别的"}),
        ("follow-up", sup, {"body": "请附照片"}, {"body": "别的"}),
        ("answer", cadre, {"body": "照片已传"}, None),
        ("accept", sup, None, None),
    ]
    for n, (turn, who, sent, changed) in enumerate(turns):
        headers = {**who, "Idempotency-Key": f"turn-{n}"}
        path = f"/api/v1/questions/{qid}/{turn}"
        r1, r2 = (
            client.post(path, headers=headers, json=sent),
            client.post(path, headers=headers, json=sent),
        )
        assert r1.status_code == r2.status_code == 200 and r1.json == r2.json, (turn, r2.json)
        if changed is not None:
            r3 = client.post(path, headers=headers, json=changed)
            assert r3.status_code == 422, (turn, r3.json)
            assert r3.json["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        q = db.session.scalar(select(Question))
        kinds = [m.kind for m in q.messages]
        assert kinds == ["ask", "answer", "follow_up", "answer", "accept"] and q.state == "accepted"

    # The key is the sender's and the request's: the same key on another question is refused.
    second = client.post(url, headers=sup, json={**body, "body": "再问"}).json["id"]
    reuse = client.post(
        f"/api/v1/questions/{second}/accept", headers={**sup, "Idempotency-Key": "turn-3"}
    )
    assert reuse.status_code == 422 and reuse.json["error"]["code"] == "idempotency_key_reused"

    spec = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/api/v1/areas/{area_id}/questions",
        "/api/v1/questions/{question_id}/answer",
        "/api/v1/questions/{question_id}/accept",
        "/api/v1/questions/{question_id}/follow-up",
    ):
        names = [p["name"] for p in spec[path]["post"].get("parameters", [])]
        assert "Idempotency-Key" in names, path
