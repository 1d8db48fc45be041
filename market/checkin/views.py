from flask import render_template

from ..services import zoning
from . import bp


@bp.route("/s/<path:token>")
def scan(token: str):
    """The page behind every stall poster: open to everyone, no login needed to read it."""
    stall = zoning.stall_for_token(token)
    return render_template("checkin/scan.html", stall=stall, zone=stall.zone, market=stall.market)
