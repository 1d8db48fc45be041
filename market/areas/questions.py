"""Questions (质询) pages: the supervisor asks and accepts, the community's cadre answers,
both read the same thread. Each form carries a nonce: a double tap asks or answers once."""

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.decorators import roles_required
from ..extensions import db
from ..formtools import new_nonce, once_per_nonce, run_submitted
from ..models import CashHandover, Organization, QuestionState, Role
from ..services.areas import questions
from ..services.areas.dashboard import FLAG_RULES
from ..services.auth import access
from ..services.common.clock import now
from . import bp
from .forms import AcceptForm, AskForm, FollowUpForm, ReplyForm
from .views import ID, area_for_supervisor

supervisors = roles_required(Role.SUPERVISOR)


def _once(form, scope: str, payload: dict, act) -> str:
    """Run `act` (returning where to go next) once per form nonce; a repeat of the nonce gets
    the first answer's address (formtools.once_per_nonce)."""
    body = once_per_nonce(current_user, scope, form, payload, lambda: {"location": act()}, 303)
    return body["location"]


def _state() -> str | None:
    state = request.args.get("state")
    return state if state in QuestionState.ALL else None


@bp.route(f"/<{ID}:area_id>/questions")
@supervisors
def area_questions(area_id):
    area = area_for_supervisor(area_id)
    return render_template(
        "areas/questions.html",
        area=area,
        questions=questions.for_area(area.id, _state()),
        state=_state(),
        labels=questions.SUBJECT_LABELS,
    )


@bp.route(f"/<{ID}:area_id>/questions/new", methods=["GET", "POST"])
@supervisors
def ask(area_id):
    area = area_for_supervisor(area_id)
    form = AskForm()
    form.org.choices = [(o.id, o.short_name or o.name) for o in area.organizations]
    if request.method == "GET":
        form.org.data = request.args.get("org", type=int)
        form.kind.data = request.args.get("kind", "flag")
        form.subject.data = request.args.get("subject", "")

    def act():
        question = questions.ask(
            current_user,
            area,
            form.org.data,
            form.kind.data,
            form.subject.data,
            form.body.data,
            now(),
        )
        db.session.flush()
        return url_for(".question", question_id=question.id)

    def action():
        fields = ("org", "kind", "subject", "body")
        payload = {"area": area.id, **{n: getattr(form, n).data for n in fields}}
        return _once(form, "question-ask-form", payload, act)

    status = 200
    if form.is_submitted():
        outcome = run_submitted(form, action, {"kind": "body", "subject": "body"})
        if not isinstance(outcome, int):
            return outcome
        status = outcome
    form.nonce.data = new_nonce()  # nothing was stored: the next send is a new one
    subject = _subject_text(form.kind.data, form.subject.data)
    return render_template("areas/ask.html", area=area, form=form, subject=subject), status


def _subject_text(kind: str | None, subject: str | None) -> str:
    if kind == "flag" and subject in FLAG_RULES:
        return str(FLAG_RULES[subject])
    label = questions.SUBJECT_LABELS.get(kind or "")
    return f"{label} {subject or ''}".strip() if label else ""


@bp.route(f"/questions/<{ID}:question_id>")
@login_required
def question(question_id):
    q = questions.readable(current_user, question_id)
    return _thread(q)


def _subject_link(q, supervising: bool) -> str | None:
    """Where the record asked about can be read (read-only for the supervisor)."""
    if q.subject_kind == "flag":
        if not supervising:
            return None
        anchor = f"flags-{q.organization_id}"
        return url_for(".dashboard", area_id=q.area_id, _anchor=anchor)
    if q.subject_kind == "month_close":
        return url_for("ledger.periods", org_id=q.organization_id)
    if q.subject_kind == "expense":
        return url_for("ledger.expenses", org_id=q.organization_id, _anchor=f"x-{q.subject_id}")
    if q.subject_kind == "session":
        return url_for("sessions.session", session_id=q.subject_id)
    handover = db.session.get(CashHandover, q.subject_id)
    return url_for("reports.handovers", market_id=handover.market_id) if handover else None


def _thread(q, status: int = 200, **forms):
    supervising = q.area_id in access.supervised_area_ids(current_user)
    answering = access.has_org_role(current_user, q.organization_id)
    # A form sent in vain keeps what was typed; every form gets a fresh nonce (formdata=None:
    # the others must not take the sent form's fields).
    shown = {
        "reply_form": forms.get("reply_form") or ReplyForm(formdata=None),
        "follow_form": forms.get("follow_form") or FollowUpForm(formdata=None),
        "accept_form": forms.get("accept_form") or AcceptForm(formdata=None),
    }
    for form in shown.values():
        form.nonce.data = new_nonce()
    return render_template(
        "areas/question.html",
        q=q,
        supervising=supervising,
        subject_link=_subject_link(q, supervising),
        message_labels=questions.MESSAGE_LABELS,
        org=db.session.get(Organization, q.organization_id),
        labels=questions.SUBJECT_LABELS,
        subject=_subject_text(q.subject_kind, q.subject_key or str(q.subject_id or "")),
        can_answer=answering and q.state == QuestionState.OPEN,
        can_close=supervising and q.state == QuestionState.ANSWERED,
        **shown,
    ), status


def _turn(question_id: int, form, form_name: str, action, done: str):
    q = questions.readable(current_user, question_id)

    def act():
        action(q, form)
        return url_for(".question", question_id=q.id)

    def run():
        body = form.body.data if hasattr(form, "body") else None
        scope = "question-" + form_name.replace("_", "-")  # question-reply-form …
        return _once(form, scope, {"question": q.id, "body": body}, act)

    outcome = run_submitted(form, run)
    if isinstance(outcome, int):
        db.session.expire_all()
        return _thread(questions.readable(current_user, question_id), outcome, **{form_name: form})
    flash(done, "success")
    return outcome


@bp.route(f"/questions/<{ID}:question_id>/answer", methods=["POST"])
@login_required
def answer(question_id):
    return _turn(
        question_id,
        ReplyForm(),
        "reply_form",
        lambda q, f: questions.answer(current_user, q, f.body.data, now()),
        _("Answer sent to the street office."),
    )


@bp.route(f"/questions/<{ID}:question_id>/follow-up", methods=["POST"])
@supervisors
def follow_up(question_id):
    return _turn(
        question_id,
        FollowUpForm(),
        "follow_form",
        lambda q, f: questions.follow_up(current_user, q, f.body.data, now()),
        _("Asked again: the community answers once more."),
    )


@bp.route(f"/questions/<{ID}:question_id>/accept", methods=["POST"])
@supervisors
def accept(question_id):
    return _turn(
        question_id,
        AcceptForm(),
        "accept_form",
        lambda q, f: questions.accept(current_user, q, now()),
        _("Answer accepted."),
    )


@bp.route(f"/<{ID}:area_id>/audit")
@supervisors
def area_audit(area_id):
    area = area_for_supervisor(area_id)
    return render_template("areas/audit.html", area=area, events=questions.audit_trail(area.id))


@bp.route("/community-questions")
@roles_required(*Role.MANAGERS)
def community_questions():
    org_ids = access.managed_organization_ids(current_user)
    rows = [q for org_id in sorted(org_ids) for q in questions.for_organization(org_id, _state())]
    return render_template(
        "areas/community_questions.html",
        questions=rows,
        state=_state(),
        labels=questions.SUBJECT_LABELS,
    )
