"""The cadre's stall zoning: markets, zones, stalls, the map and the QR posters."""

from flask import Blueprint

bp = Blueprint("zoning", __name__, url_prefix="/zoning")

from . import views  # noqa: E402,F401
