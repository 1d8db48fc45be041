from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired

from ..checkin.forms import NONCE


class OnceForm(FlaskForm):
    """A double tap or a resent form acts once: the page gives each form a fresh nonce, and a
    repeat of it gets the first answer back (services.common.idempotency)."""

    nonce = HiddenField(validators=[DataRequired(), NONCE])


class AskForm(OnceForm):
    """What the question is about comes from the link that opened the form (a flag, a month
    close, a day …); the community and the subject are checked by the service."""

    org = SelectField(_l("Community"), coerce=int)
    kind = HiddenField()
    subject = HiddenField()
    body = TextAreaField(_l("Your question"))  # the service checks it


class ReplyForm(OnceForm):
    body = TextAreaField(_l("Your reply to the street office"))


class FollowUpForm(OnceForm):
    body = TextAreaField(_l("What is still unclear"))


class AcceptForm(OnceForm):
    pass
