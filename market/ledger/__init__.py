"""The cadre's ledger pages (账本): verify and chain head, balances, journal, expenses,
reconciled sessions and month close."""

from flask import Blueprint

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

from . import views  # noqa: E402,F401
