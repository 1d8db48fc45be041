"""The guide's pages (引导员): the live board, a stall's panel, the shift and hand-over."""

from flask import Blueprint

bp = Blueprint("guide", __name__, url_prefix="/guide")

from . import register, shift, stalls, views  # noqa: E402,F401
