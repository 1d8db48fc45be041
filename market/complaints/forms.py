from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..services.complaints.filing import TEXT_MAX
from ..services.guide.incidents import RESOLUTION_MAX


class PostedForm(FlaskForm):
    """CSRFProtect checks every POST app-wide; templates add csrf_field() once."""

    class Meta:
        csrf = False


class ComplaintForm(PostedForm):
    """Length and kind are the service's rules (the API shares them); the form only collects."""

    kind = RadioField(_l("What is wrong?"), validate_choice=False)
    text = TextAreaField(
        _l("What happened?"),
        render_kw={"rows": 5, "maxlength": TEXT_MAX},
    )
    photo = FileField(
        _l("Photo (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )
    near = SelectField(_l("Where? (optional)"), validate_choice=False, validators=[Optional()])
    # The form's nonce: sending it twice files one complaint.
    nonce = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])
    challenge = HiddenField()
    answer = StringField(
        _l("Your answer"),
        validators=[Optional(), Length(max=4)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"},
    )


class ResponseForm(PostedForm):
    response = TextAreaField(
        _l("What was done (the complainant reads this)"),
        validators=[DataRequired(_l("Say what was done.")), Length(max=RESOLUTION_MAX)],
        render_kw={"rows": 3},
    )
