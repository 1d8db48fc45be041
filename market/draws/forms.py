from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..formtools import REQUIRED, whole_number
from ..services.vendors.registry import RELIEF_LABELS

WHEN = {"render_kw": {"type": "datetime-local"}, "validators": [DataRequired(REQUIRED)]}


class RoundForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=80)])
    zone_id = SelectField(_l("All active stalls of a zone"), validate_choice=False)
    stall_codes = StringField(
        _l("Or these stalls (codes, separated by commas)"),
        validators=[Optional(), Length(max=2000)],
    )
    period = StringField(
        _l("First month"),
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^\d{4}-\d{2}$", message=_l("Write the month as 2026-12.")),
        ],
        render_kw={"type": "month"},
    )
    months = IntegerField(_l("Months (3 = a quarter)"), validators=whole_number(1, 12), default=1)
    fee = StringField(
        _l("Price per month (yuan)"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    opens_at = StringField(_l("Applications open"), **WHEN)
    closes_at = StringField(_l("Applications close"), **WHEN)
    draw_at = StringField(_l("Draw time (public)"), **WHEN)
    priority_kinds = SelectMultipleField(
        _l("Priority groups (confirmed relief)"),
        choices=[SelectChoice(k, v) for k, v in RELIEF_LABELS.items()],
        default=["low_income", "disability", "veteran"],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    quota_percent = IntegerField(
        _l("Priority quota (percent of the stalls)"), validators=whole_number(0, 100), default=20
    )
    ranked = BooleanField(_l("Applicants rank the stalls they prefer"))


class ApplyForm(FlaskForm):
    first = SelectField(_l("First choice"), validate_choice=False)
    second = SelectField(_l("Second choice"), validate_choice=False)
    third = SelectField(_l("Third choice"), validate_choice=False)


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=200)])
