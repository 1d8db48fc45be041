"""The vendor's pages (摊主)."""

from flask import Blueprint

bp = Blueprint("vendors", __name__, url_prefix="/vendors")

from . import review, views  # noqa: E402,F401
