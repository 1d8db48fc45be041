"""The cadre's fee pages: fee rules, relief discounts, monthly passes."""

from flask import Blueprint

bp = Blueprint("fees", __name__, url_prefix="/fees")

from . import views  # noqa: E402,F401
