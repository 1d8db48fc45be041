"""The residents' pages, no login: the fund, a project, proposing one, voting with a slip."""

from flask import current_app, make_response, render_template, request, send_file, url_for

from ..complaints.views import address_limit
from ..extensions import db, limiter
from ..models import Organization, ProjectState
from ..publicurl import local_only_base_url, public_base_url
from ..services.common import uploads
from ..services.common.clock import now
from ..services.common.errors import DomainError, NotFound
from ..services.complaints.guard import ChallengeFailed
from ..services.fund import ballots, codes, decisions, money, projects
from ..services.public import notice
from ..services.zoning import qr
from . import bp
from .common import ID, SLUG, form_file, form_text, form_yuan, zone_of

RECEIPT_COOKIE = "fund_receipt_{}"


def vote_limit() -> str:
    return current_app.config.get("FUND_VOTE_LIMIT", "20/minute;300/day")


def _summary(market):
    org = db.session.get(Organization, market.organization_id)
    listed = projects.projects_of(org.id, ProjectState.PUBLIC)
    tz = zone_of(org)
    votes = [v for p in listed for v in p.votes]
    return {
        "org": org,
        "market": market,
        "fund": money.balance(org.id),
        "months": money.month_shares(org.id),
        "projects": listed,
        "spent": money.spent_by_project(org.id),
        "open_votes": [(v, ballots.turnout(v)) for v in votes if v.state == "open"],
        "state_label": projects.STATE_LABELS,
        "outcome_label": decisions.OUTCOME_LABELS,
        "local": lambda t: t.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
    }


def _public(html: str, cache: bool = True):
    response = make_response(html)
    response.headers["Cache-Control"] = "public, max-age=60" if cache else "no-store"
    return response


@bp.route(f"/p/<{SLUG}:slug>/fund")
def public_fund(slug):
    market = notice.market_by_slug(slug)
    return _public(render_template("fund/public.html", **_summary(market)))


@bp.route(f"/p/<{SLUG}:slug>/fund/print")
def public_fund_print(slug):
    market = notice.market_by_slug(slug)
    live = public_base_url().rstrip("/") + url_for("fund.public_fund", slug=slug)
    return _public(
        render_template(
            "fund/print.html",
            live_url=live,
            qr_svg=qr.qr_svg(live, live),
            local_base_url=local_only_base_url(),
            printed=now(),
            **_summary(market),
        )
    )


@bp.route(f"/p/<{SLUG}:slug>/fund/projects/<{ID}:project_id>")
def public_project(slug, project_id):
    market = notice.market_by_slug(slug)
    project = projects.public_project(market, project_id)
    org = db.session.get(Organization, market.organization_id)
    tz = zone_of(org)
    return _public(
        render_template(
            "fund/public_project.html",
            market=market,
            project=project,
            expenses=[e for e in money.project_expenses(project) if e.state == "posted"],
            committed=money.committed_fen(project),
            state_label=projects.STATE_LABELS,
            outcome_label=decisions.OUTCOME_LABELS,
            turnout={v.id: ballots.turnout(v) for v in project.votes},
            local=lambda t: t.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        )
    )


@bp.route(f"/p/<{SLUG}:slug>/fund/projects/<{ID}:project_id>/<any(photo,done_photo):which>")
def public_photo(slug, project_id, which):
    market = notice.market_by_slug(slug)
    project = projects.public_project(market, project_id)
    path = uploads.stored_path(projects.photos_dir(), getattr(project, which))
    if path is None:
        raise NotFound()
    return send_file(path, max_age=3600)


@bp.route(f"/p/<{SLUG}:slug>/fund/propose", methods=["GET", "POST"])
@limiter.limit(address_limit, methods=["POST"], scope="fund-propose")
def propose(slug):
    market = notice.market_by_slug(slug)
    address = projects.address_hash(request.remote_addr)
    challenge, error, status = None, None, 200
    if request.method == "POST":
        try:
            projects.propose(
                market,
                title=form_text("title"),
                place=form_text("place"),
                reason=form_text("reason"),
                budget_fen=form_yuan("budget"),
                photo=form_file("photo"),
                at=now(),
                ip=request.remote_addr,
                challenge_token=form_text("challenge", 400),
                challenge_answer=form_text("answer", 4),
            )
        except ChallengeFailed as e:
            db.session.rollback()
            error, status, challenge = e, e.status, e.challenge
        except DomainError as e:
            db.session.rollback()
            error, status = e, e.status
        else:
            db.session.commit()
            return render_template("fund/proposed.html", market=market)
    if challenge is None and projects.needs_challenge(address, now()):
        from ..services.complaints import guard

        challenge = guard.new_challenge(address)
    page = render_template(
        "fund/propose.html", market=market, error=error, challenge=challenge, form=request.form
    )
    return _public(page, cache=False), status


@bp.route(f"/p/<{SLUG}:slug>/fund/vote/<{ID}:vote_id>", methods=["GET", "POST"])
@limiter.limit(vote_limit, methods=["POST"], scope="fund-vote")
def public_vote(slug, vote_id):
    market = notice.market_by_slug(slug)
    vote = ballots.public_vote(market.organization_id, vote_id)
    cookie = RECEIPT_COOKIE.format(vote.id)
    error, status, receipt, changed = None, 200, None, False
    if request.method == "POST":
        typed = form_text("receipt", 20).strip()
        try:
            result = ballots.cast(
                vote,
                form_text("code", 40),
                form_text("choice", 10),
                at=now(),
                receipt_text=typed or request.cookies.get(cookie),
            )
        except DomainError as e:
            db.session.rollback()
            error, status = e, e.status
        else:
            db.session.commit()
            receipt, changed = result.receipt, result.changed
    org = db.session.get(Organization, market.organization_id)
    tz = zone_of(org)
    kept = request.cookies.get(cookie)
    page = render_template(
        "fund/public_vote.html",
        market=market,
        vote=vote,
        project=vote.project,
        turnout=ballots.turnout(vote),
        choices=ballots.CHOICE_LABELS,
        outcome_label=decisions.OUTCOME_LABELS,
        error=error,
        receipt=codes.display_receipt(receipt) if receipt else None,
        kept=codes.display_receipt(kept) if kept and codes.normalize_receipt(kept) else None,
        changed=changed,
        code=(request.form.get("code") or request.args.get("code") or "")[:20],
        closes=vote.closes_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        is_open=vote.state == "open" and now() < vote.closes_at,
    )
    response = _public(page, cache=False)
    response.status_code = status
    if receipt:
        response.set_cookie(
            cookie,
            receipt,
            max_age=60 * 60 * 24 * 90,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            path=url_for("fund.public_vote", slug=slug, vote_id=vote.id),
        )
    return response
