from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..formtools import REQUIRED
from ..services.vendors.registry import RELIEF_LABELS


class DetailsForm(FlaskForm):
    category = SelectField(_l("What do you sell?"), validate_choice=False)
    goods = StringField(
        _l("Your goods"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"placeholder": _l("e.g. barbecue, cold noodles")},
    )
    sells_food = BooleanField(_l("I sell food"))
    health_cert_no = StringField(
        _l("Health certificate number (健康证)"), validators=[Optional(), Length(max=40)]
    )
    health_cert_expires = DateField(_l("Health certificate valid until"), validators=[Optional()])
    health_cert_photo = FileField(_l("Photo of the health certificate (optional)"))
    relief_kind = SelectField(
        _l("Fee relief (optional)"),
        choices=[SelectChoice("", _l("None"))]
        + [SelectChoice(k, v) for k, v in RELIEF_LABELS.items()],
        default="",
    )
    relief_note = TextAreaField(
        _l("About your relief claim"), validators=[Optional(), Length(max=500)]
    )


class NewVendorForm(DetailsForm):
    """Who the new vendor is: the same fields whoever fills them in."""

    name = StringField(
        _l("Your name"),
        validators=[DataRequired(REQUIRED), Length(max=30)],
        render_kw={"autocomplete": "name"},
    )
    phone = StringField(
        _l("Mobile number"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    agree = BooleanField(_l("I have read and agree to the market rules"))


class RegisterForm(NewVendorForm):
    # Never sent back into the page: after an error it is typed again, not echoed.
    password = PasswordField(
        _l("Choose a password"),
        validators=[DataRequired(REQUIRED), Length(max=128)],
        render_kw={"autocomplete": "new-password"},
    )


class GuideRegisterForm(NewVendorForm):
    """The guide fills it in on her own phone for a vendor without a smartphone: no password
    (the vendor sets one later with a one-time code), and nothing for the browser to autofill
    from the guide's own details."""

    name = StringField(
        _l("Vendor's name"),
        validators=[DataRequired(REQUIRED), Length(max=30)],
        render_kw={"autocomplete": "off"},
    )
    phone = StringField(
        _l("Vendor's mobile number"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    agree = BooleanField(_l("I have read the market rules to the vendor and they agree"))


class DecisionForm(FlaskForm):
    reason = StringField(
        _l("Reason (shown to the vendor)"), validators=[Optional(), Length(max=200)]
    )
