from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    phone = StringField(
        _l("Mobile number"),
        validators=[DataRequired(_l("Enter your mobile number.")), Length(max=20)],
        render_kw={"inputmode": "tel", "autocomplete": "username", "maxlength": 20},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )


class NewPasswordForm(FlaskForm):
    """A new password, typed twice: the fields of every form that sets one."""

    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=128)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new", _l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )


class ResetPasswordForm(NewPasswordForm):
    """/login/reset: the phone, the code a guide or the office gave, a new password twice."""

    phone = StringField(
        _l("Mobile number"),
        validators=[DataRequired(_l("Enter your mobile number.")), Length(max=20)],
        render_kw={"inputmode": "tel", "autocomplete": "username", "maxlength": 20},
    )
    code = StringField(
        _l("Reset code (8 digits)"),
        validators=[DataRequired(_l("Enter the reset code.")), Length(max=20)],
        render_kw={
            "inputmode": "numeric",
            "autocomplete": "one-time-code",
            "maxlength": 20,
            "class": "code-input",
        },
    )


class IssueResetCodeForm(FlaskForm):
    phone_last4 = StringField(
        _l("Last four digits of their phone number"),
        validators=[DataRequired(_l("Ask the person for the last four digits.")), Length(max=8)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8},
    )
