"""The public side of a stall's QR (the stall card) and the complaint loop."""

from flask import Blueprint

bp = Blueprint("complaints", __name__)

from . import staff, views  # noqa: E402,F401
