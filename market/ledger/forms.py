from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..formtools import REQUIRED
from ..services.ledger.entries import KIND_LABELS
from ..services.ledger.expenses import PAID_FROM_LABELS

YUAN = {"render_kw": {"inputmode": "decimal", "autocomplete": "off"}}


class ExpenseForm(FlaskForm):
    account_id = SelectField(_l("Category"), coerce=int, validate_choice=False)
    amount = StringField(_l("Amount (yuan)"), validators=[DataRequired(REQUIRED)], **YUAN)
    spent_on = DateField(_l("Date paid"), validators=[DataRequired(REQUIRED)])
    description = StringField(_l("What for"), validators=[DataRequired(REQUIRED), Length(max=200)])
    paid_from = SelectField(
        _l("Paid from"), choices=[SelectChoice(k, v) for k, v in PAID_FROM_LABELS.items()]
    )
    receipt = FileField(_l("Photo of the receipt"))


class AccountForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(REQUIRED), Length(max=16)])
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=80)])
    # No kind is preselected: an expense category saved as an asset would skew every report.
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice("", _l("Choose…"))]
        + [SelectChoice(k, v) for k, v in KIND_LABELS.items()],
        validate_choice=False,  # the service names a bad or missing kind
    )


class MonthCloseForm(FlaskForm):
    month = SelectField(_l("Month"), validate_choice=False)
    # The figures the confirm step showed: the close refuses if they changed meanwhile.
    figures = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ApproveForm(FlaskForm):
    """Approving an expense; the box only when it takes the paying account below zero (the
    service refuses without it then). CSRFProtect checks the page's token app-wide."""

    class Meta:
        csrf = False

    acknowledge_negative = BooleanField(
        _l("I have checked: approve even though the account goes below zero")
    )


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Why is it rejected?"))  # the service checks it
