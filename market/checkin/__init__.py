"""What a phone sees after scanning a stall's QR code (/s/<token>); check-in comes later."""

from flask import Blueprint

bp = Blueprint("checkin", __name__)

from . import views  # noqa: E402,F401
