"""The cadre's reports: takings, occupancy, vendors' histories, hand-overs, the audit log."""

from flask import Blueprint

from ..services.common.tables import display
from ..services.reports.audit_labels import action_label, object_label

bp = Blueprint("reports", __name__, url_prefix="/reports")
# A global, not a context processor: the table macro is imported without the page's context.
bp.add_app_template_global(display, "report_cell")
bp.add_app_template_global(action_label, "audit_action_label")
bp.add_app_template_global(object_label, "audit_object_label")

from . import audit, views  # noqa: E402,F401  (audit registers its routes)


@bp.context_processor
def _markets():
    """The market picker on the report pages, when the cadre has more than one market."""
    return {"report_markets": views.managed_markets}
