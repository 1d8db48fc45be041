from flask import render_template

from ..services import sessions, zoning
from ..services.clock import now
from ..services.errors import DomainError
from . import bp


@bp.route("/s/<path:token>")
def scan(token: str):
    """The page behind every stall poster: open to everyone, no login needed to read it."""
    stall = zoning.stall_for_token(token)
    try:
        status = sessions.market_status(stall.market, now())
    except DomainError:  # a market with a broken timezone: the stall page still shows
        status = None
    return render_template(
        "checkin/scan.html", stall=stall, zone=stall.zone, market=stall.market, status=status
    )
