"""The cadres' pages: the fund of an organization, its projects, meetings, votes and slips.
Supervisors of the street office read them; only the organization's cadres write."""

from datetime import timedelta

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import FundMeeting, Organization, ProjectState, Role
from ..publicurl import local_only_base_url, public_base_url
from ..services.auth import access
from ..services.common import uploads
from ..services.common.clock import now
from ..services.common.errors import NotFound
from ..services.fund import ballots, decisions, money, projects
from ..services.ledger import entries as ledger
from ..services.ledger import expenses as ledger_expenses
from ..services.zoning import qr
from . import bp
from .common import (
    ID,
    form_date,
    form_file,
    form_int,
    form_local_time,
    form_text,
    form_yuan,
    market_of,
    run,
    zone_of,
)


def _me():
    return current_user._get_current_object()


def _org(org_id: int) -> Organization:
    if request.method in ("GET", "HEAD"):
        return access.organization_for_reader(current_user, org_id)
    return ledger.organization_for_cadre(current_user, org_id)


def _project(project_id: int):
    if request.method in ("GET", "HEAD"):
        return projects.project_for_reader(current_user, project_id)
    return projects.project_for_cadre(current_user, project_id)


def _index(org, error=None, status=200):
    market = market_of(org)
    return (
        render_template(
            "fund/index.html",
            org=org,
            market=market,
            fund=money.balance(org.id),
            projects=projects.projects_of(org.id),
            spent=money.spent_by_project(org.id),
            households=len(ballots.households_of(org.id)),
            state_label=projects.STATE_LABELS,
            can_write=access.has_org_role(current_user, org.id, Role.MANAGERS),
            error=error,
            form=request.form,
        ),
        status,
    )


@bp.route(f"/fund/<{ID}:org_id>/")
@roles_required(*Role.READERS)
def index(org_id):
    return _index(_org(org_id))


@bp.route(f"/fund/<{ID}:org_id>/projects", methods=["POST"])
@roles_required(*Role.MANAGERS)
def create(org_id):
    org = _org(org_id)

    def action():
        return projects.create_project(
            org,
            _me(),
            title=form_text("title"),
            place=form_text("place"),
            reason=form_text("reason"),
            budget_fen=form_yuan("budget"),
            photo=form_file("photo"),
            at=now(),
            ip=request.remote_addr,
        ).id

    project_id, error = run(action)
    if error:
        return _index(org, error, error.status)
    return redirect(url_for(".project", project_id=project_id), 303)


@bp.route(f"/fund/<{ID}:org_id>/households", methods=["POST"])
@roles_required(*Role.MANAGERS)
def households(org_id):
    org = _org(org_id)
    added, error = run(
        lambda: ballots.register_households(
            org, _me(), form_text("households", 100_000), at=now(), ip=request.remote_addr
        )
    )
    if error:
        return _index(org, error, error.status)
    flash(_("%(n)d households added.", n=added), "success")
    return redirect(url_for(".index", org_id=org.id), 303)


@bp.route(f"/fund/<{ID}:org_id>/rule", methods=["POST"])
@roles_required(*Role.MANAGERS)
def rule(org_id):
    org = _org(org_id)
    _done, error = run(
        lambda: decisions.set_rule(
            org,
            _me(),
            quorum_num=form_int("quorum_num"),
            quorum_den=form_int("quorum_den"),
            majority_pct=form_int("majority_pct"),
            ip=request.remote_addr,
        )
    )
    if error:
        return _index(org, error, error.status)
    flash(_("The meeting rule is saved."), "success")
    return redirect(url_for(".index", org_id=org.id), 303)


def _project_page(project, error=None, status=200):
    org = db.session.get(Organization, project.organization_id)
    tz = zone_of(org)
    return (
        render_template(
            "fund/project.html",
            org=org,
            market=market_of(org),
            project=project,
            state_label=projects.STATE_LABELS,
            outcome_label=decisions.OUTCOME_LABELS,
            choice_label=ballots.CHOICE_LABELS,
            committed=money.committed_fen(project),
            fund=money.balance(org.id),
            expenses=money.project_expenses(project),
            turnout={v.id: ballots.turnout(v) for v in project.votes},
            can_write=access.has_org_role(current_user, org.id, Role.MANAGERS),
            threshold_fen=org.expense_approval_threshold_fen,
            paid_from=ledger_expenses.PAID_FROM_LABELS,
            local=lambda t: t.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            default_close=(now() + timedelta(days=7)).astimezone(tz).strftime("%Y-%m-%dT20:00"),
            today=ledger.org_today(org, now()).isoformat(),
            error=error,
            form=request.form,
            ProjectState=ProjectState,
        ),
        status,
    )


@bp.route(f"/fund/projects/<{ID}:project_id>")
@roles_required(*Role.READERS)
def project(project_id):
    return _project_page(_project(project_id))


def _act(project_id, action, message):
    project = _project(project_id)
    _result, error = run(lambda: action(project))
    if error:
        db.session.expire_all()
        return _project_page(_project(project_id), error, error.status)
    flash(message, "success")
    return redirect(url_for(".project", project_id=project_id), 303)


@bp.route(f"/fund/projects/<{ID}:project_id>/<any(publish,start,cancel):step>", methods=["POST"])
@roles_required(*Role.MANAGERS)
def step(project_id, step):
    do = {"publish": projects.publish, "start": projects.start, "cancel": projects.cancel}[step]
    return _act(project_id, lambda p: do(p, _me(), at=now(), ip=request.remote_addr), _("Saved."))


@bp.route(f"/fund/projects/<{ID}:project_id>/decline", methods=["POST"])
@roles_required(*Role.MANAGERS)
def decline(project_id):
    return _act(
        project_id,
        lambda p: projects.decline(p, _me(), form_text("reason"), at=now(), ip=request.remote_addr),
        _("The proposal is not published; the reason is kept."),
    )


@bp.route(f"/fund/projects/<{ID}:project_id>/finish", methods=["POST"])
@roles_required(*Role.MANAGERS)
def finish(project_id):
    return _act(
        project_id,
        lambda p: projects.finish(
            p,
            _me(),
            form_text("report"),
            photo=form_file("done_photo"),
            at=now(),
            ip=request.remote_addr,
        ),
        _("The project is done."),
    )


@bp.route(f"/fund/projects/<{ID}:project_id>/meeting", methods=["POST"])
@roles_required(*Role.MANAGERS)
def meeting(project_id):
    return _act(
        project_id,
        lambda p: decisions.record_meeting(
            p,
            _me(),
            held_on=form_date("held_on"),
            total=form_int("total"),
            present=form_int("present"),
            votes_for=form_int("votes_for"),
            votes_against=form_int("votes_against"),
            votes_abstain=form_int("votes_abstain"),
            minutes_photo=form_file("minutes_photo"),
            at=now(),
            ip=request.remote_addr,
        ),
        _("The meeting is recorded."),
    )


@bp.route(f"/fund/projects/<{ID}:project_id>/vote", methods=["POST"])
@roles_required(*Role.MANAGERS)
def open_vote(project_id):
    def action(p):
        org = db.session.get(Organization, p.organization_id)
        return ballots.open_vote(
            p, _me(), closes_at=form_local_time("closes_at", org), at=now(), ip=request.remote_addr
        )

    return _act(project_id, action, _("The vote is open. Print the slips."))


@bp.route(f"/fund/projects/<{ID}:project_id>/expense", methods=["POST"])
@roles_required(*Role.MANAGERS)
def expense(project_id):
    return _act(
        project_id,
        lambda p: money.record_project_expense(
            p,
            _me(),
            amount_fen=form_yuan("amount"),
            spent_on=form_date("spent_on"),
            description=form_text("description"),
            paid_from=form_text("paid_from", 20),
            receipt=form_file("receipt"),
            at=now(),
            ip=request.remote_addr,
        ),
        _("The expense is recorded."),
    )


@bp.route(f"/fund/meetings/<{ID}:meeting_id>/minutes")
@roles_required(*Role.READERS)
def minutes(meeting_id):
    meeting = db.session.get(FundMeeting, meeting_id)
    if meeting is None:
        raise NotFound()
    projects.project_for_reader(current_user, meeting.project_id)
    path = uploads.stored_path(projects.photos_dir(), meeting.minutes_photo)
    if path is None:
        raise NotFound()
    return send_file(path, max_age=0)


def _vote_page(v, error=None, status=200):
    return (
        render_template(
            "fund/vote.html",
            vote=v,
            project=v.project,
            slips=ballots.slip_states(v),
            turnout=ballots.turnout(v),
            error=error,
        ),
        status,
    )


@bp.route(f"/fund/votes/<{ID}:vote_id>")
@roles_required(*Role.MANAGERS)
def vote(vote_id):
    return _vote_page(ballots.vote_for_cadre(current_user, vote_id))


def _slips_page(v, slips):
    org = db.session.get(Organization, v.project.organization_id)
    market = market_of(org)
    base = public_base_url().rstrip("/")
    rows = []
    for s in slips:
        url = base + url_for("fund.public_vote", slug=market.slug, vote_id=v.id, code=s.shown)
        rows.append((s, url, qr.qr_svg(url, s.household)))
    tz = zone_of(org)
    return render_template(
        "fund/slips.html",
        vote=v,
        project=v.project,
        market=market,
        rows=rows,
        closes=v.closes_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        local_base_url=local_only_base_url(),
    )


@bp.route(f"/fund/votes/<{ID}:vote_id>/slips", methods=["POST"])
@roles_required(*Role.MANAGERS)
def slips(vote_id):
    v = ballots.vote_for_cadre(current_user, vote_id)
    issued, error = run(lambda: ballots.issue_slips(v, _me(), at=now(), ip=request.remote_addr))
    if error:
        return _vote_page(ballots.vote_for_cadre(current_user, vote_id), error, error.status)
    # The codes exist only in this answer: it is the page to print, not to bookmark.
    response = _slips_page(v, issued)
    return response, 200, {"Cache-Control": "no-store"}


@bp.route(f"/fund/votes/<{ID}:vote_id>/reissue/<{ID}:household_id>", methods=["POST"])
@roles_required(*Role.MANAGERS)
def reissue(vote_id, household_id):
    v = ballots.vote_for_cadre(current_user, vote_id)
    slip, error = run(
        lambda: ballots.reissue_slip(v, household_id, _me(), at=now(), ip=request.remote_addr)
    )
    if error:
        return _vote_page(ballots.vote_for_cadre(current_user, vote_id), error, error.status)
    return _slips_page(v, [slip]), 200, {"Cache-Control": "no-store"}
