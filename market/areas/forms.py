from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField


class AskForm(FlaskForm):
    """What the question is about comes from the link that opened the form (a flag, a month
    close, a day …); the community and the subject are checked by the service."""

    org = SelectField(_l("Community"), coerce=int)
    kind = HiddenField()
    subject = HiddenField()
    body = TextAreaField(_l("Your question"))  # the service checks it


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply to the street office"))


class FollowUpForm(FlaskForm):
    body = TextAreaField(_l("What is still unclear"))


class AcceptForm(FlaskForm):
    pass
