"""The public notice board (公示): no login, for residents and the community's notice board."""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/p")

from . import views  # noqa: E402,F401
