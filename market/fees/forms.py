from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..formtools import REQUIRED, whole_number
from ..services.vendors.registry import RELIEF_LABELS

YUAN = {"render_kw": {"inputmode": "decimal", "autocomplete": "off"}}


class FeeRuleForm(FlaskForm):
    zone_id = SelectField(_l("Zone"), validate_choice=False)
    session_kind = SelectField(
        _l("Session"),
        choices=[
            SelectChoice("", _l("All sessions")),
            SelectChoice("night", _l("Night market")),
            SelectChoice("morning", _l("Morning market")),
            SelectChoice("special", _l("Special session")),
        ],
    )
    base = StringField(_l("Stall fee (yuan)"), validators=[DataRequired(REQUIRED)], **YUAN)
    power = StringField(_l("Electricity (yuan, optional)"), default="0", **YUAN)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class ReliefRuleForm(FlaskForm):
    relief_kind = SelectField(
        _l("Relief"), choices=[SelectChoice(k, v) for k, v in RELIEF_LABELS.items()]
    )
    percent_off = IntegerField(
        _l("Percent off the stall fee (100 = free)"), validators=whole_number(0, 100)
    )


class PassForm(FlaskForm):
    stall_id = SelectField(_l("Stall"), coerce=int, validate_choice=False)
    vendor_id = SelectField(_l("Vendor"), coerce=int, validate_choice=False)
    month = StringField(
        _l("Month"),
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^\d{4}-\d{2}$", message=_l("Write the month as 2026-12.")),
        ],
        render_kw={"type": "month"},
    )
    amount = StringField(
        _l("Price for the month (yuan)"), validators=[DataRequired(REQUIRED)], **YUAN
    )
