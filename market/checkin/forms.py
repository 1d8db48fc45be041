from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import HiddenInput

NONCE = Regexp(r"^[0-9a-f]{32}$")


class PostedForm(FlaskForm):
    """CSRFProtect already checks every POST app-wide; templates add csrf_field() once."""

    class Meta:
        csrf = False


class CheckInForm(PostedForm):
    """The one big button. The nonce makes a double tap or a resent form harmless."""

    # Hidden fields show no label: an empty one spares WTForms loading its translations on
    # every scan only to label them.
    nonce = HiddenField("", validators=[DataRequired(), NONCE])
    uses_power = BooleanField(_l("I use electricity tonight"))
    # Filled by static/js/geo.js when the phone shares its position; never required.
    latitude = FloatField("", widget=HiddenInput(), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(
        "", widget=HiddenInput(), validators=[Optional(), NumberRange(-180, 180)]
    )


class AmountForm(PostedForm):
    amount = StringField(
        _l("Amount (yuan)"),
        validators=[DataRequired(_l("Enter the amount."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


class CollectionCodeForm(AmountForm):
    reference = StringField(
        _l("Payment reference (last digits of the transaction number)"),
        validators=[Optional(), Length(max=64)],
        render_kw={"autocomplete": "off"},
    )


class ReasonAmountForm(AmountForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Say why.")), Length(max=200)])


class ReasonForm(PostedForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Say why.")), Length(max=200)])
