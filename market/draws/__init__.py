"""Stall draws (摇号): a cadre's rounds, a vendor's application, the public proof page."""

from flask import Blueprint

bp = Blueprint("draws", __name__)

from . import views  # noqa: E402,F401
