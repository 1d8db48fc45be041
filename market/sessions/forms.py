from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..formtools import REQUIRED, whole_number

KINDS = [
    SelectChoice("night", _l("Night market")),
    SelectChoice("morning", _l("Morning market")),
    SelectChoice("special", _l("Special session")),
]
WEEKDAYS = [
    SelectChoice(number, label)
    for number, label in enumerate(
        (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun")), start=1
    )
]
REASON_HINTS = ("暴雨", "大风", "道路施工", "春节休市", "上级检查", "停电")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=60)])
    kind = SelectField(_l("Kind"), choices=KINDS, validate_choice=False)
    # The service checks the weekdays (1–7), so a page and the API say the same thing.
    weekdays = CheckboxesField(_l("Weekdays"), choices=WEEKDAYS, coerce=int, validate_choice=False)
    # InputRequired, not DataRequired: "25:00" should say "not a valid time", not "required".
    start_local = TimeField(_l("Opens at"), validators=[InputRequired(REQUIRED)])
    end_local = TimeField(_l("Closes at"), validators=[InputRequired(REQUIRED)])
    cutoff_minutes = IntegerField(
        _l("Check-in cutoff for reserved stalls (minutes after opening)"),
        default=30,
        validators=whole_number(0, 24 * 60),
    )
    valid_from = DateField(_l("First date"), validators=[InputRequired(REQUIRED)])
    valid_until = DateField(_l("Last date (optional)"), validators=[Optional()])
    is_active = BooleanField(_l("Active"), default=True)


class CancelForm(FlaskForm):
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why.")), Length(max=200)],
        render_kw={"list": "cancel-reasons", "autocomplete": "off"},
    )


class ReopenForm(FlaskForm):
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why.")), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )


class ExtendForm(FlaskForm):
    until = TimeField(_l("New closing time"), validators=[InputRequired(REQUIRED)])


class ClosureForm(FlaskForm):
    first_date = DateField(_l("First date"), validators=[InputRequired(REQUIRED)])
    last_date = DateField(_l("Last date"), validators=[InputRequired(REQUIRED)])
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why.")), Length(max=200)],
        render_kw={"list": "cancel-reasons", "autocomplete": "off"},
    )


class ConfirmForm(FlaskForm):
    """An action button: only the CSRF token."""
