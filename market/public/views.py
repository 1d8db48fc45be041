from flask import current_app, render_template, url_for
from flask_babel import lazy_gettext as _l

from ..publicurl import local_only_base_url, public_base_url
from ..services.common.clock import now as clock_now
from ..services.complaints import stats as complaint_stats
from ..services.public import notice as public
from ..services.zoning import qr
from . import bp

SLUG = "string(maxlength=60)"
# Colours of the "where the money went" bar, in order; the last two are the fund and the rest.
PALETTE = ("#78716c", "#a16207", "#0e7490", "#7e22ce", "#be123c", "#4d7c0f")
USE_NAMES = {"governance": _l("Community governance fund"), "distributable": _l("Distributable")}
DAY_NAMES = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


def _page(slug: str, template: str, **extra):
    market = public.market_by_slug(slug)
    board = public.notice_board(market, clock_now())
    response = current_app.make_response(
        render_template(
            template,
            board=board,
            where_it_went=public.where_it_went,
            use_name=lambda name: USE_NAMES.get(name, name),
            palette=PALETTE,
            day_names=DAY_NAMES,
            complaint_counts=lambda month: complaint_stats.complaint_counts_for_month(
                market.id, month
            ),
            **extra,
        )
    )
    # Shared caches may keep it briefly: the same page for everyone, no personal data.
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.route(f"/<{SLUG}:slug>")
def board(slug):
    return _page(slug, "public/board.html")


@bp.route(f"/<{SLUG}:slug>/print")
def printable(slug):
    live = public_base_url().rstrip("/") + url_for("public.board", slug=slug)
    return _page(
        slug,
        "public/print.html",
        live_url=live,
        qr_svg=qr.qr_svg(live, live),
        local_base_url=local_only_base_url(),
    )
