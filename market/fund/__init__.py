"""The governance fund: the cadres' pages (/fund/…) and the residents' (/p/<slug>/fund…)."""

from flask import Blueprint

bp = Blueprint("fund", __name__)

from . import public, views  # noqa: E402,F401
