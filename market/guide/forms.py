from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..checkin.forms import NONCE, PostedForm
from ..queryargs import ID_MAX
from ..services.guide.incidents import GUIDE_KINDS, KIND_LABELS


class NonceForm(PostedForm):
    """Every guide action carries a nonce: a double tap or a retried request acts once."""

    nonce = HiddenField(validators=[DataRequired(), NONCE])


class CashForm(NonceForm):
    amount = StringField(
        _l("Cash received (yuan)"),
        validators=[DataRequired(_l("Enter the amount."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


class MoveForm(NonceForm):
    to_stall = SelectField(_l("Move to stall"), coerce=int, validate_choice=False)


class GuideCheckInForm(NonceForm):
    vendor_id = IntegerField(
        widget=HiddenInput(), validators=[DataRequired(), NumberRange(min=1, max=ID_MAX)]
    )


class MoveHereForm(GuideCheckInForm):
    """Move a vendor already checked in at another stall tonight to this one."""


class RejectPaymentForm(NonceForm):
    reason = StringField(
        _l("Why (e.g. not on the statement)"),
        validators=[DataRequired(_l("Say why the payment is voided.")), Length(max=200)],
    )


class IncidentForm(NonceForm):
    kind = RadioField(
        _l("What is the problem?"),
        choices=[SelectChoice(k, KIND_LABELS[k]) for k in GUIDE_KINDS],
        validators=[DataRequired(_l("Choose what kind of problem it is."))],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
    photo = FileField(_l("Photo (optional)"), render_kw={"accept": "image/*"})


class ResolveForm(NonceForm):
    resolution = StringField(
        _l("What was done"),
        validators=[DataRequired(_l("Say what was done.")), Length(max=500)],
    )


class HandoverForm(NonceForm):
    amount = StringField(
        _l("Cash you hand over (yuan)"),
        validators=[DataRequired(_l("Enter the amount."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class ConfirmHandoverForm(NonceForm):
    """The cadre's count: never prefilled (a blind count); `compared` is set once the page
    has shown the records beside the count."""

    amount = StringField(
        _l("Cash you counted (yuan)"),
        validators=[DataRequired(_l("Count the cash and enter the amount."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    compared = HiddenField()
