"""The street office's pages: the supervisor's dashboard of every community side by side."""

from flask import Blueprint

from ..services.areas.questions import state_label
from .guard import refuse_supervisor_writes

bp = Blueprint("areas", __name__, url_prefix="/areas")
bp.before_app_request(refuse_supervisor_writes)
# Global: the community's own pages (its 等我处理 list) show questions' states too.
bp.add_app_template_global(state_label, "question_state_label")

from . import questions, views  # noqa: E402,F401
