"""Cadre pages for market sessions: templates, the next two weeks, closures, one session."""

from flask import Blueprint

bp = Blueprint("sessions", __name__, url_prefix="/sessions")

from . import views  # noqa: E402,F401
